"""bench/moderation_pages.py (`make bench-moderation`) runs end to end at a tiny scale."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgres"), reason="the moderation pages bench needs PostgreSQL"
)


@pytest.fixture
def scratch_database_url():
    parts = urlsplit(DATABASE_URL)
    name = f"chatsite_bench_moderation_test_{os.getpid()}"
    url = DATABASE_URL.replace(parts.path, f"/{name}", 1)
    yield url
    with psycopg.connect(DATABASE_URL.replace(parts.path, "/postgres", 1), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.timeout(600)
def test_builds_the_site_signs_in_and_measures_the_three_pages(scratch_database_url, tmp_path):
    command = [
        sys.executable,
        "bench/moderation_pages.py",
        "--members=60",
        "--days=1.5",
        "--reports-per-hour=20",
        "--samples=3",
        f"--database-url={scratch_database_url}",
        f"--out-dir={tmp_path}",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    [results] = tmp_path.glob("moderation-pages-*.jsonl")
    record = json.loads(results.read_text())
    data = record["data"]
    assert data["members"] == 60
    assert data["reports"] == 720  # 20 an hour for 36 hours
    # The last day's reports are open, the earlier ones decided (a third with a sanction).
    assert 0 < data["open_reports"] < data["reports"]
    assert data["sanctions"] > 0
    assert set(record["pages"]) == {"queue", "landing", "case_file"}
    for page in record["pages"].values():
        assert page["n"] == 3
        assert 0 < page["p50_ms"] <= page["p95_ms"]
        assert page["queries"] > 0
    assert "| case_file `/admin/moderation/casefile/" in done.stdout
