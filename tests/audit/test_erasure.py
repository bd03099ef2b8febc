"""Erasing a person clears their personal data from the trail without breaking the chain."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from audit.actions import do_erase_personal_data
from audit.events import AuditEvent
from audit.models import AuditEntry
from audit.trail import record


def _verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_erasure_clears_personal_columns_and_the_chain_still_verifies(make_user):
    staff = make_user("officer", is_staff=True)
    alice = make_user("alice")
    with transaction.atomic():
        by_alice = record(AuditEvent.STAFF_LOGIN, actor=alice, ip_address="192.0.2.1")
    with transaction.atomic():
        about_alice = record(
            AuditEvent.ADMIN_CHANGE,
            actor=staff,
            target_type="accounts.user",
            target_id=alice.pk,
            details={"changed_fields": ["email"]},
            personal={"email": {"old": "alice@example.org", "new": "a@example.org"}},
            ip_address="192.0.2.2",
        )
    with transaction.atomic():
        unrelated = record(AuditEvent.STAFF_LOGIN, actor=staff, ip_address="192.0.2.3")

    erasure = do_erase_personal_data(alice.pk, actor=staff, reason="demande d'effacement n° 7")

    for seq in (by_alice.seq, about_alice.seq):
        entry = AuditEntry.objects.get(seq=seq)
        assert entry.is_erased
        assert (entry.actor_label, entry.ip_address, entry.personal_details) == ("", None, None)
    # Sealed fields stay: who (pseudonymously), what, when, on what.
    kept = AuditEntry.objects.get(seq=about_alice.seq)
    assert (kept.actor_id, kept.target_id, kept.hash) == (staff.pk, str(alice.pk), about_alice.hash)
    assert AuditEntry.objects.get(seq=unrelated.seq).actor_label == "officer"
    assert erasure.event == AuditEvent.AUDIT_PERSONAL_DATA_ERASED
    assert erasure.details["entries"] == 2
    assert erasure.details["up_to_seq"] == about_alice.seq
    assert "audit trail intact: 4 entries" in _verify()


@pytest.mark.django_db
def test_personal_columns_cleared_without_a_recorded_erasure_are_caught(append_entries):
    append_entries(3)
    # The one UPDATE the guards allow, but done behind the trail's back.
    AuditEntry.objects.filter(seq=2).update(
        actor_label="", ip_address=None, personal_details=None, personal_salt=""
    )
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", stdout=io.StringIO(), stderr=io.StringIO())
    assert "entry 2: its personal columns were cleared without a recorded erasure" in str(
        failure.value
    )
