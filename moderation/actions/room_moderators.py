"""A room's owner and moderators moderate their own room (docs/moderation.md,
"Modérateurs de salon"): hide a message, mute or kick a member for a while,
hand a matter to staff; staff list these measures and reverse them.

Community moderators act through the same parts as staff (the removal, the
sanction and the statement of reasons of removals.py, sanctions.py and
statements.py), so the member is told the same way and the sockets react the
same way; each measure is also one `RoomModeratorAction` row and one
`ROOM_MODERATOR_ACTED` entry naming the room and the actor's role there.
"""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from core.staff import is_otp_verified
from moderation import queries
from moderation.actions.common import _absolute, _decision_basis, _mail, _require_text
from moderation.actions.removals import _remove_message
from moderation.actions.reports import _audit_report, _file_report
from moderation.actions.sanctions import _issue_sanction, _lift
from moderation.app_settings import app_settings
from moderation.models import (
    DETAILS_MAX_LENGTH,
    REASON_MAX_LENGTH,
    Ground,
    ReportCategory,
    ReportSource,
    RoomModeratorAction,
    RoomModeratorActionKind,
    Sanction,
    SanctionKind,
)
from rooms import actions as room_actions
from rooms.models import Message, Room, RoomMembership, RoomRole

ROOM_ACTION_TARGET = "moderation.roommoderatoraction"
MODERATOR_ROLES = (RoomRole.OWNER, RoomRole.MODERATOR)


def room_role(user, room: Room) -> str | None:
    """The user's role in the room if they may moderate it (owner or moderator), else None."""
    if user is None or not user.is_authenticated or room.is_direct:
        return None
    return (
        RoomMembership.objects.filter(room=room, user=user, role__in=MODERATOR_ROLES)
        .values_list("role", flat=True)
        .first()
    )


def room_moderator_refusal(user, room: Room) -> Refused | None:
    """None when `user` may moderate `room` now: its owner or one of its
    moderators, active, whose session passed the second factor. The one rule,
    asked by every room moderator's action."""
    if user is None or not user.is_authenticated:
        return Refused(RefusalCode.NOT_AUTHENTICATED, _("Connectez-vous."))
    if not user.is_active or room_role(user, room) is None:
        return Refused(
            RefusalCode.FORBIDDEN, _("Réservé au propriétaire et aux modérateurs de ce salon.")
        )
    if not is_otp_verified(user):
        return Refused(
            RefusalCode.OTP_REQUIRED,
            _(
                "Pour modérer, validez d'abord votre double authentification : %(url)s "
                "(une application d'authentification, installée en une minute)."
            )
            % {"url": _absolute(reverse("accounts_member_otp"))},
        )
    return None


def _require_room_moderator(user, room: Room) -> str:
    refusal = room_moderator_refusal(user, room)
    if refusal is not None:
        raise refusal
    return room_role(user, room)


def _check_target(target, *, actor, actor_role: str, room: Room) -> None:
    """A room moderator acts on members only: never on themself, on staff, on
    the owner, nor (unless they are the owner) on another moderator."""
    if target is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Utilisateur introuvable."))
    if target.pk == actor.pk:
        raise Refused(RefusalCode.INVALID, _("Vous ne pouvez pas vous sanctionner vous-même."))
    if target.is_staff:
        raise Refused(
            RefusalCode.FORBIDDEN, _("Un modérateur de salon n'agit pas sur l'équipe de Chatsite.")
        )
    target_role = room_role(target, room)
    if target_role == RoomRole.OWNER:
        raise Refused(
            RefusalCode.FORBIDDEN, _("Un modérateur de salon n'agit pas sur son propriétaire.")
        )
    if target_role == RoomRole.MODERATOR and actor_role != RoomRole.OWNER:
        raise Refused(
            RefusalCode.FORBIDDEN,
            _("Seul le propriétaire du salon agit sur un autre modérateur."),
        )


def _check_rate(actor) -> None:
    since = timezone.now() - timedelta(hours=1)
    done = RoomModeratorAction.objects.filter(actor=actor, created__gte=since).count()
    if done >= app_settings.ROOM_MODERATOR_ACTIONS_PER_HOUR:
        raise Refused(
            RefusalCode.RATE_LIMITED,
            _("Trop de mesures en une heure : réessayez plus tard, ou transmettez à l'équipe."),
        )


def duration_choices() -> list[int]:
    """The durations, in minutes, a room moderator chooses from (settings)."""
    longest = app_settings.ROOM_MODERATOR_MAX_MINUTES
    return sorted({m for m in app_settings.ROOM_MODERATOR_DURATIONS if 0 < m <= longest})


