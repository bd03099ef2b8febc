"""What moderation forgets when its records' retention ends (compliance's purge calls it,
docs/compliance.md, 2.): the rows go through moderation's own actions, with its audit entries."""

from django.db import transaction
from django.db.models import Model, Q

from audit.events import AuditEvent
from audit.trail import record
from moderation.models import (
    Appeal,
    HeldMessage,
    MisuseMeasure,
    ModeratorNote,
    Notice,
    Report,
    RoomModeratorAction,
    SafetySignal,
    Sanction,
    StatementOfReasons,
    ThreatEscalation,
)
from moderation.queries import held_back_snapshots, report_concerning
from rooms.models import Message

# The purge step that forgets each kind of record, and its model. Compliance
# decides which rows are due (compliance.retention.expired); moderation deletes them.
MODERATION_RECORDS: dict[str, type[Model]] = {
    "room_moderator_actions": RoomModeratorAction,
    "threat_escalations": ThreatEscalation,
    "appeals": Appeal,
    "misuse_measures": MisuseMeasure,
    "statements_of_reasons": StatementOfReasons,
    "sanctions": Sanction,
    "reports": Report,
    "notices": Notice,
    "safety_signals": SafetySignal,
    "held_messages": HeldMessage,
    "moderator_notes": ModeratorNote,
}

REDACTED = "redacted"


@transaction.atomic
def do_forget_moderation_records(kind: str, record_ids, *, actor, reason: str) -> int:
    """Deletes moderation records of one kind whose retention period is over; returns how many.

    Only rows of that model are counted: an appeal that cascades with its report
    is counted by the appeals step, which runs first (only an appeal kept for its
    own period can still be attached, and the report then waits for it).
    """
    model = MODERATION_RECORDS[kind]
    ids = sorted(model.objects.filter(pk__in=list(record_ids)).values_list("pk", flat=True))
    if not ids:
        return 0
    removed = model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)
    record(
        AuditEvent.MODERATION_RECORDS_FORGOTTEN,
        actor=actor,
        target_type=model._meta.label_lower,
        reason=reason,
        details={"kind": kind, "rows": removed, "first_id": ids[0], "last_id": ids[-1]},
    )
    return removed


def _redacted(context: list, quoted: set[int]) -> list | None:
    """The context with the quoted messages' texts emptied, or None if none was there."""
    result, redacted = [], False
    for entry in context:
        if isinstance(entry, dict) and entry.get("id") in quoted and entry.get("body"):
            entry = {**entry, "body": "", REDACTED: True}
            redacted = True
        result.append(entry)
    return result if redacted else None


def _record_redactions(changed: list[int], *, actor, reason: str, **details) -> None:
    details = {name: value for name, value in details.items() if value}
    if changed or details:
        record(
            AuditEvent.REPORT_SNAPSHOTS_REDACTED,
            actor=actor,
            target_type="moderation.report",
            reason=reason,
            details={
                "reports": len(changed),
                "first_id": changed[0] if changed else None,
                "last_id": changed[-1] if changed else None,
                **details,
            },
        )


@transaction.atomic
def do_redact_report_snapshots(
    message_ids, *, actor, reason: str, held_users=frozenset(), held_rooms=frozenset()
) -> int:
    """Empties, in every report's context snapshot, the text of the given messages
    (their own text has just been purged), keeping who, when and that it was there.

    A snapshot quotes the messages around the reported one, so third parties'
    deleted texts would outlive their purge in it. Reports concerning a held
    account or room keep theirs (the hold suspends every purge of what it
    covers) and note the ids in `redactions_due`: once no hold covers them,
    the purge's `report_snapshots` step redacts them
    (`do_redact_released_snapshots`). Returns how many reports were changed.
    """
    purged = Message.objects.filter(pk__in=list(message_ids))
    quoted = set(purged.values_list("pk", flat=True))
    if not quoted:
        return 0
    rooms = set(purged.values_list("room_id", flat=True))
    authors = set(purged.values_list("author_id", flat=True))
    # Where a snapshot can quote a message: its report's room (the messages around
    # the reported one, an alert's last messages) or its target's recent messages.
    candidates = (
        Report.objects.filter(Q(room_id__in=rooms) | Q(target_user_id__in=authors))
        .exclude(context=[])
        .order_by("pk")
    )
    held = set(
        candidates.filter(report_concerning(held_users, held_rooms)).values_list("pk", flat=True)
    )
    changed, deferred = [], []
    for report in candidates.select_for_update():
        context = _redacted(report.context, quoted)
        if context is None:
            continue
        if report.pk in held:
            due = (
                set(report.redactions_due)
                | {entry["id"] for entry in report.context if isinstance(entry, dict)} & quoted
            )
            report.redactions_due = sorted(due)
            report.save(update_fields=["redactions_due"])
            deferred.append(report.pk)
            continue
        report.context = context
        report.save(update_fields=["context"])
        changed.append(report.pk)
    _record_redactions(changed, actor=actor, reason=reason, deferred_under_hold=len(deferred))
    return len(changed)


@transaction.atomic
def do_redact_released_snapshots(
    report_ids, *, actor, reason: str, held_users=frozenset(), held_rooms=frozenset()
) -> int:
    """Redacts, in the given reports, the texts purged while a legal hold kept them
    whole (`redactions_due`), now that no hold covers them; returns how many
    reports were changed. A report a hold still covers is left as it is."""
    reports = (
        held_back_snapshots(held_users, held_rooms)
        .filter(pk__in=list(report_ids))
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    changed = []
    for report in reports:
        context = _redacted(report.context, set(report.redactions_due))
        report.redactions_due = []
        fields = ["redactions_due"]
        if context is not None:
            report.context = context
            fields.append("context")
        report.save(update_fields=fields)
        changed.append(report.pk)
    if changed:
        _record_redactions(changed, actor=actor, reason=reason, after_hold=True)
    return len(changed)
