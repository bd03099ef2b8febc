"""The moderation JSON API (docs/moderation.md).

Always JSON, never a redirect to a login page: 401 when not signed in, 403
when not allowed. The moderator endpoints need an OTP-verified staff session
(core/staff.py) and the permission they name; refusals answer with the
status of core/refusals.py's one map.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from accounts.records import request_carrier
from core.jsonapi import json_object, json_view, staff_gate
from core.refusals import RefusalCode, Refused
from moderation import actions, queries
from moderation.actions import room_moderators
from moderation.models import ReportCategory
from rooms.api import member_gate
from rooms.models import Message, Room

SANCTION_PERMISSION = "moderation.add_sanction"
REPORT_VIEW_PERMISSION = "moderation.view_report"


def _flag(data: dict, name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise Refused(RefusalCode.INVALID, _("%(name)s est true ou false.") % {"name": name})
    return value


def _message(message_id) -> Message:
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        raise Refused(RefusalCode.INVALID, _("message est un identifiant (entier)."))
    message = Message.objects.filter(pk=message_id).select_related("room", "author").first()
    if message is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Message introuvable."))
    return message


def _room(slug) -> Room | None:
    if slug is None:
        return None
    if not isinstance(slug, str):
        raise Refused(RefusalCode.INVALID, _("room est l'identifiant d'un salon, ou null."))
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Ce salon n'existe pas."))
    return room


# --- members ---------------------------------------------------------------------------------


@json_view("POST", gate=member_gate)
def file_report(request: HttpRequest) -> JsonResponse:
    """POST /api/reports/ {"message": id} or {"user": name}, "category", "details"."""
    data = json_object(request)
    has_message, has_user = "message" in data, "user" in data
    if has_message == has_user:
        raise Refused(RefusalCode.INVALID, _("Indiquez soit message, soit user."))
    if not data.get("category"):
        # No default category: the reporter chooses (the gravest must not be a slip).
        raise Refused(RefusalCode.INVALID, _("Choisissez le motif du signalement (category)."))
    report = actions.do_file_report(
        actor=request.user,
        category=data.get("category"),
        details=data.get("details", ""),
        message=_message(data["message"]) if has_message else None,
        target_user=queries.user_named(data["user"]) if has_user else None,
        threat_to_life=_flag(data, "threat_to_life"),
    )
    return JsonResponse({"id": report.pk}, status=201)


@json_view("POST", gate=member_gate)
def file_alert(request: HttpRequest) -> JsonResponse:
    """POST /api/reports/alert/ {"room": slug, "details", "threat_to_life"}: the
    "Alerte" button of a direct conversation."""
    data = json_object(request)
    room = _room(data.get("room"))
    if room is None:
        raise Refused(RefusalCode.INVALID, _("Le champ room est requis."))
    report = actions.do_file_alert(
        room,
        actor=request.user,
        details=data.get("details", ""),
        threat_to_life=_flag(data, "threat_to_life"),
    )
    return JsonResponse({"id": report.pk}, status=201)


# --- moderators --------------------------------------------------------------------------------


def _ground(data: dict):
    """The decision's ground: absent, the documented default (docs/moderation.md);
    sent empty (a form left on its blank choice), refused rather than guessed."""
    if "ground" in data and not data["ground"]:
        raise Refused(RefusalCode.INVALID, _("Choisissez le fondement de la décision (ground)."))
    return data.get("ground")


@json_view("POST", gate=staff_gate(SANCTION_PERMISSION))
def issue_sanction(request: HttpRequest) -> JsonResponse:
    """POST /api/moderation/sanctions/ {"user", "kind", "room", "duration_minutes", "reason"},
    optionally "ground", "clause" (a rule's code, "R4"), for illegal content
    "legal_provision" (a code of moderation/legal_provisions.py) and, with a ban,
    "purge_hours": hide the person's messages of the last N hours everywhere
    (docs/moderation.md, "Bannir et purger")."""
    data = json_object(request)
    decision = {
        "actor": request.user,
        "room": _room(data.get("room")),
        "duration_minutes": data.get("duration_minutes"),
        "reason": data.get("reason"),
        "ground": _ground(data),
        "clause": data.get("clause"),
        "legal_provision": data.get("legal_provision"),
    }
    purged = None
    if data.get("purge_hours") is None:
        sanction = actions.do_issue_sanction(
            queries.user_named(data.get("user")), kind=data.get("kind"), **decision
        )
    else:
        # Ban and purge (docs/moderation.md): only with a ban.
        if data.get("kind") != "ban":
            raise Refused(RefusalCode.INVALID, _("purge_hours ne s'emploie qu'avec kind \"ban\"."))
        sanction = actions.do_ban_and_purge(
            queries.user_named(data.get("user")),
            purge_hours=data["purge_hours"],
            via=request_carrier(request),
            **decision,
        )
        purged = len(sanction.statement.purged_messages)
    return JsonResponse(
        {
            "id": sanction.pk,
            "user": sanction.user.get_username(),
            "kind": sanction.kind,
            "room": sanction.room.slug if sanction.room else None,
            "starts_at": sanction.starts_at.isoformat(),
            "ends_at": sanction.ends_at.isoformat() if sanction.ends_at else None,
            "ground": sanction.ground,
            "clause": sanction.clause or None,
            "legal_provision": sanction.statement.legal_provision or None,
            **({"purged_messages": purged} if purged is not None else {}),
        },
        status=201,
    )


@json_view("DELETE", gate=staff_gate(SANCTION_PERMISSION))
def remove_message(request: HttpRequest, message_id: int) -> HttpResponse:
    """DELETE /api/moderation/messages/<id>/ {"reason"}, optionally "ground", "clause"
    and "legal_provision"."""
    data = json_object(request)
    actions.do_remove_message(
        _message(message_id),
        actor=request.user,
        reason=data.get("reason"),
        ground=_ground(data),
        clause=data.get("clause"),
        legal_provision=data.get("legal_provision"),
        via=request_carrier(request),
    )
    return HttpResponse(status=204)


@json_view("GET", gate=staff_gate(REPORT_VIEW_PERMISSION))
def queue(request: HttpRequest) -> JsonResponse:
    """GET /api/moderation/queue/: the counts behind the moderators' badge."""
    return JsonResponse(queries.queue_counts())


# --- room moderators ---------------------------------------------------------------------------


def _moderated_room(slug: str) -> Room:
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Ce salon n'existe pas."))
    return room


@json_view("GET", gate=member_gate)
def room_moderation(request: HttpRequest, slug: str) -> JsonResponse:
    """GET /api/rooms/<slug>/moderation/: what the moderator's menu needs (the
    durations to choose from); the same refusals as the measures themselves."""
    room = _moderated_room(slug)
    refusal = actions.room_moderator_refusal(request.user, room)
    if refusal is not None:
        raise refusal
    return JsonResponse(
        {
            "room": room.slug,
            "role": room_moderators.room_role(request.user, room),
            "durations": room_moderators.duration_choices(),
            "categories": [value for value, _label in ReportCategory.choices],
        }
    )


@json_view("POST", gate=member_gate)
def room_hide_message(request: HttpRequest, slug: str) -> JsonResponse:
    """POST /api/rooms/<slug>/moderation/hide/ {"message": id, "reason", "clause"?}."""
    data = json_object(request)
    room = _moderated_room(slug)
    refusal = actions.room_moderator_refusal(request.user, room)
    if refusal is not None:
        raise refusal
    action = actions.do_hide_message_as_room_moderator(
        _message(data.get("message")),
        actor=request.user,
        room=room,
        reason=data.get("reason"),
        clause=data.get("clause"),
        via=request_carrier(request),
    )
    return JsonResponse({"id": action.pk, "kind": action.kind}, status=201)


@json_view("POST", gate=member_gate)
def room_restrict_member(request: HttpRequest, slug: str) -> JsonResponse:
    """POST /api/rooms/<slug>/moderation/restrict/ {"user", "kind": "mute"|"kick",
    "duration_minutes", "reason", "clause"?}."""
    data = json_object(request)
    room = _moderated_room(slug)
    refusal = actions.room_moderator_refusal(request.user, room)
    if refusal is not None:
        raise refusal
    action = actions.do_restrict_member_as_room_moderator(
        queries.user_named(data.get("user")),
        actor=request.user,
        room=room,
        kind=data.get("kind"),
        duration_minutes=data.get("duration_minutes"),
        reason=data.get("reason"),
        clause=data.get("clause"),
    )
    sanction = action.sanction
    return JsonResponse(
        {
            "id": action.pk,
            "kind": action.kind,
            "user": sanction.user.get_username(),
            "ends_at": sanction.ends_at.isoformat(),
        },
        status=201,
    )


@json_view("POST", gate=member_gate)
def room_escalate(request: HttpRequest, slug: str) -> JsonResponse:
    """POST /api/rooms/<slug>/moderation/escalate/ {"message": id} or {"user": name},
    "category", "note": a report into the staff queue, marked as a room moderator's."""
    data = json_object(request)
    room = _moderated_room(slug)
    refusal = actions.room_moderator_refusal(request.user, room)
    if refusal is not None:
        raise refusal
    has_message, has_user = "message" in data, "user" in data
    if has_message == has_user:
        raise Refused(RefusalCode.INVALID, _("Indiquez soit message, soit user."))
    action = actions.do_escalate_to_staff(
        actor=request.user,
        room=room,
        note=data.get("note"),
        category=data.get("category"),
        message=_message(data["message"]) if has_message else None,
        target_user=queries.user_named(data["user"]) if has_user else None,
    )
    return JsonResponse({"id": action.pk, "report": action.report_id}, status=201)
