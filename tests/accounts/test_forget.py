"""Accounts forgets a person, and expired records, through its own actions (compliance
calls them: account deletion, retention purge)."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import actions, documents
from accounts.models import (
    AccountDeletionRequest,
    AgeVerificationAttempt,
    AttestationNonce,
    ConnectionKind,
    ConnectionRecord,
    DirectMessagePolicy,
    IdentityDocument,
    PseudonymHistory,
    WalletRequest,
)
from audit.events import AuditEvent
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def _connection(user, **fields):
    return ConnectionRecord.objects.create(
        user=user, kind=ConnectionKind.LOGIN, ip_address="203.0.113.9", port=4000, **fields
    )


def test_forget_account_strips_the_row_and_removes_the_pending_file(
    make_user, django_capture_on_commit_callbacks
):
    user = make_user("quitte", first_name="Jeanne", last_name="Martin")
    other = make_user("reste")
    user.groups.add(Group.objects.get_or_create(name="Moderators")[0])
    TOTPDevice.objects.create(user=user, name="phone")
    _connection(user)
    _connection(other)
    AttestationNonce.objects.create(user=user, nonce="n-1")
    WalletRequest.objects.create(user=user, state="s-1", nonce="wn-1")
    document = actions.do_submit_identity_document(
        user, SimpleUploadedFile("d.png", PNG), actor=user
    )
    path = documents.document_path(document.stored_name)
    assert path.exists()

    deletion = AccountDeletionRequest.objects.create(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        forgotten = actions.do_forget_account(deletion, actor=None)

    assert forgotten == {
        "connection_records": 1,
        "email_addresses": 1,
        "identity_documents": 1,
        "age_verification_attempts": 1,
        "attestation_nonces": 1,
        "wallet_requests": 1,
        "pseudonyms": 1,
        "otp_devices": 1,
        "groups": 1,
        "permissions": 0,
    }
    user.refresh_from_db()
    assert user.username.startswith(actions.DELETED_USERNAME_PREFIX)
    assert (user.email, user.first_name, user.last_name, user.date_of_birth) == ("", "", "", None)
    assert not user.has_usable_password()
    assert not (user.is_active or user.is_staff or user.is_superuser)
    assert user.age_verified_at is None
    assert user.direct_messages_from == DirectMessagePolicy.NOBODY
    # The old name's period went (compliance keeps it in its restricted store);
    # the anonymous name's opens at the closure.
    (held,) = PseudonymHistory.objects.filter(user=user)
    assert (held.name, held.valid_from, held.valid_to) == (
        user.username,
        deletion.requested_at,
        None,
    )
    assert not user.groups.exists()
    for model in (EmailAddress, IdentityDocument, AgeVerificationAttempt, AttestationNonce):
        assert not model.objects.filter(user=user).exists()
    assert not ConnectionRecord.objects.filter(user=user).exists()
    assert ConnectionRecord.objects.filter(user=other).count() == 1  # nobody else's
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not path.exists()  # the file went once the transaction committed
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.ACCOUNT_FORGOTTEN)
    assert entry.target_id == str(user.pk) and entry.actor_id is None
    assert entry.details == {"deletion_request": deletion.pk, **forgotten}
    deletion.refresh_from_db()
    assert deletion.completed_at is not None
    assert "quitte" not in str(entry.details) and "Jeanne" not in str(entry.details)


def test_forget_connection_records_and_challenges_by_id(make_user):
    user = make_user()
    old = [_connection(user, created=timezone.now() - timedelta(days=400)) for _ in range(2)]
    recent = _connection(user)
    ids = [record.pk for record in old]

    assert actions.do_forget_connection_records(ids, actor=None, reason="retention") == 2
    assert list(ConnectionRecord.objects.values_list("pk", flat=True)) == [recent.pk]
    assert actions.do_forget_connection_records(ids, actor=None, reason="retention") == 0
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.CONNECTION_RECORDS_FORGOTTEN)
    assert entry.details == {"records": 2, "first_id": min(ids), "last_id": max(ids)}
    assert entry.reason == "retention"

    challenges = [AttestationNonce.objects.create(user=user, nonce=f"c{n}") for n in range(3)]
    forget = [challenges[0].pk, challenges[2].pk]
    assert actions.do_forget_attestation_challenges(forget, actor=None, reason="retention") == 2
    assert list(AttestationNonce.objects.values_list("pk", flat=True)) == [challenges[1].pk]
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.ATTESTATION_CHALLENGES_FORGOTTEN)
    assert entry.details == {"challenges": 2, "first_id": forget[0], "last_id": forget[1]}
