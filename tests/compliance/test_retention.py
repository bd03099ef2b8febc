"""Account deletion, the retention purge and legal holds; time is moved, never waited for."""

from datetime import timedelta
from html import unescape

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone

from accounts.actions import do_request_account_deletion
from accounts.models import AccountDeletionRequest, ConnectionRecord
from audit.events import AuditEvent
from audit.models import AuditEntry
from compliance import actions
from compliance.models import RestrictedCategory, RestrictedRecord
from compliance.retention import retention_policy
from core.refusals import Refused
from rooms.models import Block, Message, RoomMembership
from tests.compliance.conftest import audit_entries

YEAR = timedelta(days=365)


@pytest.fixture
def member(make_user, make_room, make_message, make_connection):
    """A member with a profile, messages, memberships, a block and connection records."""
    user = make_user("carole")
    other = make_user("denis")
    room = make_room("general")
    make_message(room, user, "mon message public")
    RoomMembership.objects.create(room=room, user=user)
    Block.objects.create(blocker=user, blocked=other)
    make_connection(user, ip="198.51.100.5", port=4444, created=timezone.now() - timedelta(days=3))
    make_connection(user, ip="198.51.100.6", port=5555)
    return user


def _purge(**kwargs):
    return actions.do_purge_expired(actor=None, **kwargs)


def test_deletion_keeps_exactly_the_retained_categories(member, officer):
    user_id = member.pk
    # The member's request takes effect at once, in the same transaction.
    do_request_account_deletion(member, actor=member)
    deletion = AccountDeletionRequest.objects.get(user=member)

    records = RestrictedRecord.objects.filter(user_id=user_id)
    assert sorted(records.values_list("category", flat=True)) == [
        RestrictedCategory.ACCOUNT,
        RestrictedCategory.CONNECTION,
        RestrictedCategory.CONNECTION,
        RestrictedCategory.IDENTITY,
        RestrictedCategory.PSEUDONYM,
    ]
    identity = records.get(category=RestrictedCategory.IDENTITY)
    assert identity.data["email"] == "carole@example.org"
    assert identity.data["date_of_birth"] == "1990-01-01"
    assert identity.retain_until == deletion.requested_at + 5 * YEAR
    account = records.get(category=RestrictedCategory.ACCOUNT)
    assert account.data["username"] == "carole"
    assert account.retain_until == deletion.requested_at + YEAR
    connections = records.filter(category=RestrictedCategory.CONNECTION).order_by("occurred_at")
    assert [(r.data["ip_address"], r.data["port"]) for r in connections] == [
        ("198.51.100.5", 4444),
        ("198.51.100.6", 5555),
    ]
    assert all(r.retain_until == r.occurred_at + YEAR for r in connections)

    # The profile is gone, the public content stays under an anonymous name.
    member.refresh_from_db()
    assert member.username.startswith("supprime-")
    assert member.email == "" and member.date_of_birth is None
    assert not member.has_usable_password() and not member.is_active
    assert not EmailAddress.objects.filter(user_id=user_id).exists()
    assert not RoomMembership.objects.filter(user_id=user_id).exists()
    assert not Block.objects.filter(blocker_id=user_id).exists()
    assert not ConnectionRecord.objects.filter(user_id=user_id).exists()
    assert list(Message.objects.filter(author_id=user_id).values_list("body", flat=True)) == [
        "mon message public"
    ]

    deletion.refresh_from_db()
    assert deletion.completed_at is not None
    (entry,) = audit_entries(AuditEvent.ACCOUNT_DELETION_COMPLETED, target_id=str(user_id))
    assert entry.actor_id is None  # done by the system, on the member's request
    assert entry.details["connections_retained"] == 2
    assert entry.details["held"] is False
    # The audit details never carry the personal data itself.
    assert "carole" not in str(entry.details)

    with pytest.raises(Refused):
        actions.do_complete_account_deletion(deletion, actor=officer)


def test_held_account_survives_the_purge_and_unheld_one_is_purged_on_schedule(
    make_user, make_connection, open_request
):
    held = make_user("held")
    free = make_user("free")
    for user in (held, free):
        make_connection(user)
        do_request_account_deletion(user, actor=user)
    open_request(accounts=[held])
    start = timezone.now()

    first = _purge(now=start)
    assert first.counts["account_deletions"] == 0  # both completed when requested
    # identity, account, pseudonym, connection
    assert RestrictedRecord.objects.filter(user=held).count() == 4
    assert RestrictedRecord.objects.filter(user=free).count() == 4

    # One year and a day later: account data, pseudonyms and connection records have expired.
    later = _purge(now=start + YEAR + timedelta(days=1))
    assert later.counts["restricted_records"] == 3
    assert later.audit_erasures == 1
    assert list(RestrictedRecord.objects.filter(user=free).values_list("category", flat=True)) == [
        RestrictedCategory.IDENTITY
    ]
    assert RestrictedRecord.objects.filter(user=held).count() == 4
    # The audit trail forgets the free account's personal columns, not the held one's.
    (erasure,) = audit_entries(AuditEvent.AUDIT_PERSONAL_DATA_ERASED)
    assert erasure.details["subject_id"] == str(free.pk)

    # Five years on, the identity data goes too; the held account still keeps everything.
    _purge(now=start + 5 * YEAR + timedelta(days=1))
    assert not RestrictedRecord.objects.filter(user=free).exists()
    assert RestrictedRecord.objects.filter(user=held).count() == 4

    runs = audit_entries(AuditEvent.RETENTION_PURGE_RUN)
    assert [run.details["counts"]["restricted_records"] for run in runs] == [0, 3, 1]
    assert all(run.details["held_accounts"] == 1 for run in runs)


