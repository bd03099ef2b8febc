"""The plumbing every JSON endpoint shares (rooms, moderation): always JSON,
never a redirect to a login page; the allowed methods, a gate, CSRF for unsafe
methods, then the view, whose refusals become JSON errors.

Each app keeps its own gate (members, or OTP-verified staff) and its own
mapping from its refusal exceptions to HTTP statuses.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from rooms import policy
from rooms.protocol import CloseCode

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_REQUEST_BODY = 64 * 1024

Gate = Callable[[HttpRequest], JsonResponse | None]
# Turns an app's refusal exception into its JSON answer.
RefusalHandler = Callable[[Exception], JsonResponse]


class InvalidBody(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def csrf_failure(request: HttpRequest) -> bool:
    # The middleware's own check, run here so that a failure answers JSON 403
    # instead of the site-wide HTML page.
    return CsrfViewMiddleware(lambda req: None).process_view(request, None, (), {}) is not None


def member_gate(request: HttpRequest) -> JsonResponse | None:
    """The account gate of accounts/gates.py: 401 not signed in, 403 otherwise."""
    verdict = policy.account_verdict(request.user)
    if verdict:
        return None
    if verdict.close_code == CloseCode.NOT_AUTHENTICATED:
        return error(401, "not_authenticated", verdict.detail)
    return error(403, "forbidden", verdict.detail)


def json_view(
    *methods: str,
    gate: Gate,
    refusals: tuple[type[Exception], ...],
    on_refusal: RefusalHandler,
) -> Callable:
    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = error(405, "method_not_allowed", _("Méthode non autorisée."))
                response["Allow"] = ", ".join(methods)
                return response
            refusal = gate(request)
            if refusal is not None:
                return refusal
            if request.method not in SAFE_METHODS and csrf_failure(request):
                return error(403, "csrf", _("Jeton CSRF absent ou invalide (en-tête X-CSRFToken)."))
            try:
                return view(request, *args, **kwargs)
            except InvalidBody as invalid:
                return error(400, "invalid", invalid.detail)
            except refusals as refused:
                return on_refusal(refused)

        return wrapper

    return decorator


def json_object(request: HttpRequest) -> dict:
    """The request body as a JSON object, or InvalidBody (400)."""
    if len(request.body) > MAX_REQUEST_BODY:
        raise InvalidBody(_("Requête trop volumineuse."))
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise InvalidBody(_("Le corps de la requête n'est pas du JSON valide.")) from None
    if not isinstance(data, dict):
        raise InvalidBody(_("Un objet JSON est attendu."))
    return data
