"""record(): one correct, chained entry per call, inside the caller's transaction."""

import hashlib
import json

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from audit import chain
from audit.events import AuditEvent
from audit.models import AuditEntry, ChainHead
from audit.trail import record
from tests.audit.conftest import entries_since, last_seq


def _expected_hash(entry: AuditEntry) -> str:
    """The hash recomputed by hand from docs/audit.md, not through audit.chain's helpers."""
    sealed = {
        "seq": entry.seq,
        "created": entry.created.astimezone(__import__("datetime").UTC).isoformat(
            timespec="microseconds"
        ),
        "actor_id": entry.actor_id,
        "event": entry.event,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "reason": entry.reason,
        "details": entry.details,
        "personal_digest": entry.personal_digest,
    }
    text = (
        entry.prev_hash
        + "\n"
        + json.dumps(sealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    )
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.django_db
def test_record_writes_one_chained_entry_with_every_field(make_user):
    moderator = make_user("modo", is_staff=True)
    before = last_seq()
    with transaction.atomic():
        first = record(
            AuditEvent.ADMIN_CHANGE,
            actor=moderator,
            target_type="rooms.room",
            target_id=12,
            reason="signalement n° 42",
            details={"old": {"name": "Général"}, "new": {"name": "Général 2"}},
            ip_address="2001:0db8:0000::0001",
            personal={"email": {"old": "a@example.org", "new": "b@example.org"}},
        )
    with transaction.atomic():
        second = record(AuditEvent.STAFF_LOGOUT, actor=None)

    assert [entry.seq for entry in entries_since(before)] == [before + 1, before + 2]
    stored = AuditEntry.objects.get(seq=first.seq)
    assert stored.actor_id == moderator.pk
    assert stored.actor_label == "modo"
    assert stored.event == AuditEvent.ADMIN_CHANGE
    assert (stored.target_type, stored.target_id) == ("rooms.room", "12")
    assert stored.reason == "signalement n° 42"
    assert stored.details == {"old": {"name": "Général"}, "new": {"name": "Général 2"}}
    assert stored.ip_address == "2001:db8::1"
    assert stored.personal_details == {"email": {"old": "a@example.org", "new": "b@example.org"}}
    # The hash, recomputed from what the database gives back, by the documented recipe.
    assert stored.hash == _expected_hash(stored) == first.hash
    assert stored.personal_digest == chain.personal_digest(
        stored.personal_salt,
        actor_label="modo",
        ip_address="2001:db8::1",
        personal=stored.personal_details,
    )
    # Personal data is outside the sealed form: only its digest is hashed.
    assert "a@example.org" not in chain.sealed_text(
        seq=stored.seq,
        created=stored.created,
        actor_id=stored.actor_id,
        event=stored.event,
        target_type=stored.target_type,
        target_id=stored.target_id,
        reason=stored.reason,
        details=stored.details,
        personal_digest=stored.personal_digest,
    )
    system = AuditEntry.objects.get(seq=second.seq)
    assert (system.actor_id, system.actor_label) == (None, "system")
    assert system.prev_hash == stored.hash
    assert ChainHead.objects.get().seq == second.seq
    assert ChainHead.objects.get().hash == second.hash


@pytest.mark.django_db
def test_the_first_entry_links_to_the_genesis_hash():
    assert not AuditEntry.objects.exists()
    with transaction.atomic():
        entry = record(AuditEvent.STAFF_LOGIN, actor=None)
    assert entry.seq == 1
    assert entry.prev_hash == chain.GENESIS_HASH


@pytest.mark.django_db
def test_values_are_normalised_to_what_the_database_gives_back(make_user):
    user = make_user()
    with transaction.atomic():
        entry = record(
            AuditEvent.ADMIN_CHANGE,
            actor=user,
            details={
                "ratio": 0.1,
                "big": 1e16,
                "when": user.date_joined,
                "who": user,
                "nul": "a\x00b",
            },
            reason="x\x00y\ud800",
            ip_address="not an address",
        )
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert stored.details == {
        "ratio": "0.1",
        "big": "1e+16",
        "when": user.date_joined.isoformat(),
        "who": user.pk,
        "nul": "a\ufffdb",
    }
    assert stored.reason == "x\ufffdy?"
    assert stored.ip_address is None
    assert stored.hash == _expected_hash(stored)


@pytest.mark.django_db
def test_an_entry_rolls_back_with_its_action_and_leaves_no_gap():
    with transaction.atomic():
        kept = record(AuditEvent.ADMIN_CHANGE, actor=None)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(AuditEvent.ADMIN_CHANGE, actor=None)
        raise RuntimeError("the action failed")
    with transaction.atomic():
        after = record(AuditEvent.ADMIN_CHANGE, actor=None)
    assert after.seq == kept.seq + 1
    assert after.prev_hash == kept.hash


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction():
    assert not connection.in_atomic_block
    with pytest.raises(TransactionManagementError):
        record(AuditEvent.ADMIN_CHANGE, actor=None)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_lost_chain_head_is_rebuilt_from_the_last_entry(append_entries):
    entries = append_entries(3)
    ChainHead.objects.all().delete()
    with transaction.atomic():
        entry = record(AuditEvent.ADMIN_CHANGE, actor=None)
    assert entry.seq == entries[-1].seq + 1
    assert entry.prev_hash == entries[-1].hash
