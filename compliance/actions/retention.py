"""The retention purge (docs/compliance.md, 2.): what each category's period has expired,
nothing under an active legal hold, in bounded batches of one transaction each."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import actions as accounts_actions
from accounts.models import AccountDeletionRequest
from audit.actions import erase_personal_data
from audit.events import AuditEvent
from audit.trail import record
from compliance import queries
from compliance.actions.account_deletion import _complete_account_deletion
from compliance.actions.common import _check_permission
from compliance.actions.legal_exports import do_rotate_requisition_packages
from compliance.app_settings import app_settings
from compliance.models import RestrictedCategory, RestrictedRecord
from compliance.retention import MODERATION_STEPS, PURGE_STEPS, expired, retention_policy
from core.refusals import RefusalCode, Refused
from moderation import actions as moderation_actions
from rooms import actions as rooms_actions

PURGE_BATCH = 500
REASON = "retention period ended"

__all__ = ["PURGE_BATCH", "PURGE_STEPS", "Progress", "PurgeSummary", "do_purge_expired"]


@dataclass
class PurgeSummary:
    dry_run: bool
    now: datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PURGE_STEPS, 0))
    held_accounts: int = 0
    held_rooms: int = 0
    audit_erasures: int = 0
    batches: int = 0


Progress = Callable[[str, int, int], None]


def _held() -> dict[str, set[int]]:
    return {"held_users": queries.held_user_ids(), "held_rooms": queries.held_room_ids()}


def do_purge_expired(
    *,
    actor,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    batch_size: int = PURGE_BATCH,
) -> PurgeSummary:
    """Applies the retention policy; nothing under an active legal hold is purged.

    Not one transaction: each batch of at most `batch_size` rows is its own
    durable transaction, its audit entries written last, so the audit chain's
    lock is held for one batch at a time and never while the next batch is
    read. A batch reads the holds afresh, so a hold placed during a long run
    protects what it covers from the next batch on. A run that dies between
    (or inside) batches loses no committed batch and leaves no half one; the
    next run finds exactly what is left (`retention.expired`) and finishes the
    job. `progress(step, done, total)` is called after each committed batch.

    A dry run counts what would go and changes nothing. Either way the run is
    recorded in the audit trail with its counts.
    """
    _check_permission(actor, "compliance.delete_restrictedrecord")
    if batch_size < 1:
        raise Refused(RefusalCode.INVALID, _("La taille d'un lot doit être d'au moins 1."))
    now = now or timezone.now()
    policy = retention_policy()
    held = _held()
    summary = PurgeSummary(
        dry_run=dry_run,
        now=now,
        held_accounts=len(held["held_users"]),
        held_rooms=len(held["held_rooms"]),
    )
    report = progress or (lambda step, done, total: None)
    if dry_run:
        return _count_expired(summary, policy=policy, held=held, actor=actor, report=report)
    run = secrets.token_hex(8)
    for step in PURGE_STEPS:
        total = expired(step, policy, now, **held).count()
        report(step, 0, total)
        done, after = 0, 0
        while (batch := _purge_batch(step, after, run, batch_size, policy, now, actor)) is not None:
            applied, after, erasures = batch
            done += applied
            summary.batches += 1
            summary.audit_erasures += erasures
            total = max(total, done)  # a deletion filed during the run adds to it
            report(step, done, total)
        if done < total:  # a hold placed during the run kept some rows
            report(step, done, done)
        summary.counts[step] = done
    with transaction.atomic(durable=True):
        _record_purge_run(summary, policy=policy, actor=actor, run=run)
    return summary


@transaction.atomic(durable=True)
def _count_expired(summary: PurgeSummary, *, policy, held, actor, report) -> PurgeSummary:
    for step in PURGE_STEPS:
        queryset = expired(step, policy, summary.now, **held)
        total = queryset.count()
        report(step, 0, total)
        summary.counts[step] = total
        if step == "restricted_records":
            summary.audit_erasures = queryset.filter(category=RestrictedCategory.ACCOUNT).count()
        report(step, total, total)
    _record_purge_run(summary, policy=policy, actor=actor, run="")
    return summary


@transaction.atomic(durable=True)
def _purge_batch(
    step: str, after: int, run: str, batch_size: int, policy, now, actor
) -> tuple[int, int, int] | None:
    """One batch of one step, in its own transaction: (rows applied, last id, erasures).

    The ids come in key order from `after` on, so a row that a step leaves in
    place (none should) cannot make the run loop.
    """
    queryset = expired(step, policy, now, **_held()).filter(pk__gt=after).order_by("pk")
    ids = list(queryset.values_list("pk", flat=True)[:batch_size])
    if not ids:
        return None
    applied, erasures = _PURGE_APPLY[step](ids, policy=policy, now=now, actor=actor)
    record(
        AuditEvent.RETENTION_PURGE_BATCH,
        actor=actor,
        details={
            "run": run,
            "step": step,
            "rows": len(ids),
            "applied": applied,
            "first_id": ids[0],
            "last_id": ids[-1],
            "now": now.isoformat(),
        },
    )
    return applied, ids[-1], erasures


def _record_purge_run(summary: PurgeSummary, *, policy, actor, run: str) -> None:
    record(
        AuditEvent.RETENTION_PURGE_RUN,
        actor=actor,
        details={
            "dry_run": summary.dry_run,
            "now": summary.now.isoformat(),
            "run": run,
            "batches": summary.batches,
            "counts": summary.counts,
            "audit_erasures": summary.audit_erasures,
            "held_accounts": summary.held_accounts,
            "held_rooms": summary.held_rooms,
            "policy_days": policy.as_days(),
        },
    )


def _apply_account_deletions(ids, *, policy, now, actor) -> tuple[int, int]:
    completed = 0
    pending = AccountDeletionRequest.objects.filter(pk__in=ids, completed_at__isnull=True)
    for deletion in pending.select_for_update():
        _complete_account_deletion(deletion, actor=actor, policy=policy, now=now)
        completed += 1
    return completed, 0


# Other apps' rows go through their own actions (one write path per row).
def _apply_connection_records(ids, *, actor, **_kwargs) -> tuple[int, int]:
    return accounts_actions.do_forget_connection_records(ids, actor=actor, reason=REASON), 0


def _apply_attestation_challenges(ids, *, actor, **_kwargs) -> tuple[int, int]:
    return accounts_actions.do_forget_attestation_challenges(ids, actor=actor, reason=REASON), 0


def _apply_expired_identity_documents(ids, *, actor, now, **_kwargs) -> tuple[int, int]:
    return accounts_actions.expire_pending_documents(ids, actor=actor, now=now), 0


def _apply_deleted_message_texts(ids, *, actor, **_kwargs) -> tuple[int, int]:
    emptied = rooms_actions.do_forget_deleted_message_texts(ids, actor=actor, reason=REASON)
    # The same batch takes the texts out of the reports' context snapshots that
    # quote them, so a purged text survives nowhere (the batch's holds apply).
    moderation_actions.do_redact_report_snapshots(ids, actor=actor, reason=REASON, **_held())
    return emptied, 0


def _apply_report_snapshots(ids, *, actor, **_kwargs) -> tuple[int, int]:
    # The batch's holds again: a hold placed since the selection keeps its reports.
    return moderation_actions.do_redact_released_snapshots(
        ids, actor=actor, reason=REASON, **_held()
    ), 0


def _apply_content_operation_records(ids, *, actor, **_kwargs) -> tuple[int, int]:
    return rooms_actions.do_forget_deleted_messages(ids, actor=actor, reason=REASON), 0


def _apply_content_operations(ids, *, actor, **_kwargs) -> tuple[int, int]:
    return rooms_actions.do_forget_content_operations(ids, actor=actor, reason=REASON), 0


def _apply_presence_intervals(ids, *, actor, **_kwargs) -> tuple[int, int]:
    return rooms_actions.do_forget_presence_intervals(ids, actor=actor, reason=REASON), 0


def _apply_requisition_packages(ids, *, actor, **_kwargs) -> tuple[int, int]:
    directory = app_settings.COMPLIANCE_EXPORT_DIR
    return do_rotate_requisition_packages(ids, actor=actor, reason=REASON, directory=directory), 0


def _apply_reserved_pseudonyms(ids, *, actor, **_kwargs) -> tuple[int, int]:
    return accounts_actions.do_forget_reserved_pseudonyms(ids, actor=actor, reason=REASON), 0


def _apply_restricted_records(ids, *, actor, **_kwargs) -> tuple[int, int]:
    records = RestrictedRecord.objects.filter(pk__in=ids)
    expired_accounts = list(
        records.filter(category=RestrictedCategory.ACCOUNT).values_list("user_id", flat=True)
    )
    deleted = records.delete()[0]
    # The pseudonym's retention is over: the audit trail forgets it too (its
    # actor labels and IP addresses), the chain still verifying.
    for user_id in expired_accounts:
        erase_personal_data(user_id, actor=actor, reason=REASON)
    return deleted, len(expired_accounts)


def _moderation_records_applier(step: str):
    def apply(ids, *, actor, **_kwargs) -> tuple[int, int]:
        return moderation_actions.do_forget_moderation_records(
            step, ids, actor=actor, reason=REASON
        ), 0

    return apply


_PURGE_APPLY = {
    "account_deletions": _apply_account_deletions,
    "connection_records": _apply_connection_records,
    "attestation_challenges": _apply_attestation_challenges,
    "expired_identity_documents": _apply_expired_identity_documents,
    "deleted_message_texts": _apply_deleted_message_texts,
    "report_snapshots": _apply_report_snapshots,
    "content_operation_records": _apply_content_operation_records,
    "content_operations": _apply_content_operations,
    "presence_intervals": _apply_presence_intervals,
    **{step: _moderation_records_applier(step) for step in MODERATION_STEPS},
    "requisition_packages": _apply_requisition_packages,
    "reserved_pseudonyms": _apply_reserved_pseudonyms,
    "restricted_records": _apply_restricted_records,
}