def test_old_connection_records_go_unless_held(make_user, make_connection, open_request):
    now = timezone.now()
    active = make_user("active")
    held = make_user("suspect")
    old = make_connection(active, created=now - YEAR - timedelta(days=1))
    recent = make_connection(active, created=now - YEAR + timedelta(days=1))
    held_old = make_connection(held, created=now - 2 * YEAR)
    open_request(accounts=[held])

    summary = _purge(now=now)

    assert summary.counts["connection_records"] == 1
    remaining = set(ConnectionRecord.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, held_old.pk}
    assert old.pk not in remaining


def test_deleted_messages_lose_their_text_after_the_grace_period(
    make_user, make_room, make_message, open_request
):
    now = timezone.now()
    grace = retention_policy().deleted_message_grace
    author = make_user("eve")
    room = make_room("general")
    held_room = make_room("under-investigation")
    expired = make_message(room, author, "effacé", deleted_at=now - grace - timedelta(hours=1))
    in_grace = make_message(room, author, "récent", deleted_at=now - grace + timedelta(hours=1))
    shown = make_message(room, author, "visible")
    held = make_message(held_room, author, "preuve", deleted_at=now - 2 * grace)
    open_request(rooms=[held_room])

    summary = _purge(now=now)

    assert summary.counts["deleted_message_texts"] == 1
    bodies = dict(Message.objects.values_list("pk", "body"))
    assert bodies == {expired.pk: "", in_grace.pk: "récent", shown.pk: "visible", held.pk: "preuve"}

    # A year after the deletion, the operation record (the row) goes as well.
    summary = _purge(now=now + YEAR)
    assert summary.counts["content_operation_records"] == 2
    assert set(Message.objects.values_list("pk", flat=True)) == {shown.pk, held.pk}


def test_dry_run_changes_nothing_and_is_audited(make_user, make_connection):
    user = make_user("frank")
    make_connection(user, created=timezone.now() - 2 * YEAR)
    # A request whose completion is still pending (e.g. filed before completion
    # became immediate): the purge completes it, a dry run only counts it.
    AccountDeletionRequest.objects.create(user=user)

    summary = _purge(dry_run=True)

    assert summary.counts["connection_records"] == 1
    assert summary.counts["account_deletions"] == 1
    assert ConnectionRecord.objects.filter(user=user).count() == 1
    assert AccountDeletionRequest.objects.get(user=user).completed_at is None
    (run,) = audit_entries(AuditEvent.RETENTION_PURGE_RUN)
    assert run.details["dry_run"] is True
    assert run.details["counts"]["connection_records"] == 1
    assert run.details["policy_days"]["identity_data"] == 5 * 365


def test_retention_is_configurable(settings, make_user, make_connection):
    settings.COMPLIANCE_RETENTION = {"content_operations": 30}
    user = make_user("gil")
    make_connection(user, created=timezone.now() - timedelta(days=31))
    assert _purge().counts["connection_records"] == 1


