"""The live console: what the staff socket (/ws/staff/, moderation/consumers.py)
is told, and how (docs/protocol.md, "The staff console socket").

Every open console joins one group. The actions push to it from their
on-commit hooks (never inside the transaction: the database is the truth, the
layer a notifier), and a console that reconnects reads the counts again, so a
lost event costs nothing but a stale line until the next one.

A frame names no member and quotes no text (as the landing page): a report's
number, severity, category, origin, state and deadline, and the staff who hold
it. Opening the report goes through its own gates as usual.
"""

from datetime import timedelta
from enum import StrEnum
from functools import partial

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from moderation import queries
from moderation.models import ConsolePresence, Report, Severity
from rooms import notify

CONSOLE_GROUP = "moderation.console"
# A console refreshes its presence row this often; a row older than
# PRESENCE_STALE_SECONDS belongs to a process that died and no longer counts.
PRESENCE_REFRESH_SECONDS = 30
PRESENCE_STALE_SECONDS = 90
# The permission that opens a console: every staff role that reads the queue.
CONSOLE_PERMISSION = "moderation.view_report"


class ConsoleFrame(StrEnum):
    """Frames the staff socket sends."""

    COUNTS = "console.counts"  # {"counts": {...}} on connect
    REPORT_NEW = "report.new"  # an urgent report or an alert: {"report", "counts"}
    REPORT_UPDATED = "report.updated"  # {"event", "report", "by", "counts"}
    ERROR = "error"  # {"code", "detail", "id"}


class ConsoleRequest(StrEnum):
    """Frames a console sends: the two moves that need no form."""

    CLAIM = "report.claim"  # {"id": int}
    RELEASE = "report.release"  # {"id": int}


class ReportEvent(StrEnum):
    """What happened to a report, in `report.updated` (and in the audit trail)."""

    FILED = "filed"
    CLAIMED = "claimed"
    RELEASED = "released"
    REASSIGNED = "reassigned"
    ESCALATED = "escalated"
    DECIDED = "decided"
    THREAD = "thread"


# The group event's handler on the consumer (`console.event` -> console_event).
GROUP_EVENT = "console.event"


def report_summary(report: Report) -> dict:
    """A report as a console line: no member's name, no text."""
    return {
        "id": report.pk,
        "severity": report.severity,
        "severity_label": str(Severity(report.severity).label),
        "category": report.category,
        "category_label": str(report.get_category_display()),
        "source": report.source,
        "status": report.status,
        "status_label": str(report.get_status_display()),
        "claimed_by": report.claimed_by.get_username() if report.claimed_by_id else None,
        "escalated_to": report.escalated_to or None,
        "threat_to_life": report.threat_to_life,
        "deadline": report.deadline.isoformat(),
        "url": reverse("admin:moderation_report_decide", args=[report.pk]),
    }


def _send(frame_type: str, report_id: int, event: str, actor_name: str | None) -> None:
    """Reads the report as committed and tells every console (on commit)."""
    report = Report.objects.select_related("claimed_by").filter(pk=report_id).first()
    if report is None:
        return
    frame = {
        "type": frame_type,
        "event": event,
        "report": report_summary(report),
        "by": actor_name,
        "counts": queries.queue_counts(),
    }
    notify.send_to_group(CONSOLE_GROUP, {"type": GROUP_EVENT, "frame": frame})


def push_report(report: Report, event: ReportEvent, *, actor=None) -> None:
    """Called inside an action's transaction: the consoles hear of it once committed.
    A new report is pushed as `report.new` when urgent (alerts are); any other
    new report only moves the counts."""
    frame_type = ConsoleFrame.REPORT_UPDATED
    if event == ReportEvent.FILED:
        if report.duplicate_of_id is not None:
            report = report.duplicate_of
            event = ReportEvent.FILED
        if report.severity == Severity.URGENT:
            frame_type = ConsoleFrame.REPORT_NEW
    name = actor.get_username() if actor is not None and getattr(actor, "is_staff", False) else None
    transaction.on_commit(partial(_send, frame_type, report.pk, str(event), name))


# --- presence: who covers the queue now ------------------------------------------------------


def presence_deadline():
    return timezone.now() - timedelta(seconds=PRESENCE_STALE_SECONDS)


def open_console(user, channel_name: str) -> None:
    """Records an open console (one upsert). Presence is not audited, like a
    room's: it is the team's coverage, not a decision."""
    now = timezone.now()
    ConsolePresence.objects.filter(seen_at__lt=presence_deadline()).delete()
    ConsolePresence.objects.bulk_create(
        [ConsolePresence(channel_name=channel_name, user=user, opened_at=now, seen_at=now)],
        update_conflicts=True,
        unique_fields=["channel_name"],
        update_fields=["user", "seen_at"],
    )


def refresh_console(channel_name: str) -> None:
    ConsolePresence.objects.filter(channel_name=channel_name).update(seen_at=timezone.now())


def close_console(channel_name: str) -> None:
    ConsolePresence.objects.filter(channel_name=channel_name).delete()


def staff_online() -> int:
    """Distinct staff accounts with a console open now."""
    return (
        ConsolePresence.objects.filter(seen_at__gte=presence_deadline())
        .values("user")
        .distinct()
        .count()
    )
