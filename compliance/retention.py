"""The retention policy: how long each category of data is kept (docs/compliance.md).

Read from `settings.COMPLIANCE_RETENTION` (a dict of day counts) at each use,
never at import time; missing keys take the defaults below, which follow
décret n° 2021-1362 and GDPR minimisation. `expired` names, for each step of
the purge, the rows whose period is over; the purge itself (writes, in
batches) is `compliance.actions.do_purge_expired`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from accounts import documents
from accounts.models import (
    AccountDeletionRequest,
    AttestationNonce,
    ConnectionRecord,
    DocumentStatus,
    IdentityDocument,
    ReservedPseudonym,
)
from compliance.app_settings import app_settings
from compliance.models import RestrictedRecord
from rooms.models import ContentOperation, Message

DEFAULT_RETENTION_DAYS = {
    # Who created, changed or deleted which message, from which IP and port, when:
    # one year from the operation (décret 2021-1362).
    "content_operations": 365,
    # Pseudonyms held, password verifier, dates, age-verification outcome: one
    # year after closure (décret 2021-1362, art. 1 II). A closed account's
    # pseudonym stays reserved as long.
    "account_data": 365,
    # E-mail address, date of birth: five years after closure (civil identity).
    "identity_data": 5 * 365,
    # A deleted message's text: hidden at once, purged after this grace period
    # (long enough for a moderation appeal or a fresh requisition to catch it).
    "deleted_message_grace": 30,
    # An identity document sent for age review and still not reviewed: its
    # file is deleted (minimisation; the member may send another or use the
    # wallet). Legal holds suspend it like every other purge.
    documents.RETENTION_KEY: documents.PENDING_REVIEW_DAYS,
}


@dataclass(frozen=True)
class RetentionPolicy:
    content_operations: timedelta
    account_data: timedelta
    identity_data: timedelta
    deleted_message_grace: timedelta
    pending_identity_documents: timedelta

    def as_days(self) -> dict[str, int]:
        return {name: getattr(self, name).days for name in DEFAULT_RETENTION_DAYS}


def retention_policy() -> RetentionPolicy:
    configured = app_settings.COMPLIANCE_RETENTION
    unknown = set(configured) - set(DEFAULT_RETENTION_DAYS)
    if unknown:
        raise ImproperlyConfigured(
            f"COMPLIANCE_RETENTION: unknown keys {sorted(unknown)}; "
            f"known: {sorted(DEFAULT_RETENTION_DAYS)}"
        )
    days = {**DEFAULT_RETENTION_DAYS, **configured}
    for name, value in days.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ImproperlyConfigured(
                f"COMPLIANCE_RETENTION[{name!r}] must be a positive number of days"
            )
    return RetentionPolicy(**{name: timedelta(days=value) for name, value in days.items()})


# The purge's steps, in the order they run: a deletion completed by the first
# step moves its connection records into the restricted store, which the last
# step reads; texts go before the rows that carry them.
PURGE_STEPS = (
    "account_deletions",
    "connection_records",
    "attestation_challenges",
    "expired_identity_documents",
    "deleted_message_texts",
    "content_operation_records",
    "content_operations",
    "reserved_pseudonyms",
    "restricted_records",
)


def expired(
    step: str,
    policy: RetentionPolicy,
    now: datetime,
    *,
    held_users: set[int],
    held_rooms: set[int],
) -> QuerySet:
    """The rows that `step` of the purge removes (or empties) at `now`, holds excepted.

    Each step's rows leave this queryset once the step has applied to them, so
    a purge that stopped half-way finds exactly the rest on its next run.
    """
    deleted_messages = Message.objects.filter(deleted_at__isnull=False).exclude(
        Q(author_id__in=held_users) | Q(room_id__in=held_rooms)
    )
    if step == "account_deletions":
        # A hold suspends the purge of retained data, not the anonymisation:
        # everything is kept in the restricted store until the hold ends.
        return AccountDeletionRequest.objects.filter(completed_at__isnull=True)
    if step == "connection_records":
        return ConnectionRecord.objects.filter(created__lt=now - policy.content_operations).exclude(
            user_id__in=held_users
        )
    if step == "attestation_challenges":
        # The single-use challenges of the age attestation flow (used within ten
        # minutes or never): kept as long as the connection records they go with.
        return AttestationNonce.objects.filter(
            issued_at__lt=now - policy.content_operations
        ).exclude(user_id__in=held_users)
    if step == "expired_identity_documents":
        # Identity documents nobody reviewed in time: the file goes, the row
        # says "expired" (accounts owns the write).
        return IdentityDocument.objects.filter(
            status=DocumentStatus.PENDING,
            uploaded_at__lt=now - policy.pending_identity_documents,
        ).exclude(user_id__in=held_users)
    if step == "deleted_message_texts":
        # The text goes after the grace period; the row (who posted and deleted
        # what, when) is the content operation record, kept its own period.
        return deleted_messages.filter(deleted_at__lt=now - policy.deleted_message_grace).exclude(
            body=""
        )
    if step == "content_operation_records":
        row_expiry = now - max(policy.content_operations, policy.deleted_message_grace)
        return deleted_messages.filter(deleted_at__lt=row_expiry)
    if step == "content_operations":
        # Who created, edited or deleted a message, when, from which address,
        # port and protocol (rooms.models.ContentOperation): one year.
        return ContentOperation.objects.filter(at__lt=now - policy.content_operations).exclude(
            Q(actor_id__in=held_users) | Q(room_id__in=held_rooms)
        )
    if step == "reserved_pseudonyms":
        # A closed account's pseudonym, reserved as long as its account data
        # are kept (docs/accounts.md), longer while the account is held.
        return ReservedPseudonym.objects.filter(reserved_at__lt=now - policy.account_data).exclude(
            user_id__in=held_users
        )
    if step == "restricted_records":
        return RestrictedRecord.objects.filter(retain_until__lt=now).exclude(user_id__in=held_users)
    raise ValueError(f"unknown purge step {step!r}; known: {PURGE_STEPS}")
