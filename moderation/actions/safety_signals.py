"""Safety signals: patterns worth a moderator's look, raised to the queue, never refusing."""

from functools import partial

from django.db import transaction

from audit.events import AuditEvent
from audit.trail import record
from moderation.actions.common import SIGNAL_TARGET
from moderation.actions.filters import _automatic_context, link_flagged_message
from moderation.actions.reports import _file_report
from moderation.models import (
    ReportCategory,
    ReportSource,
    SafetySignal,
    Severity,
)
from rooms.models import Room


def raise_safety_signal(
    kind: str,
    user,
    room: Room | None,
    *,
    excerpt: str = "",
    details: dict | None = None,
    category: str = ReportCategory.OTHER,
    severity: Severity = Severity.HIGH,
) -> SafetySignal:
    """Stores the signal and puts it in the queue (in rooms' post transaction): high,
    or urgent for child safety and sextortion. Nothing reaches the room or the
    author: the message goes through as any other."""
    signal = SafetySignal.objects.create(
        kind=kind, user=user, room=room, excerpt=excerpt[:2000], details=details or {}
    )
    context = _automatic_context(room, user, excerpt) if room is not None else []
    report = _file_report(
        category=category,
        source=ReportSource.AUTOMATIC,
        details=str(signal.get_kind_display()),
        target_user=user,
        room=room,
        context=context,
        safety_signal=signal,
        severity=severity,
    )
    record(
        AuditEvent.SAFETY_SIGNAL_RAISED,
        actor=None,
        target_type=SIGNAL_TARGET,
        target_id=signal.pk,
        details={
            "kind": kind,
            "user": user.pk,
            "room": room.pk if room is not None else None,
            "report": report.pk,
            "category": category,
            **(details or {}),
        },
    )
    if excerpt:
        transaction.on_commit(partial(link_flagged_message, report.pk))
    return signal
