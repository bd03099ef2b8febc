"""Ban and purge: one decision that bans a person and hides what they wrote lately.

A raid or a spam wave leaves dozens of messages in many rooms. The moderator
bans the person (site-wide or in a room, for a time or for good, through the
sanction's own path) and, in the same transaction, hides every message of
theirs of the last N hours wherever it was posted: public rooms, private rooms,
direct conversations. Hidden, not deleted: the rows, their texts and their
versions stay for appeals, legal holds and requisitions (docs/moderation.md,
"Bannir et purger").

One decision, one statement of reasons (DSA Art. 17): the ban's, whose facts
give the count and the rooms, and which names the hidden messages
(`StatementOfReasons.purged_messages`, their ids), so that the Transparency Database
export declares both restrictions and a reversed appeal brings them back.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.refusals import records_staff_refusals
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation.actions.common import SANCTION_TARGET, _require_text
from moderation.actions.sanctions import _issue_sanction
from moderation.app_settings import app_settings
from moderation.models import REASON_MAX_LENGTH, Sanction, SanctionKind
from rooms import actions as room_actions
from rooms.models import Message, Room, RoomKind


def checked_purge_hours(value) -> int:
    """The number of hours to purge, checked: a whole number from 1 to the maximum."""
    maximum = app_settings.MODERATION_PURGE_MAX_HOURS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise Refused(
            RefusalCode.INVALID,
            _("purge_hours est un nombre entier d'heures, de 1 à %(max)d.") % {"max": maximum},
        )
    return value


def _where(messages: list[Message]) -> str:
    """The rooms in words: public and private rooms by name, direct conversations
    counted (the person knows whom they wrote to; the statement need not say)."""
    named = sorted({m.room.name or m.room.slug for m in messages if m.room.kind != RoomKind.DIRECT})
    directs = len({m.room_id for m in messages if m.room.kind == RoomKind.DIRECT})
    parts = [_("« %(room)s »") % {"room": name} for name in named]
    if directs:
        parts.append(
            ngettext(
                "%(count)d conversation privée",
                "%(count)d conversations privées",
                directs,
            )
            % {"count": directs}
        )
    return ", ".join(parts)


def _facts(reason: str, hours: int, hidden: list[Message]) -> str:
    if not hidden:
        purge = ngettext(
            "Aucun message de votre part des %(hours)d dernière heure n'était visible : "
            "aucun n'a été masqué.",
            "Aucun message de votre part des %(hours)d dernières heures n'était visible : "
            "aucun n'a été masqué.",
            hours,
        ) % {"hours": hours}
    else:
        purge = ngettext(
            "%(count)d message que vous avez écrit dans les %(hours)d dernières heures a été "
            "masqué : %(where)s.",
            "%(count)d messages que vous avez écrits dans les %(hours)d dernières heures ont "
            "été masqués : %(where)s.",
            len(hidden),
        ) % {"count": len(hidden), "hours": hours, "where": _where(hidden)}
    return f"{reason}\n\n{purge}"


@records_staff_refusals
@transaction.atomic(durable=True)
def do_ban_and_purge(
    user,
    *,
    actor,
    reason,
    purge_hours,
    room: Room | None = None,
    duration_minutes=None,
    ground=None,
    clause=None,
    legal_provision=None,
    via: Carrier | None = None,
) -> Sanction:
    """Bans `user` (in `room`, or site-wide) and hides their messages of the last
    `purge_hours` hours in every room. Once committed, every open socket of
    those rooms receives `message.deleted` for each, then the person's sockets
    the ban covers close with 4403. `via`: the moderator's request (carried on
    each hidden message's content operation)."""
    hours = checked_purge_hours(purge_hours)
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    since = timezone.now() - timedelta(hours=hours)
    candidates = (
        Message.objects.filter(author=user, created__gte=since, deleted_at__isnull=True)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    hidden = []
    for pk in list(candidates):
        # Should the ban be refused below (a staff member, oneself, a bad
        # duration), the transaction rolls these back with it.
        message = room_actions.locked_message(pk)
        if room_actions.hide_message(
            message, actor=actor, reason=reason, via=via, staff_action=True
        ):
            hidden.append(message)
    sanction = _issue_sanction(
        user,
        actor=actor,
        kind=SanctionKind.BAN,
        reason=reason,
        room=room,
        duration_minutes=duration_minutes,
        ground=ground,
        clause=clause,
        legal_provision=legal_provision,
        facts=_facts(reason, hours, hidden),
    )
    statement = sanction.statement
    statement.purge_hours = hours
    statement.purged_messages = [m.pk for m in hidden]
    if hidden:
        statement.content_date = hidden[0].created
    statement.save(update_fields=["purge_hours", "purged_messages", "content_date"])
    record(
        AuditEvent.MESSAGES_PURGED,
        actor=actor,
        target_type=SANCTION_TARGET,
        target_id=sanction.pk,
        reason=reason,
        details={
            "user": user.pk,
            "hours": hours,
            "since": since.isoformat(),
            "count": len(hidden),
            "messages": [m.pk for m in hidden],
            "rooms": sorted({m.room_id for m in hidden}),
            "statement": statement.pk,
        },
    )
    return sanction
