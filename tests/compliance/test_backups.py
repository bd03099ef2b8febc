"""Backup rotation by the retention policy: old backups go, those a legal hold needs stay,
every run is audited; only files named as scripts/backup.py names them are touched."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from audit.events import AuditEvent
from compliance import actions
from compliance.models import LegalHold
from compliance.retention import retention_policy
from core.refusals import Refused
from tests.compliance.conftest import audit_entries

pytestmark = pytest.mark.django_db

# The command reads the clock: the backups' ages are counted from now (days apart, so
# the minutes a run takes change nothing).
NOW = datetime.now(UTC).replace(microsecond=0)


def _backup(directory, age: timedelta, *, database="chatsite", manifest=True, partial=False):
    """A backup as scripts/backup.py leaves it: the dump and its manifest (or, for a dump
    that died, its partial file)."""
    stamp = (NOW - age).strftime("%Y%m%dT%H%M%SZ")
    name = f"chatsite-{database}-{stamp}.dump"
    if partial:
        (directory / f"{name}.partial").write_bytes(b"half a dump")
        return name
    (directory / name).write_bytes(b"PGDMP")
    if manifest:
        (directory / f"{name}.json").write_text(json.dumps({"file": name, "created": stamp}))
    return name


@pytest.fixture
def backups(tmp_path):
    period = retention_policy().backups
    day = timedelta(days=1)
    names = {
        "expired": _backup(tmp_path, period + day),
        "expired-older": _backup(tmp_path, period + 10 * day, database="chatsite-prod"),
        "expired-partial": _backup(tmp_path, period + 2 * day, partial=True),
        "recent": _backup(tmp_path, period - day),
        "today": _backup(tmp_path, timedelta(hours=1), manifest=False),
    }
    # Not ours, or not a backup's name: never touched, however old.
    (tmp_path / "notes.txt").write_text("à garder")
    (tmp_path / "chatsite-chatsite-yesterday.dump").write_bytes(b"renamed by hand")
    (tmp_path / "chatsite-chatsite-20991340T000000Z.dump").write_bytes(b"no such date")
    return tmp_path, names


def _files(directory) -> set[str]:
    return {path.name for path in directory.iterdir()}


def test_backups_older_than_the_period_are_deleted_with_their_manifests(backups):
    directory, names = backups

    rotation = actions.do_rotate_backups(actor=None, directory=directory, now=NOW)

    assert rotation.deleted == [names["expired-older"], names["expired-partial"], names["expired"]]
    assert rotation.kept == [names["recent"], names["today"]] and rotation.kept_for_holds == []
    assert _files(directory) == {
        names["recent"],
        f"{names['recent']}.json",
        names["today"],
        "notes.txt",
        "chatsite-chatsite-yesterday.dump",
        "chatsite-chatsite-20991340T000000Z.dump",
    }
    (entry,) = audit_entries(AuditEvent.BACKUPS_ROTATED)
    assert entry.actor_id is None and entry.reason == "retention period ended"
    assert entry.details == {
        "dry_run": False,
        "now": NOW.isoformat(),
        "directory": str(directory),
        "period_days": 30,
        "deleted": rotation.deleted,
        "kept_for_holds": [],
        "kept": 2,
        "held_since": None,
    }
    # A second run finds nothing due and says so.
    again = actions.do_rotate_backups(actor=None, directory=directory, now=NOW)
    assert again.deleted == [] and len(audit_entries(AuditEvent.BACKUPS_ROTATED)) == 2


def test_a_dry_run_deletes_nothing_and_is_audited(backups):
    directory, _names = backups
    before = _files(directory)

    rotation = actions.do_rotate_backups(actor=None, directory=directory, now=NOW, dry_run=True)

    assert len(rotation.deleted) == 3
    assert _files(directory) == before
    (entry,) = audit_entries(AuditEvent.BACKUPS_ROTATED)
    assert entry.details["dry_run"] is True and entry.details["deleted"] == rotation.deleted


def test_the_period_follows_the_policy(backups, settings):
    directory, names = backups
    settings.COMPLIANCE_RETENTION = {"backups": 10}

    rotation = actions.do_rotate_backups(actor=None, directory=directory, now=NOW)

    assert names["recent"] in rotation.deleted and rotation.kept == [names["today"]]


def test_backups_made_before_an_active_hold_stay_until_it_is_released(
    backups, open_request, make_user, officer
):
    """The rule: a backup made before an active hold was placed may hold what the purge
    had already removed and the requisition needs; one made after it does not."""
    directory, names = backups
    period = retention_policy().backups
    request = open_request(accounts=[make_user("suspect")])
    placed = NOW - period - timedelta(days=5)  # after "expired-older", before "expired"
    LegalHold.objects.filter(request=request).update(placed_at=placed)

    rotation = actions.do_rotate_backups(actor=None, directory=directory, now=NOW)

    assert rotation.kept_for_holds == [names["expired-older"]]
    assert rotation.deleted == [names["expired-partial"], names["expired"]]
    assert names["expired-older"] in _files(directory)
    (entry,) = audit_entries(AuditEvent.BACKUPS_ROTATED)
    assert entry.details["kept_for_holds"] == [names["expired-older"]]
    assert entry.details["held_since"] == placed.isoformat()

    # A released hold keeps nothing: the next run deletes what it kept.
    for hold in LegalHold.objects.filter(request=request):
        actions.do_release_hold(hold, actor=officer, reason="procédure close")
    rotation = actions.do_rotate_backups(actor=None, directory=directory, now=NOW)
    assert rotation.deleted == [names["expired-older"]] and rotation.kept_for_holds == []
    assert not any(name.startswith(names["expired-older"]) for name in _files(directory))


def test_only_compliance_officers_rotate_backups(backups, moderator, officer):
    directory, _names = backups
    with pytest.raises(Refused):
        actions.do_rotate_backups(actor=moderator, directory=directory, now=NOW)
    assert audit_entries(AuditEvent.BACKUPS_ROTATED) == []
    assert actions.do_rotate_backups(actor=officer, directory=directory, now=NOW).deleted


def test_a_missing_folder_rotates_nothing(tmp_path):
    rotation = actions.do_rotate_backups(actor=None, directory=tmp_path / "absent", now=NOW)
    assert rotation.deleted == rotation.kept == []
    assert len(audit_entries(AuditEvent.BACKUPS_ROTATED)) == 1


def test_the_command_uses_backup_dir_and_reports(backups, settings, capsys):
    directory, names = backups
    settings.BACKUP_DIR = directory

    call_command("rotate_backups", "--dry-run")
    out = capsys.readouterr().out
    assert f"would delete: {names['expired']}" in out
    assert "3 would delete, 0 kept for a legal hold, 2 within the period" in out
    assert (directory / names["expired"]).exists()

    call_command("rotate_backups")
    assert f"deleted: {names['expired']}" in capsys.readouterr().out
    assert not (directory / names["expired"]).exists()
    assert [entry.details["dry_run"] for entry in audit_entries(AuditEvent.BACKUPS_ROTATED)] == [
        True,
        False,
    ]
