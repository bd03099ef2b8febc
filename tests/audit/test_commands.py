"""audit_verify, audit_checkpoint and audit_keygen, as an operator runs them."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from audit import checkpoints, queries
from audit.events import AuditEvent
from audit.models import AuditEntry, ChainHead
from audit.trail import record


def verify(*args) -> str:
    out = io.StringIO()
    call_command("audit_verify", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def verify_fails(*args) -> CommandError:
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", *args, stdout=io.StringIO(), stderr=io.StringIO())
    return failure.value


@pytest.fixture
def signing_key(tmp_path, settings):
    path = tmp_path / "keys" / "audit.pem"
    call_command("audit_keygen", "--out", str(path), stdout=io.StringIO())
    settings.AUDIT_SIGNING_KEY = str(path)
    return path


def checkpoint(tmp_path, name="head.json"):
    path = tmp_path / name
    call_command("audit_checkpoint", "--out", str(path), stderr=io.StringIO())
    return path


def _resign_every_entry_from(seq: int, tamper) -> None:
    """What an attacker with database access does: re-hash the chain after an edit."""
    from audit import chain

    prev = AuditEntry.objects.get(seq=seq - 1).hash if seq > 1 else chain.GENESIS_HASH
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        sealed = chain.sealed_text(
            seq=entry.seq,
            created=entry.created,
            actor_id=entry.actor_id,
            event=entry.event,
            target_type=entry.target_type,
            target_id=entry.target_id,
            reason=entry.reason,
            details=entry.details,
            personal_digest=entry.personal_digest,
        )
        new_hash = chain.entry_hash(prev, sealed)
        tamper(
            "UPDATE audit_auditentry SET prev_hash = %s, hash = %s WHERE seq = %s",
            [prev, new_hash, entry.seq],
        )
        prev = new_hash
    ChainHead.objects.filter(pk=1).update(hash=prev)


@pytest.mark.django_db
def test_an_intact_trail_verifies(append_entries):
    append_entries(5)
    output = verify()
    assert "audit trail intact: 5 entries, head entry 5" in output


@pytest.mark.django_db
def test_an_empty_trail_verifies():
    assert "audit trail intact: 0 entries" in verify()


@pytest.mark.django_db
def test_an_entry_altered_through_raw_sql_fails_naming_that_entry(append_entries, tamper):
    append_entries(5)
    tamper("UPDATE audit_auditentry SET reason = %s WHERE seq = 3", ["nothing to see"])
    error = verify_fails()
    assert error.returncode == 1
    assert "first: entry 3: its content does not match its hash" in str(error)


@pytest.mark.django_db
def test_the_command_exits_with_status_1(append_entries, tamper):
    from audit.management.commands.audit_verify import Command

    append_entries(3)
    tamper("UPDATE audit_auditentry SET details = %s WHERE seq = 2", ['{"index": 99}'])
    with pytest.raises(SystemExit) as exit_info:
        Command(stdout=io.StringIO(), stderr=io.StringIO()).run_from_argv(
            ["manage.py", "audit_verify"]
        )
    assert exit_info.value.code == 1


@pytest.mark.django_db
def test_altered_personal_columns_fail_their_digest(append_entries, tamper):
    append_entries(3)
    tamper("UPDATE audit_auditentry SET ip_address = %s WHERE seq = 2", ["198.51.100.1"])
    assert "first: entry 2: its personal columns" in str(verify_fails())


@pytest.mark.django_db
def test_a_removed_entry_in_the_middle_is_named(append_entries, tamper):
    append_entries(5)
    tamper("DELETE FROM audit_auditentry WHERE seq = 3")
    assert "first: entry 3: missing" in str(verify_fails())


@pytest.mark.django_db
def test_removing_the_last_entries_is_caught_by_the_head_then_by_a_checkpoint(
    append_entries, tamper, signing_key, tmp_path
):
    append_entries(4)
    signed = checkpoint(tmp_path)  # entry 5, the checkpoint's own
    append_entries(2)
    tamper("DELETE FROM audit_auditentry WHERE seq >= 4")
    # The head row still says 7: caught without a checkpoint.
    assert "entries were removed from the end" in str(verify_fails())
    # An attacker who also rewinds the head passes the plain check...
    last = AuditEntry.objects.order_by("-seq").first()
    ChainHead.objects.filter(pk=1).update(seq=last.seq, hash=last.hash)
    assert "audit trail intact: 3 entries" in verify()
    # ...but not the signed checkpoint kept off the platform.
    error = verify_fails("--checkpoint", str(signed))
    assert error.returncode == 1
    assert "first: entry 5: missing, but the checkpoint signed at" in str(error)
    assert "truncated" in str(error)


@pytest.mark.django_db
def test_a_wholesale_rewrite_passes_the_chain_but_not_the_checkpoint(
    append_entries, tamper, signing_key, tmp_path
):
    append_entries(3)
    signed = checkpoint(tmp_path)
    assert "1 signed checkpoint(s) matched" in verify("--checkpoint", str(signed))
    tamper("UPDATE audit_auditentry SET reason = %s WHERE seq = 2", ["rewritten"])
    _resign_every_entry_from(2, tamper)
    assert "audit trail intact" in verify()
    error = verify_fails("--checkpoint", str(signed))
    assert "first: entry 4: its hash" in str(error)
    assert "rewritten" in str(error)


@pytest.mark.django_db
def test_checkpoint_records_its_entry_and_signs_the_head(signing_key, tmp_path, append_entries):
    append_entries(2)
    path = checkpoint(tmp_path)
    document = json.loads(path.read_text())
    entry = AuditEntry.objects.get(seq=document["seq"])
    assert entry.event == AuditEvent.AUDIT_CHECKPOINT_SIGNED
    assert document["hash"] == entry.hash
    assert document["format"] == checkpoints.FORMAT
    public_key = checkpoints.load_public_key(f"{signing_key}.pub")
    assert checkpoints.read(path, public_key).seq == entry.seq


@pytest.mark.django_db
def test_a_forged_or_foreign_checkpoint_is_refused(signing_key, tmp_path, append_entries):
    append_entries(1)
    path = checkpoint(tmp_path)
    document = json.loads(path.read_text())
    document["seq"] = 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    error = verify_fails("--checkpoint", str(forged))
    assert error.returncode == 2
    assert "signature does not verify" in str(error)

    other_key = tmp_path / "other.pem"
    call_command("audit_keygen", "--out", str(other_key), stdout=io.StringIO())
    error = verify_fails("--checkpoint", str(path), "--public-key", f"{other_key}.pub")
    assert "not with the trusted key" in str(error)


@pytest.mark.django_db
def test_checkpoint_needs_a_key(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="no signing key"):
        call_command("audit_checkpoint", "--out", str(tmp_path / "x.json"))
    assert not AuditEntry.objects.exists()


def test_keygen_will_not_overwrite_a_key(tmp_path):
    path = tmp_path / "audit.pem"
    call_command("audit_keygen", "--out", str(path), stdout=io.StringIO())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(CommandError, match="exists"):
        call_command("audit_keygen", "--out", str(path), stdout=io.StringIO())


@pytest.mark.django_db
def test_verify_reports_progress_on_long_chains(append_entries, monkeypatch):
    monkeypatch.setattr(queries, "VERIFY_CHUNK", 4)
    append_entries(9)
    err = io.StringIO()
    call_command("audit_verify", stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "audit_verify: 4 entries checked (44%)",
        "audit_verify: 8 entries checked (88%)",
        "audit_verify: 9 entries checked (100%)",
    ]


@pytest.mark.django_db
def test_the_trail_verifies_after_entries_from_many_sources(make_user):
    user = make_user()
    for event in (AuditEvent.STAFF_LOGIN, AuditEvent.VIEW_ACCOUNT_DETAILS):
        with transaction.atomic():
            record(
                event,
                actor=user,
                target_type="accounts.user",
                target_id=user.pk,
                details={"nested": {"list": [1, "deux", None, True]}},
                reason="é" * 300,
            )
    assert "2 entries" in verify()


@pytest.mark.django_db(transaction=True)
def test_parallel_verification_finds_what_the_sequential_one_finds(
    append_entries, tamper, monkeypatch
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("worker processes cannot open SQLite's in-memory test database")
    monkeypatch.setattr(queries, "VERIFY_CHUNK", 3)
    append_entries(10)
    out = io.StringIO()
    call_command("audit_verify", "--workers", "3", stdout=out, stderr=io.StringIO())
    assert "audit trail intact: 10 entries, head entry 10" in out.getvalue()
    tamper("UPDATE audit_auditentry SET reason = 'x' WHERE seq = 5")
    tamper("DELETE FROM audit_auditentry WHERE seq IN (7, 8)")
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", "--workers", "3", stdout=io.StringIO(), stderr=io.StringIO())
    message = str(failure.value)
    assert "3 problem(s) in 8 entries; first: entry 5: its content does not match" in message
    with pytest.raises(CommandError) as sequential:
        call_command("audit_verify", "--workers", "1", stdout=io.StringIO(), stderr=io.StringIO())
    assert str(sequential.value) == message
