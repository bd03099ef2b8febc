"""bench/history.py (`make bench-history`) runs end to end on a small room."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from bench import history

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgres"), reason="the history bench needs PostgreSQL"
)


@pytest.fixture
def scratch_database_url():
    parts = urlsplit(DATABASE_URL)
    name = f"chatsite_bench_history_test_{os.getpid()}"
    url = DATABASE_URL.replace(parts.path, f"/{name}", 1)
    yield url
    with psycopg.connect(DATABASE_URL.replace(parts.path, "/postgres", 1), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def history_command(database_url: str, out_dir) -> list[str]:
    """The bench on 400 messages and 20 pages: small enough for a test."""
    return [
        sys.executable,
        "bench/history.py",
        "--messages=400",
        "--pages=20",
        f"--database-url={database_url}",
        f"--out-dir={out_dir}",
    ]


def test_fills_the_room_times_the_pages_and_shows_the_plans(scratch_database_url, tmp_path):
    command = history_command(scratch_database_url, tmp_path)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "EXPLAIN (ANALYZE, BUFFERS), before:" in done.stdout
    [results] = tmp_path.glob("history-*.jsonl")
    record = json.loads(results.read_text())
    assert record["messages_in_room"] == 400
    # Twice as many rows in the table: the other rooms' messages interleave.
    assert record["messages_in_table"] == 800
    assert record["messages_in_sparse_room"] > 0
    for name in history.PAGE_KINDS:
        assert record[name]["n"] == 20
        assert 0 < record[name]["p50_ms"] <= record[name]["p99_ms"]
    assert any("Index" in line for line in record["plans"]["before"]["plan"])
    # A second run reuses the rows instead of adding more.
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    latest = max(tmp_path.glob("history-*.jsonl"))
    assert json.loads(latest.read_text().splitlines()[-1])["messages_in_room"] == 400


def test_the_quiet_room_gets_rows_whatever_the_ids_parity(scratch_database_url, tmp_path):
    """After other runs on the same database (make bench) the ids may start odd,
    so that every other room's id is odd: the quiet room is still filled and the
    run completes (issue 20 found it empty and the bench crashing)."""
    parts = urlsplit(scratch_database_url)
    server = scratch_database_url.replace(parts.path, "/postgres", 1)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parts.path.lstrip("/")))
        )
    env = {**os.environ, "DATABASE_URL": scratch_database_url}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    with psycopg.connect(scratch_database_url, autocommit=True) as connection:
        # The next message id is 2: the busy room's rows get the even ids,
        # every other room's the odd ones.
        connection.execute("SELECT setval('rooms_message_id_seq', 1)")
    command = history_command(scratch_database_url, tmp_path)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    [results] = tmp_path.glob("history-*.jsonl")
    assert json.loads(results.read_text())["messages_in_sparse_room"] == 40  # one in ten