def _room_message(message: Message, room: Room) -> Message:
    if message is None or message.room_id != room.pk or message.deleted_at is not None:
        raise Refused(RefusalCode.NOT_FOUND, _("Message introuvable."))
    return message


def _log(
    kind: str,
    *,
    actor,
    role: str,
    room: Room,
    reason: str,
    target_user=None,
    message: Message | None = None,
    sanction: Sanction | None = None,
    statement=None,
    report=None,
) -> RoomModeratorAction:
    action = RoomModeratorAction.objects.create(
        room=room,
        actor=actor,
        role=role,
        kind=kind,
        target_user=target_user,
        message=message,
        sanction=sanction,
        statement=statement,
        report=report,
        reason=reason,
    )
    record(
        AuditEvent.ROOM_MODERATOR_ACTED,
        actor=actor,
        target_type=ROOM_ACTION_TARGET,
        target_id=action.pk,
        reason=reason,
        details={
            "kind": kind,
            "room": room.pk,
            "role": role,
            "user": target_user.pk if target_user is not None else None,
            "message": message.pk if message is not None else None,
            "sanction": sanction.pk if sanction is not None else None,
            "report": report.pk if report is not None else None,
        },
    )
    return action


@transaction.atomic(durable=True)
def do_hide_message_as_room_moderator(
    message: Message,
    *,
    actor,
    room: Room,
    reason,
    clause=None,
    via: Carrier | None = None,
) -> RoomModeratorAction:
    """Hides a message of the room (POST /api/rooms/<slug>/moderation/hide/): the
    author gets a statement of reasons, the room sees it go (`message.deleted`)."""
    role = _require_room_moderator(actor, room)
    message = _room_message(message, room)
    _check_target(message.author, actor=actor, actor_role=role, room=room)
    _check_rate(actor)
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    # The law is staff's to apply: a room moderator cites a community rule.
    ground, clause, _provision = _decision_basis(
        None, clause, None, default_ground=Ground.TERMS_OTHER
    )
    statement = _remove_message(
        message,
        actor=actor,
        reason=reason,
        ground=ground,
        clause=clause,
        via=via,
        room_moderator=True,
    )
    if statement is None:
        raise Refused(RefusalCode.CONFLICT, _("Ce message est déjà masqué."))
    return _log(
        RoomModeratorActionKind.HIDE,
        actor=actor,
        role=role,
        room=room,
        reason=reason,
        target_user=message.author,
        message=message,
        statement=statement,
    )


@transaction.atomic(durable=True)
def do_restrict_member_as_room_moderator(
    user,
    *,
    actor,
    room: Room,
    kind,
    duration_minutes,
    reason,
    clause=None,
) -> RoomModeratorAction:
    """Mutes or kicks a member from the room for one of the allowed durations
    (POST /api/rooms/<slug>/moderation/restrict/). Open sockets react at once:
    a `restriction` frame for a mute, 4403 for a kick (sanctions.py)."""
    role = _require_room_moderator(actor, room)
    _check_target(user, actor=actor, actor_role=role, room=room)
    if kind not in (SanctionKind.MUTE, SanctionKind.KICK):
        raise Refused(RefusalCode.INVALID, _("Mesure inconnue : mute ou kick."))
    choices = duration_choices()
    if isinstance(duration_minutes, bool) or duration_minutes not in choices:
        raise Refused(
            RefusalCode.INVALID,
            _("duration_minutes est l'une de ces durées, en minutes : %(choices)s.")
            % {"choices": ", ".join(str(m) for m in choices)},
        )
    _check_rate(actor)
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    ground, clause, _provision = _decision_basis(
        None, clause, None, default_ground=Ground.TERMS_OTHER
    )
    sanction = _issue_sanction(
        user,
        actor=actor,
        kind=kind,
        reason=reason,
        room=room,
        duration_minutes=duration_minutes,
        ground=ground,
        clause=clause,
        room_moderator=True,
    )
    return _log(
        kind,
        actor=actor,
        role=role,
        room=room,
        reason=reason,
        target_user=user,
        sanction=sanction,
        statement=sanction.statement,
    )


