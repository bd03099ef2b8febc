"""Forgetting a person and expired records, called by compliance (account
deletion, retention purge): accounts removes its own rows, with its own audit entries."""

import secrets
from datetime import datetime
from functools import partial

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import documents
from accounts.models import (
    AccountDeletionRequest,
    AttestationNonce,
    ConnectionRecord,
    DirectMessagePolicy,
    IdentityDocument,
    PseudonymHistory,
    ReservedPseudonym,
    User,
    WalletRequest,
)
from audit.events import AuditEvent
from audit.trail import record

DELETED_USERNAME_PREFIX = "supprime-"


@transaction.atomic
def do_forget_account(
    deletion: AccountDeletionRequest, *, actor, now: datetime | None = None
) -> dict[str, int]:
    """Completes a deletion request: strips the closed account to an anonymous row, once
    compliance has copied what the law keeps into its restricted store.

    The row stays (messages, reports and sanctions point to it) under a
    `supprime-<random>` pseudonym, with no e-mail, names, birth date, password,
    staff rights or second factor; its connection records, addresses,
    age-verification attempts and challenges, identity documents and
    pseudonym history go (a pending document's file once the transaction
    commits). The rename is the history's last entry: the anonymous name's
    period opens at the closure. Atomic but not durable: compliance calls it
    inside its deletion's transaction.
    """
    deletion = AccountDeletionRequest.objects.select_for_update().get(pk=deletion.pk)
    user = User.objects.select_for_update().get(pk=deletion.user_id)
    documents_of_user = IdentityDocument.objects.filter(user=user)
    pending_files = [
        name for name in documents_of_user.values_list("stored_name", flat=True) if name
    ]
    forgotten = {
        "connection_records": ConnectionRecord.objects.filter(user=user).delete()[0],
        "email_addresses": EmailAddress.objects.filter(user=user).delete()[0],
        "identity_documents": documents_of_user.delete()[0],
        "age_verification_attempts": user.age_verification_attempts.all().delete()[0],
        "attestation_nonces": AttestationNonce.objects.filter(user=user).delete()[0],
        "wallet_requests": WalletRequest.objects.filter(user=user).delete()[0],
        "pseudonyms": PseudonymHistory.objects.filter(user=user).delete()[0],
        "otp_devices": TOTPDevice.objects.filter(user=user).delete()[0]
        + StaticDevice.objects.filter(user=user).delete()[0],
        "groups": user.groups.count(),
        "permissions": user.user_permissions.count(),
    }
    user.username = f"{DELETED_USERNAME_PREFIX}{secrets.token_hex(6)}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.set_unusable_password()
    user.date_of_birth = None
    user.age_verified_at = None
    user.age_verification_method = ""
    user.direct_messages_from = DirectMessagePolicy.NOBODY
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.save()
    PseudonymHistory.objects.record(user, at=deletion.requested_at)
    user.groups.clear()
    user.user_permissions.clear()
    deletion.completed_at = now or timezone.now()
    deletion.save(update_fields=["completed_at"])
    record(
        AuditEvent.ACCOUNT_FORGOTTEN,
        actor=actor,
        target_type="accounts.user",
        target_id=user.pk,
        details={"deletion_request": deletion.pk, **forgotten},
    )
    for stored_name in pending_files:
        transaction.on_commit(partial(documents.delete_document_file, stored_name))
    return forgotten


@transaction.atomic
def do_forget_connection_records(record_ids, *, actor, reason: str) -> int:
    """Deletes connection records whose retention period is over; returns how many went."""
    return _delete_expired(
        ConnectionRecord,
        record_ids,
        event=AuditEvent.CONNECTION_RECORDS_FORGOTTEN,
        noun="records",
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def do_forget_attestation_challenges(challenge_ids, *, actor, reason: str) -> int:
    """Deletes age-attestation challenges whose retention period is over; returns how many."""
    return _delete_expired(
        AttestationNonce,
        challenge_ids,
        event=AuditEvent.ATTESTATION_CHALLENGES_FORGOTTEN,
        noun="challenges",
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def do_forget_reserved_pseudonyms(reservation_ids, *, actor, reason: str) -> int:
    """Frees closed accounts' pseudonyms whose reservation period is over; returns how many."""
    return _delete_expired(
        ReservedPseudonym,
        reservation_ids,
        event=AuditEvent.RESERVED_PSEUDONYMS_FORGOTTEN,
        noun="reservations",
        actor=actor,
        reason=reason,
    )


def _delete_expired(model, ids, *, event: AuditEvent, noun: str, actor, reason: str) -> int:
    """Deletes the rows of `model` among `ids` that are still there and records one
    entry with how many and their id range. Here, not in audit: the delete must be
    issued by the app that owns the rows (tests/compliance/test_write_paths.py)."""
    ids = sorted(model.objects.filter(pk__in=list(ids)).values_list("pk", flat=True))
    deleted = model.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        record(
            event,
            actor=actor,
            target_type=model._meta.label_lower,
            reason=reason,
            details={noun: deleted, "first_id": ids[0], "last_id": ids[-1]},
        )
    return deleted
