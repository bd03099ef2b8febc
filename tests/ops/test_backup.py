"""The restore drill: back up, restore into a new database, identical row counts,
and the restored audit trail verifies against a signed checkpoint."""

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "scripts" / "backup.py"


def _require_postgres_tools() -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    reason = None
    if missing:
        reason = f"{', '.join(missing)} not installed (Debian: postgresql-client)"
    elif connection.vendor != "postgresql":
        reason = "the tests run on SQLite: backups are for PostgreSQL"
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)


def test_database_url() -> str:
    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return (
        f"postgres://{params['USER']}{password}@{params['HOST'] or '127.0.0.1'}:"
        f"{params['PORT'] or 5432}/{params['NAME']}"
    )


test_database_url.__test__ = False  # a helper, not a test


def run_script(*args, database_url: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def counts(url: str) -> dict[str, int]:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from backup import table_counts
    finally:
        sys.path.pop(0)
    with psycopg.connect(url) as conn:
        return table_counts(conn)


@pytest.fixture
def restore_url():
    """A database name of our own, chatsite_ops_restore_*, dropped afterwards."""
    base = test_database_url()
    url = base.rsplit("/", 1)[0] + f"/chatsite_ops_restore_{secrets.token_hex(4)}"
    yield url
    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def site_data(make_user, tmp_path, settings):
    """Members, messages, audit entries and a signed checkpoint of the trail."""
    from rooms import actions
    from rooms.models import RoomKind

    settings.MESSAGE_RATE_LIMIT = "off"
    alice, bob = make_user("alice_backup"), make_user("bob_backup")
    room = actions.do_create_room(actor=alice, kind=RoomKind.PUBLIC, slug="sauvegarde", name="S")
    for number in range(5):
        actions.do_post_message(room, f"message {number}", actor=alice if number % 2 else bob)
    actions.do_block_user(bob, actor=alice)
    key = tmp_path / "keys" / "audit-signing.pem"
    call_command("audit_keygen", out=str(key))
    checkpoint = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", out=str(checkpoint), key=str(key))
    return {"key": key, "public_key": Path(f"{key}.pub"), "checkpoint": checkpoint}


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_gives_identical_rows_and_a_verifying_trail(
    site_data, restore_url, tmp_path
):
    _require_postgres_tools()
    source = test_database_url()
    dumped = run_script("dump", "--dir", str(tmp_path / "backups"), database_url=source)
    assert dumped.returncode == 0, dumped.stderr
    backup = Path(dumped.stdout.strip().splitlines()[-1])
    assert backup.is_file() and backup.suffix == ".dump"
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    manifest = json.loads(backup.with_name(backup.name + ".json").read_text())

    restored = run_script("restore", str(backup), restore_url)
    assert restored.returncode == 0, restored.stderr
    source_counts, restored_counts = counts(source), counts(restore_url)
    assert restored_counts == source_counts == manifest["tables"]
    for table in ("accounts_user", "rooms_message", "rooms_block", "audit_auditentry"):
        assert source_counts[f"public.{table}"] > 0
    verified = run_script("verify", str(backup), restore_url)
    assert verified.returncode == 0, verified.stderr

    audit = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "audit_verify",
            "--checkpoint",
            str(site_data["checkpoint"]),
            "--public-key",
            str(site_data["public_key"]),
        ],
        env={**os.environ, "DATABASE_URL": restore_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert audit.returncode == 0, audit.stderr
    assert "audit trail intact" in audit.stdout
    assert "1 signed checkpoint(s) matched" in audit.stdout

    # The drill notices an incomplete restore: a row missing, the trail's end cut.
    with psycopg.connect(restore_url, autocommit=True) as conn:
        conn.execute("DELETE FROM rooms_message WHERE id = (SELECT max(id) FROM rooms_message)")
        conn.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER ALL")
        last = conn.execute("SELECT max(seq) FROM audit_auditentry").fetchone()[0]
        conn.execute("DELETE FROM audit_auditentry WHERE seq = %s", [last])
        conn.execute(
            "UPDATE audit_chainhead SET seq = %s, hash = "
            "(SELECT hash FROM audit_auditentry WHERE seq = %s)",
            [last - 1, last - 1],
        )
    verified = run_script("verify", str(backup), restore_url)
    assert verified.returncode == 1
    assert "public.rooms_message" in verified.stderr
    audit = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "audit_verify",
            "--checkpoint",
            str(site_data["checkpoint"]),
            "--public-key",
            str(site_data["public_key"]),
        ],
        env={**os.environ, "DATABASE_URL": restore_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert audit.returncode == 1
    assert "truncated" in audit.stderr


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_has_tables(site_data, tmp_path):
    _require_postgres_tools()
    source = test_database_url()
    dumped = run_script("dump", "--dir", str(tmp_path), database_url=source)
    backup = dumped.stdout.strip().splitlines()[-1]
    refused = run_script("restore", backup, source)
    assert refused.returncode == 2
    assert "already has tables" in refused.stderr


def test_backup_refuses_without_a_postgresql_database_url(tmp_path):
    for url in ("", "sqlite:///var/chatsite.sqlite3"):
        refused = run_script("dump", "--dir", str(tmp_path), database_url=url)
        assert refused.returncode == 2
        assert "PostgreSQL URL" in refused.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db(transaction=True)
def test_the_drill_runs_every_step_and_drops_its_database(
    site_data, restore_url, tmp_path, monkeypatch
):
    _require_postgres_tools()
    scratch = restore_url.rsplit("/", 1)[1]
    monkeypatch.setenv("AUDIT_VERIFY_KEY", str(site_data["public_key"]))
    drill = run_script(
        "drill",
        "--dir",
        str(tmp_path / "drill"),
        "--checkpoint",
        str(site_data["checkpoint"]),
        "--scratch-name",
        scratch,
        database_url=test_database_url(),
    )
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "identical row counts" in drill.stdout
    assert "audit_verify exited 0" in drill.stdout
    with psycopg.connect(test_database_url(), autocommit=True) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [scratch]).fetchone()
    assert left is None


@pytest.mark.django_db(transaction=True)
def test_the_drill_never_touches_an_existing_database(site_data, tmp_path):
    _require_postgres_tools()
    source = test_database_url()
    refused = run_script(
        "drill",
        "--dir",
        str(tmp_path),
        "--scratch-name",
        source.rsplit("/", 1)[1],
        database_url=source,
    )
    assert refused.returncode == 2
    assert "exists" in refused.stderr
    assert counts(source)["public.accounts_user"] > 0
