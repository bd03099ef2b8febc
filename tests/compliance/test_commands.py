"""The contract's commands: purge_expired, transparency_report, export_legal_request."""

import hashlib
import json
import zipfile
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ConnectionRecord
from audit.events import AuditEvent
from compliance import actions
from tests.compliance.conftest import audit_entries


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_purge_expired_shows_progress_and_a_summary(make_user, make_connection, open_request):
    old = timezone.now() - timedelta(days=400)
    make_connection(make_user("mia"), created=old)
    held = make_user("noe")
    make_connection(held, created=old)
    open_request(accounts=[held])

    out, err = _run("purge_expired", "--dry-run", "--verbose")
    assert "dry run" in out
    assert "connection records purged: 1" in out
    assert "under legal hold, kept: 1 account(s), 0 room(s)" in out
    assert "connection_records" in err and "[" in err and "1/1" in err
    assert ConnectionRecord.objects.count() == 2

    # Standard error is not a terminal here: no progress unless asked for.
    out, err = _run("purge_expired")
    assert err == ""
    assert "(applied)" in out
    assert "connection records purged: 1" in out
    assert "batches (one transaction each): 1" in out
    assert list(ConnectionRecord.objects.values_list("user", flat=True)) == [held.pk]
    assert [run.details["dry_run"] for run in audit_entries(AuditEvent.RETENTION_PURGE_RUN)] == [
        True,
        False,
    ]


def test_purge_expired_batches_and_progress_per_batch(make_user, make_connection):
    old = timezone.now() - timedelta(days=400)
    for name in ("ana", "bob", "cyd", "dan", "eli"):
        make_connection(make_user(name), created=old)

    out, err = _run("purge_expired", "--batch-size", "2", "--verbose")

    assert "connection records purged: 5" in out
    assert "batches (one transaction each): 3" in out
    progress = [line.strip() for line in err.splitlines() if "connection_records" in line]
    assert [line.rsplit(" ", 1)[-1] for line in progress] == ["0/5", "2/5", "4/5", "5/5"]
    batches = audit_entries(AuditEvent.RETENTION_PURGE_BATCH)
    assert [(b.details["step"], b.details["rows"]) for b in batches] == [
        ("connection_records", 2),
        ("connection_records", 2),
        ("connection_records", 1),
    ]
    with pytest.raises(CommandError, match="at least 1"):
        _run("purge_expired", "--batch-size", "0")


def test_export_legal_request_refused_without_approval(
    make_user, officer, second_officer, open_request, tmp_path, django_capture_on_commit_callbacks
):
    request = open_request(accounts=[make_user("olga")])
    actions.do_verify_legal_request(request, actor=officer)
    with pytest.raises(CommandError, match="approval_required"):
        _run("export_legal_request", str(request.pk), "--out", str(tmp_path))
    assert list(tmp_path.iterdir()) == []

    actions.do_approve_legal_export(request, actor=second_officer)
    with django_capture_on_commit_callbacks(execute=True):
        out, _err = _run(
            "export_legal_request",
            str(request.pk),
            "--out",
            str(tmp_path / "pkg"),
            "--officer",
            "anne",
        )
    path_line, hash_line = out.splitlines()
    package = tmp_path / "pkg" / path_line.rsplit("/", 1)[-1]
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    assert hash_line == f"sha256 {digest}"
    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
    (entry,) = audit_entries(AuditEvent.LEGAL_REQUEST_EXPORTED)
    assert entry.details["sha256"] == digest
    assert entry.actor_id == officer.pk


def test_export_legal_request_bad_input(db, tmp_path):
    with pytest.raises(CommandError, match="no legal request"):
        _run("export_legal_request", "999", "--out", str(tmp_path))


def test_transparency_report_rejects_bad_dates(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("transparency_report", "--start", "2026-13-01", "--end", "2026-12-31")
    with pytest.raises(CommandError, match="ends before"):
        _run("transparency_report", "--start", "2026-12-01", "--end", "2026-11-01")


def test_transparency_report_to_a_file(db, tmp_path):
    target = tmp_path / "report.csv"
    out, _err = _run(
        "transparency_report",
        "--start",
        "2026-01-01",
        "--end",
        "2026-01-31",
        "--format",
        "csv",
        "--out",
        str(target),
    )
    assert out == ""
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "period_start,period_end,section,item,category,breakdown,value"
    assert (
        "2026-01-01,2026-01-31,notices_art16,received_by_category,STATEMENT_CATEGORY_VIOLENCE,,0"
    ) in lines
    assert "2026-01-01,2026-01-31,notices_art16,median_hours_to_act,,," in lines