def test_bad_retention_settings_fail_clearly(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.COMPLIANCE_RETENTION = {"identity": 10}
    with pytest.raises(ImproperlyConfigured, match="unknown keys"):
        retention_policy()
    settings.COMPLIANCE_RETENTION = {"identity_data": 0}
    with pytest.raises(ImproperlyConfigured, match="positive"):
        retention_policy()


def test_audit_chain_still_verifies_after_a_purge(make_user, make_connection):
    from django.core.management import call_command

    user = make_user("hugo")
    make_connection(user)
    do_request_account_deletion(user, actor=user)
    start = timezone.now()
    _purge(now=start)
    _purge(now=start + YEAR + timedelta(days=1))
    assert AuditEntry.objects.filter(actor_id=user.pk, personal_salt="").exists()
    call_command("audit_verify", verbosity=0)


def test_old_age_attestation_challenges_go_unless_held(make_user, open_request):
    from accounts.models import AttestationNonce

    now = timezone.now()
    active, held = make_user("active"), make_user("suspect")

    def challenge(user, nonce, age):
        return AttestationNonce.objects.create(user=user, nonce=nonce, issued_at=now - age)

    old = challenge(active, "old", YEAR + timedelta(days=1))
    recent = challenge(active, "recent", YEAR - timedelta(days=1))
    held_old = challenge(held, "held", 2 * YEAR)
    open_request(accounts=[held])

    assert _purge(now=now, dry_run=True).counts["attestation_challenges"] == 1
    assert AttestationNonce.objects.filter(pk=old.pk).exists()  # a dry run changes nothing
    summary = _purge(now=now)

    assert summary.counts["attestation_challenges"] == 1
    remaining = set(AttestationNonce.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, held_old.pk}


def test_pending_identity_documents_expire_after_the_review_period_unless_held(
    make_user, open_request, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts import documents
    from accounts.actions import do_submit_identity_document
    from accounts.models import AgeVerificationAttempt, DocumentStatus, IdentityDocument

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    now = timezone.now()

    def submit(user, age):
        document = do_submit_identity_document(user, SimpleUploadedFile("id.png", png), actor=user)
        IdentityDocument.objects.filter(pk=document.pk).update(uploaded_at=now - age)
        return document

    forgotten = submit(make_user("oublie", age_verified=False), timedelta(days=31))
    recent = submit(make_user("recent", age_verified=False), timedelta(days=29))
    suspect = make_user("suspect", age_verified=False)
    held = submit(suspect, timedelta(days=90))
    open_request(accounts=[suspect])
    forgotten_file = documents.document_path(forgotten.stored_name)

    assert _purge(now=now, dry_run=True).counts["expired_identity_documents"] == 1
    assert forgotten_file.exists()  # a dry run changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        summary = _purge(now=now)

    assert summary.counts["expired_identity_documents"] == 1
    assert not forgotten_file.exists()
    forgotten.refresh_from_db()
    assert (forgotten.status, forgotten.stored_name) == (DocumentStatus.EXPIRED, "")
    attempt = AgeVerificationAttempt.objects.filter(user=forgotten.user).first()
    assert (attempt.outcome, attempt.reason) == ("refused", "document_expired")
    (entry,) = audit_entries(AuditEvent.AGE_DOCUMENT_EXPIRED)
    assert entry.target_id == str(forgotten.pk)
    for kept in (recent, held):
        kept.refresh_from_db()
        assert kept.status == DocumentStatus.PENDING
        assert documents.document_path(kept.stored_name).exists()
    # The member is told on the age page, and may send another document.
    client = Client()
    client.force_login(forgotten.user)
    assert "examiné à temps" in unescape(client.get("/accounts/age/").content.decode())


def test_the_earlier_texts_of_a_deleted_message_go_with_it(make_user, make_room, make_message):
    from rooms.models import MessageVersion

    now = timezone.now()
    grace = retention_policy().deleted_message_grace
    author = make_user("fanny")
    room = make_room("general")
    edited = make_message(room, author, "version 2", deleted_at=now - grace - timedelta(hours=1))
    kept = make_message(room, author, "toujours là")
    for message, body in ((edited, "version 1"), (kept, "avant")):
        MessageVersion.objects.create(message=message, number=0, body=body, written_at=now)

    _purge(now=now)

    bodies = dict(MessageVersion.objects.values_list("message_id", "body"))
    assert bodies == {edited.pk: "", kept.pk: "avant"}


def test_presence_intervals_go_a_year_after_they_end_unless_held(
    make_user, make_room, open_request
):
    from rooms.models import PresenceInterval

    now = timezone.now()
    active, held = make_user("active"), make_user("suspect")
    room, held_room = make_room("general"), make_room("enquete")

    def interval(user, in_room, ended_ago):
        return PresenceInterval.objects.create(
            room=in_room,
            user=user,
            started_at=now - ended_ago - timedelta(hours=2),
            ended_at=now - ended_ago,
            seen_at=now - ended_ago,
        )

    old = interval(active, room, YEAR + timedelta(days=1))
    recent = interval(active, room, YEAR - timedelta(days=1))
    held_person = interval(held, room, 2 * YEAR)
    held_place = interval(active, held_room, 2 * YEAR)
    open_request(accounts=[held], rooms=[held_room])

    summary = _purge(now=now)

    assert summary.counts["presence_intervals"] == 1
    assert set(PresenceInterval.objects.values_list("pk", flat=True)) == {
        recent.pk,
        held_person.pk,
        held_place.pk,
    }
    assert not PresenceInterval.objects.filter(pk=old.pk).exists()
    [forgotten] = audit_entries(AuditEvent.PRESENCE_INTERVALS_FORGOTTEN)
    assert forgotten.details["intervals"] == 1
    assert forgotten.reason == "retention period ended"
