"""The retention purge (docs/compliance.md): what each category's period has expired,
nothing under an active legal hold."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import actions as account_actions
from accounts.models import (
    AccountDeletionRequest,
    AttestationNonce,
    ConnectionRecord,
    DocumentStatus,
    IdentityDocument,
)
from audit.actions import erase_personal_data
from audit.events import AuditEvent
from audit.trail import record, user_model_label
from compliance import queries
from compliance.actions.account_deletion import _complete_account_deletion
from compliance.actions.common import _check_permission
from compliance.models import (
    RestrictedCategory,
    RestrictedRecord,
)
from compliance.retention import RetentionPolicy, retention_policy
from rooms.models import Message

PURGE_BATCH = 500


PURGE_STEPS = (
    "account_deletions",
    "connection_records",
    "attestation_challenges",
    "expired_identity_documents",
    "deleted_message_texts",
    "content_operation_records",
    "restricted_records",
)


@dataclass
class PurgeSummary:
    dry_run: bool
    now: datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PURGE_STEPS, 0))
    held_accounts: int = 0
    held_rooms: int = 0
    audit_erasures: int = 0


Progress = Callable[[str, int, int], None]


def _purge_querysets(policy: RetentionPolicy, now: datetime, held_users, held_rooms) -> dict:
    deleted_messages = Message.objects.filter(deleted_at__isnull=False).exclude(
        Q(author_id__in=held_users) | Q(room_id__in=held_rooms)
    )
    row_expiry = now - max(policy.content_operations, policy.deleted_message_grace)
    return {
        # A hold suspends the purge of retained data, not the anonymisation:
        # everything is kept in the restricted store until the hold ends.
        "account_deletions": AccountDeletionRequest.objects.filter(completed_at__isnull=True),
        "connection_records": ConnectionRecord.objects.filter(
            created__lt=now - policy.content_operations
        ).exclude(user_id__in=held_users),
        # The single-use challenges of the age attestation flow (used within ten
        # minutes or never): kept as long as the connection records they go with.
        "attestation_challenges": AttestationNonce.objects.filter(
            issued_at__lt=now - policy.content_operations
        ).exclude(user_id__in=held_users),
        # Identity documents nobody reviewed in time: the file goes, the row
        # says "expired" (accounts owns the write).
        "expired_identity_documents": IdentityDocument.objects.filter(
            status=DocumentStatus.PENDING,
            uploaded_at__lt=now - policy.pending_identity_documents,
        ).exclude(user_id__in=held_users),
        # The text goes after the grace period; the row (who posted and deleted
        # what, when) is the content operation record, kept its own period.
        "deleted_message_texts": deleted_messages.filter(
            deleted_at__lt=now - policy.deleted_message_grace
        ).exclude(body=""),
        "content_operation_records": deleted_messages.filter(deleted_at__lt=row_expiry),
        "restricted_records": RestrictedRecord.objects.filter(retain_until__lt=now).exclude(
            user_id__in=held_users
        ),
    }


def _batches(queryset):
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), PURGE_BATCH):
        yield ids[start : start + PURGE_BATCH]


@transaction.atomic(durable=True)
def do_purge_expired(
    *, actor, dry_run: bool = False, now: datetime | None = None, progress: Progress | None = None
) -> PurgeSummary:
    """Applies the retention policy; nothing under an active legal hold is purged.

    A dry run counts what would go and changes nothing. Either way the run is
    recorded in the audit trail with its counts.
    """
    _check_permission(actor, "compliance.delete_restrictedrecord")
    now = now or timezone.now()
    policy = retention_policy()
    held_users = queries.held_user_ids()
    held_rooms = queries.held_room_ids()
    summary = PurgeSummary(
        dry_run=dry_run, now=now, held_accounts=len(held_users), held_rooms=len(held_rooms)
    )
    report = progress or (lambda step, done, total: None)
    plan = _purge_querysets(policy, now, held_users, held_rooms)
    for step in PURGE_STEPS:
        queryset = plan[step]
        total = queryset.count()
        report(step, 0, total)
        if dry_run:
            summary.counts[step] = total
            if step == "restricted_records":
                summary.audit_erasures = queryset.filter(
                    category=RestrictedCategory.ACCOUNT
                ).count()
            report(step, total, total)
            continue
        done = 0
        for ids in _batches(queryset):
            done += _PURGE_APPLY[step](ids, policy=policy, now=now, actor=actor, summary=summary)
            report(step, done, total)
        summary.counts[step] = done
    record(
        AuditEvent.RETENTION_PURGE_RUN,
        actor=actor,
        details={
            "dry_run": dry_run,
            "now": now.isoformat(),
            "counts": summary.counts,
            "audit_erasures": summary.audit_erasures,
            "held_accounts": summary.held_accounts,
            "held_rooms": summary.held_rooms,
            "policy_days": policy.as_days(),
        },
    )
    return summary


def _apply_account_deletions(ids, *, policy, now, actor, summary) -> int:
    for deletion in AccountDeletionRequest.objects.filter(pk__in=ids).select_for_update():
        details = _complete_account_deletion(deletion, policy=policy, now=now)
        record(
            AuditEvent.ACCOUNT_DELETION_COMPLETED,
            actor=actor,
            target_type=user_model_label(),
            target_id=deletion.user_id,
            details=details,
        )
    return len(ids)


def _apply_connection_records(ids, **_kwargs) -> int:
    return ConnectionRecord.objects.filter(pk__in=ids).delete()[0]


def _apply_attestation_challenges(ids, **_kwargs) -> int:
    return AttestationNonce.objects.filter(pk__in=ids).delete()[0]


def _apply_expired_identity_documents(ids, *, actor, now, **_kwargs) -> int:
    return account_actions.expire_pending_documents(ids, actor=actor, now=now)


def _apply_deleted_message_texts(ids, **_kwargs) -> int:
    return Message.objects.filter(pk__in=ids).update(body="")


def _apply_content_operation_records(ids, **_kwargs) -> int:
    return Message.objects.filter(pk__in=ids).delete()[0]


def _apply_restricted_records(ids, *, actor, summary, **_kwargs) -> int:
    records = RestrictedRecord.objects.filter(pk__in=ids)
    expired_accounts = list(
        records.filter(category=RestrictedCategory.ACCOUNT).values_list("user_id", flat=True)
    )
    deleted = records.delete()[0]
    # The pseudonym's retention is over: the audit trail forgets it too (its
    # actor labels and IP addresses), the chain still verifying.
    for user_id in expired_accounts:
        erase_personal_data(user_id, actor=actor, reason="retention period ended")
        summary.audit_erasures += 1
    return deleted


_PURGE_APPLY = {
    "account_deletions": _apply_account_deletions,
    "connection_records": _apply_connection_records,
    "attestation_challenges": _apply_attestation_challenges,
    "expired_identity_documents": _apply_expired_identity_documents,
    "deleted_message_texts": _apply_deleted_message_texts,
    "content_operation_records": _apply_content_operation_records,
    "restricted_records": _apply_restricted_records,
}
