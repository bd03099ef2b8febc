"""audit/actions.py: the audit app's own writes, each a chained entry of its own."""

import pytest

from audit.actions import do_record_checkpoint, do_record_staff_access
from audit.events import AuditEvent
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_record_staff_access_keeps_who_looked_at_what_and_why(
    make_user, django_capture_on_commit_callbacks
):
    officer = make_user("anne", is_staff=True)
    before = do_record_checkpoint(actor=None, key_id="ed25519:before")
    with django_capture_on_commit_callbacks() as callbacks:
        entry = do_record_staff_access(
            AuditEvent.VIEW_CONNECTION_RECORDS,
            actor=officer,
            target_type="accounts.user",
            target_id=42,
            reason="Réquisition PV-2026-0001",
            ip_address="203.0.113.5",
            details={"records": 3},
        )
    assert len(callbacks) == 1  # the look counted in chatsite_staff_looks_total; nothing sent
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert (stored.event, stored.actor_id, stored.actor_label) == (
        AuditEvent.VIEW_CONNECTION_RECORDS,
        officer.pk,
        "anne",
    )
    assert (stored.target_type, stored.target_id, stored.reason) == (
        "accounts.user",
        "42",
        "Réquisition PV-2026-0001",
    )
    assert (stored.details, stored.ip_address) == ({"records": 3}, "203.0.113.5")
    # Chained right after the entry before it.
    assert (stored.seq, stored.prev_hash) == (before.seq + 1, before.hash)


def test_record_checkpoint_names_the_signing_key():
    entry = do_record_checkpoint(actor=None, key_id="ed25519:abcd")
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert (stored.event, stored.actor_id, stored.details) == (
        AuditEvent.AUDIT_CHECKPOINT_SIGNED,
        None,
        {"key_id": "ed25519:abcd"},
    )
