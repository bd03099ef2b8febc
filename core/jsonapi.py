"""The plumbing every JSON endpoint shares (rooms, moderation): always JSON,
never a redirect to a login page; the allowed methods, a gate, CSRF for unsafe
methods, then the view, whose `Refused` becomes a JSON error with the status
of core/refusals.py's one map.

Each app brings its own gate: members (rooms/api.py `member_gate`) or
OTP-verified staff (`staff_gate` below).
"""

import json
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from core.refusals import RefusalCode, Refused
from core.staff import AUTHORITY_CODES, report_staff_refusal, staff_refusal

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_REQUEST_BODY = 64 * 1024

Gate = Callable[[HttpRequest], JsonResponse | None]


def error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": str(code), "detail": detail}, status=status)


def refusal_response(refusal: Refused) -> JsonResponse:
    return error(refusal.http_status, refusal.code, refusal.detail)


def csrf_failure(request: HttpRequest) -> bool:
    # The middleware's own check, run here so that a failure answers JSON 403
    # instead of the site-wide HTML page.
    return CsrfViewMiddleware(lambda req: None).process_view(request, None, (), {}) is not None


def staff_gate(permission: str | None = None) -> Gate:
    """OTP-verified staff holding `permission` (core/staff.py), as JSON refusals."""

    def gate(request: HttpRequest) -> JsonResponse | None:
        refusal = staff_refusal(request.user, permission)
        if refusal is None:
            return None
        report_staff_refusal(request, refusal, surface=request.path)
        return refusal_response(refusal)

    gate.staff = True
    return gate


def json_view(*methods: str, gate: Gate) -> Callable:
    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = error(405, RefusalCode.METHOD_NOT_ALLOWED, _("Méthode non autorisée."))
                response["Allow"] = ", ".join(methods)
                return response
            refusal = gate(request)
            if refusal is not None:
                return refusal
            if request.method not in SAFE_METHODS and csrf_failure(request):
                return error(
                    403,
                    RefusalCode.CSRF,
                    _("Jeton CSRF absent ou invalide (en-tête X-CSRFToken)."),
                )
            try:
                return view(request, *args, **kwargs)
            except Refused as refused:
                if getattr(gate, "staff", False) and refused.code in AUTHORITY_CODES:
                    # A staff API's action said no to this staff member: audited once.
                    report_staff_refusal(request, refused, surface=request.path)
                return refusal_response(refused)

        return wrapper

    return decorator


def json_object(request: HttpRequest) -> dict:
    """The request body as a JSON object, or a refusal (`invalid`, 400)."""
    if len(request.body) > MAX_REQUEST_BODY:
        raise Refused(RefusalCode.INVALID, _("Requête trop volumineuse."))
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise Refused(
            RefusalCode.INVALID, _("Le corps de la requête n'est pas du JSON valide.")
        ) from None
    if not isinstance(data, dict):
        raise Refused(RefusalCode.INVALID, _("Un objet JSON est attendu."))
    return data
