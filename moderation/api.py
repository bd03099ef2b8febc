"""The moderation JSON API (CONTRACT.md, docs/moderation.md).

Always JSON, never a redirect to a login page: 401 when not signed in, 403
when not allowed. The moderator endpoints need an OTP-verified staff session
(django-otp's OTPMiddleware sets `is_verified`) and the permission they name.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from moderation import actions, queries
from moderation.actions import ModerationError
from rooms import policy
from rooms.models import Message, Room
from rooms.protocol import CloseCode

MAX_REQUEST_BODY = 64 * 1024
SANCTION_PERMISSION = "moderation.add_sanction"
REPORT_VIEW_PERMISSION = "moderation.view_report"
ERROR_STATUS = {
    "invalid": 400,
    "forbidden": 403,
    "suspended": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
}


def error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _csrf_failure(request: HttpRequest) -> bool:
    # The middleware's own check, so that a failure answers JSON, not HTML.
    return CsrfViewMiddleware(lambda req: None).process_view(request, None, (), {}) is not None


def _member_gate(request: HttpRequest) -> JsonResponse | None:
    verdict = policy.account_verdict(request.user)
    if verdict:
        return None
    if verdict.close_code == CloseCode.NOT_AUTHENTICATED:
        return error(401, "not_authenticated", verdict.detail)
    return error(403, "forbidden", verdict.detail)


def _staff_gate(permission: str) -> Callable[[HttpRequest], JsonResponse | None]:
    def gate(request: HttpRequest) -> JsonResponse | None:
        user = request.user
        if not user.is_authenticated:
            return error(401, "not_authenticated", _("Connectez-vous."))
        if not user.is_active or not user.is_staff:
            return error(403, "forbidden", _("Réservé à l'équipe de modération."))
        if not user.is_verified():
            return error(
                403, "otp_required", _("Validez d'abord votre double authentification (/admin/).")
            )
        if not user.has_perm(permission):
            return error(403, "forbidden", _("Vous n'avez pas la permission nécessaire."))
        return None

    return gate


def json_view(*methods: str, gate: Callable[[HttpRequest], JsonResponse | None]) -> Callable:
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
            if request.method not in ("GET", "HEAD", "OPTIONS") and _csrf_failure(request):
                return error(403, "csrf", _("Jeton CSRF absent ou invalide (en-tête X-CSRFToken)."))
            try:
                return view(request, *args, **kwargs)
            except ModerationError as refusal:
                return error(ERROR_STATUS.get(refusal.code, 400), refusal.code, refusal.detail)

        return wrapper

    return decorator


def json_body(request: HttpRequest) -> dict:
    if len(request.body) > MAX_REQUEST_BODY:
        raise ModerationError("invalid", _("Requête trop volumineuse."))
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ModerationError(
            "invalid", _("Le corps de la requête n'est pas du JSON valide.")
        ) from None
    if not isinstance(data, dict):
        raise ModerationError("invalid", _("Un objet JSON est attendu."))
    return data


def _flag(data: dict, name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ModerationError("invalid", _("%(name)s est true ou false.") % {"name": name})
    return value


def _message(message_id) -> Message:
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        raise ModerationError("invalid", _("message est un identifiant (entier)."))
    message = Message.objects.filter(pk=message_id).select_related("room", "author").first()
    if message is None:
        raise ModerationError("not_found", _("Message introuvable."))
    return message


def _room(slug) -> Room | None:
    if slug is None:
        return None
    if not isinstance(slug, str):
        raise ModerationError("invalid", _("room est l'identifiant d'un salon, ou null."))
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise ModerationError("not_found", _("Ce salon n'existe pas."))
    return room


# --- members ---------------------------------------------------------------------------------


@json_view("POST", gate=_member_gate)
def file_report(request: HttpRequest) -> JsonResponse:
    """POST /api/reports/ {"message": id} or {"user": name}, "category", "details"."""
    data = json_body(request)
    has_message, has_user = "message" in data, "user" in data
    if has_message == has_user:
        raise ModerationError("invalid", _("Indiquez soit message, soit user."))
    report = actions.do_file_report(
        actor=request.user,
        category=data.get("category"),
        details=data.get("details", ""),
        message=_message(data["message"]) if has_message else None,
        target_user=actions.user_named(data["user"]) if has_user else None,
        threat_to_life=_flag(data, "threat_to_life"),
    )
    return JsonResponse({"id": report.pk}, status=201)


@json_view("POST", gate=_member_gate)
def file_alert(request: HttpRequest) -> JsonResponse:
    """POST /api/reports/alert/ {"room": slug, "details", "threat_to_life"}: the
    "Alerte" button of a direct conversation."""
    data = json_body(request)
    room = _room(data.get("room"))
    if room is None:
        raise ModerationError("invalid", _("Le champ room est requis."))
    report = actions.do_file_alert(
        room,
        actor=request.user,
        details=data.get("details", ""),
        threat_to_life=_flag(data, "threat_to_life"),
    )
    return JsonResponse({"id": report.pk}, status=201)


# --- moderators --------------------------------------------------------------------------------


@json_view("POST", gate=_staff_gate(SANCTION_PERMISSION))
def issue_sanction(request: HttpRequest) -> JsonResponse:
    """POST /api/moderation/sanctions/ {"user", "kind", "room", "duration_minutes", "reason"}."""
    data = json_body(request)
    sanction = actions.do_issue_sanction(
        actions.user_named(data.get("user")),
        actor=request.user,
        kind=data.get("kind"),
        room=_room(data.get("room")),
        duration_minutes=data.get("duration_minutes"),
        reason=data.get("reason"),
        ground=data.get("ground"),
    )
    return JsonResponse(
        {
            "id": sanction.pk,
            "user": sanction.user.get_username(),
            "kind": sanction.kind,
            "room": sanction.room.slug if sanction.room else None,
            "starts_at": sanction.starts_at.isoformat(),
            "ends_at": sanction.ends_at.isoformat() if sanction.ends_at else None,
        },
        status=201,
    )


@json_view("DELETE", gate=_staff_gate(SANCTION_PERMISSION))
def remove_message(request: HttpRequest, message_id: int) -> HttpResponse:
    """DELETE /api/moderation/messages/<id>/ {"reason"}."""
    data = json_body(request)
    actions.do_remove_message(
        _message(message_id),
        actor=request.user,
        reason=data.get("reason"),
        ground=data.get("ground"),
    )
    return HttpResponse(status=204)


@json_view("GET", gate=_staff_gate(REPORT_VIEW_PERMISSION))
def queue(request: HttpRequest) -> JsonResponse:
    """GET /api/moderation/queue/: the counts behind the moderators' badge."""
    return JsonResponse(queries.queue_counts())