@transaction.atomic(durable=True)
def do_escalate_to_staff(
    *,
    actor,
    room: Room,
    note,
    category,
    message: Message | None = None,
    target_user=None,
) -> RoomModeratorAction:
    """ "Transmettre à l'équipe": files a report into the staff queue with the
    moderator's note, marked as coming from a room moderator
    (POST /api/rooms/<slug>/moderation/escalate/)."""
    role = _require_room_moderator(actor, room)
    if category not in ReportCategory.values:
        raise Refused(RefusalCode.INVALID, _("Catégorie de signalement inconnue."))
    note = _require_text(note, "note", DETAILS_MAX_LENGTH)
    if (message is None) == (target_user is None):
        raise Refused(RefusalCode.INVALID, _("Indiquez soit message, soit user."))
    if message is not None:
        message = _room_message(message, room)
        target_user = message.author
        context = queries.context_around(message)
    else:
        context = queries.recent_messages_of(target_user, seen_by=actor)
    if target_user.pk == actor.pk:
        raise Refused(RefusalCode.INVALID, _("Vous ne pouvez pas vous signaler vous-même."))
    _check_rate(actor)
    report = _file_report(
        category=category,
        source=ReportSource.ROOM_MODERATOR,
        reporter=actor,
        details=note,
        message=message,
        target_user=target_user,
        room=room,
        context=context,
    )
    _audit_report(report, actor=actor)
    return _log(
        RoomModeratorActionKind.ESCALATE,
        actor=actor,
        role=role,
        room=room,
        reason=note,
        target_user=target_user,
        message=message,
        report=report,
    )


@transaction.atomic(durable=True)
def do_reverse_room_moderator_action(
    action: RoomModeratorAction, *, actor, reason
) -> RoomModeratorAction:
    """Staff undo a room moderator's measure (the back office's "Actions des
    modérateurs de salon"): the message comes back, the sanction is lifted, the
    member is told by e-mail. An escalation is not undone here: its report is
    decided in the queue."""
    action = (
        RoomModeratorAction.objects.select_for_update(of=("self",))
        .select_related("target_user", "room")
        .get(pk=action.pk)
    )
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    if action.reversed_at is not None:
        raise Refused(RefusalCode.CONFLICT, _("Cette mesure est déjà annulée."))
    if action.kind == RoomModeratorActionKind.ESCALATE:
        raise Refused(
            RefusalCode.INVALID_STATUS,
            _("Une transmission à l'équipe se traite dans la file des signalements."),
        )
    if action.kind == RoomModeratorActionKind.HIDE and action.message_id is not None:
        room_actions.restore_message(
            room_actions.locked_message(action.message_id), actor=actor, reason=reason
        )
    if action.sanction_id is not None:
        sanction = Sanction.objects.select_for_update().get(pk=action.sanction_id)
        if sanction.lifted_at is None:
            _lift(sanction, actor=actor, reason=reason)
    action.reversed_at = timezone.now()
    action.reversed_by = actor
    action.reversal_reason = reason
    action.save(update_fields=["reversed_at", "reversed_by", "reversal_reason"])
    record(
        AuditEvent.ROOM_MODERATOR_ACTION_REVERSED,
        actor=actor,
        target_type=ROOM_ACTION_TARGET,
        target_id=action.pk,
        reason=reason,
        details={
            "kind": action.kind,
            "room": action.room_id,
            "user": action.target_user_id,
            "message": action.message_id,
            "sanction": action.sanction_id,
        },
    )
    if action.target_user is not None:
        url = (
            action.statement.get_absolute_url()
            if action.statement_id
            else reverse("moderation:decisions")
        )
        transaction.on_commit(
            partial(
                _mail,
                action.target_user.email,
                _("Chatsite : une mesure prise contre vous est annulée"),
                "moderation/email/room_action_reversed.txt",
                {"action": action, "reason": reason, "url": _absolute(url)},
            )
        )
    return action


def _mark_reversed_on_appeal(statement, *, actor, reason, appeal_id: int) -> int:
    """Inside an appeal's reversal (appeals.do_decide_appeal): the room
    moderators' measures that `statement` explains are marked reversed, as the
    back office's reversal marks them, with one ROOM_MODERATOR_ACTION_REVERSED
    entry each naming the appeal. The appeal undoes the measure itself and
    answers the member; this only keeps the room's record true."""
    actions = list(
        RoomModeratorAction.objects.select_for_update(of=("self",))
        .filter(statement=statement, reversed_at__isnull=True)
        .order_by("pk")
    )
    now = timezone.now()
    for action in actions:
        action.reversed_at = now
        action.reversed_by = actor
        action.reversal_reason = reason
        action.save(update_fields=["reversed_at", "reversed_by", "reversal_reason"])
        record(
            AuditEvent.ROOM_MODERATOR_ACTION_REVERSED,
            actor=actor,
            target_type=ROOM_ACTION_TARGET,
            target_id=action.pk,
            reason=reason,
            details={
                "kind": action.kind,
                "room": action.room_id,
                "user": action.target_user_id,
                "message": action.message_id,
                "sanction": action.sanction_id,
                "appeal": appeal_id,
            },
        )
    return len(actions)
