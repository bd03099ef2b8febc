"""What the automatic filters do to a message they let through: flag it, mute its author."""

from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from moderation import queries
from moderation.actions.common import REPORT_TARGET
from moderation.actions.reports import _file_report
from moderation.actions.sanctions import _issue_sanction
from moderation.actions.statements import _scope
from moderation.models import (
    FilterRule,
    Report,
    ReportSource,
    Sanction,
    SanctionKind,
)
from rooms.models import Message, Room


def _automatic_context(room: Room, user, body: str) -> list:
    """The last messages of the room and the one being posted (not stored yet)."""
    pending = {
        "id": None,
        "author": user.get_username(),
        "author_id": user.pk,
        "body": body,
        "created": timezone.now().isoformat(),
        "deleted": False,
        "pending": True,
    }
    return [*queries.last_messages(room, 2 * queries.CONTEXT_AROUND), pending]


def flag_message(rule: FilterRule, user, room: Room, body: str, matches: list[str]) -> Report:
    """A filter lets the message through and puts it in the queue (in rooms'
    post transaction: it commits with the message)."""
    report = _file_report(
        category=rule.category,
        source=ReportSource.AUTOMATIC,
        details=_("Filtre « %(rule)s » : %(matches)s")
        % {"rule": rule.name, "matches": ", ".join(matches)[:500]},
        target_user=user,
        room=room,
        context=_automatic_context(room, user, body),
    )
    record(
        AuditEvent.MESSAGE_FLAGGED,
        actor=None,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        details={"rule": rule.pk, "room": room.pk, "user": user.pk},
    )
    transaction.on_commit(partial(link_flagged_message, report.pk))
    return report


def link_flagged_message(report_id: int) -> None:
    """Once the flagged message is stored, the report points to it."""
    report = Report.objects.filter(pk=report_id, target_message__isnull=True).first()
    if report is None or not report.context:
        return
    body = report.context[-1]["body"]
    message = (
        Message.objects.filter(room_id=report.room_id, author_id=report.target_user_id, body=body)
        .order_by("-id")
        .first()
    )
    if message is not None:
        Report.objects.filter(pk=report_id).update(target_message=message)


def mute_by_filter(rule: FilterRule, user, room: Room, matches: list[str]) -> Sanction:
    """A filter mutes the author (in rooms' post transaction)."""
    return _issue_sanction(
        user,
        actor=None,
        kind=SanctionKind.MUTE,
        room=rule.room,
        duration_minutes=rule.mute_minutes,
        reason=_("Filtre automatique « %(rule)s »") % {"rule": rule.name},
        ground=rule.ground,
        automated=True,
        facts=_("Un message envoyé dans %(scope)s contenait : %(matches)s")
        % {"scope": _scope(room), "matches": ", ".join(matches)[:500]},
    )
