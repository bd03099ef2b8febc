"""`make run` and `make test` on a machine shared with other runs (issue 15)."""

import hashlib
import os
import subprocess

import pytest
from django.conf import settings

from tests.servers import ROOT

# Stands in for .venv/bin/python: prints what `make run` would hand the app,
# then stops make before anything is migrated or served.
SHOW_ENV = "import os, sys; print(os.environ.get('SITE_URL')); sys.exit(3)"


def site_url_under_make_run(**variables) -> str:
    env = {key: value for key, value in os.environ.items() if key != "SITE_URL"}
    env.update(variables.pop("env", {}))
    args = [f"{name}={value}" for name, value in variables.items()]
    result = subprocess.run(
        # -o: the existing .venv is taken as up to date, never rebuilt here.
        [
            "make",
            "-s",
            "-o",
            ".venv",
            "-o",
            ".venv/.installed-from-lock",
            "run",
            *args,
            f'PY=python3 -c "{SHOW_ENV}"',
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, result.stdout  # stopped by SHOW_ENV, as intended
    return result.stdout.strip().splitlines()[0]


@pytest.mark.skipif(not (ROOT / ".venv").exists(), reason="needs the project's .venv")
def test_make_run_takes_site_url_from_host_and_port():
    assert site_url_under_make_run(PORT="27800") == "http://127.0.0.1:27800"
    assert site_url_under_make_run(HOST="localhost", PORT="9001") == "http://localhost:9001"
    assert site_url_under_make_run() == "http://127.0.0.1:8000"
    # An explicit SITE_URL (the public origin behind a proxy) always wins.
    explicit = {"SITE_URL": "https://chat.example.org"}
    assert site_url_under_make_run(PORT="27800", env=explicit) == "https://chat.example.org"


def test_the_test_database_is_named_after_the_checkout():
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        # SQLite's test database is a file under this checkout's var/test/.
        assert str(ROOT) in str(database["NAME"]) or str(settings.VAR_DIR) in str(database["NAME"])
        return
    if "CHATSITE_TEST_DATABASE_NAME" not in os.environ:
        pytest.skip("the name comes from scripts/testenv")
    # scripts/testenv: test_<database>_<hash of the checkout's path>.
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    name = database["TEST"]["NAME"]
    assert name.startswith("test_") and name.endswith(f"_{checkout}"), name


# -o: the existing .venv is taken as up to date, never rebuilt here.
NO_VENV = ["-o", ".venv", "-o", ".venv/.installed-from-lock"]


def test_make_run_serves_with_daphne_unless_told_uvicorn():
    def served_by(*variables: str) -> str:
        result = subprocess.run(
            # No "make[1]: Entering directory" lines when the suite itself runs under make.
            ["make", "-n", "--no-print-directory", *NO_VENV, "run", *variables],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip().splitlines()[-1]

    assert served_by() == "scripts/serve daphne 127.0.0.1 8000"
    assert served_by("SERVER=daphne", "PORT=27801") == "scripts/serve daphne 127.0.0.1 27801"
    assert served_by("SERVER=uvicorn") == "scripts/serve uvicorn 127.0.0.1 8000"


def test_make_run_refuses_an_unknown_server_before_anything_else():
    result = subprocess.run(
        ["make", "-s", *NO_VENV, "run", "SERVER=gunicorn", f'PY=python3 -c "{SHOW_ENV}"'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Stopped by the check, not by SHOW_ENV: nothing was migrated or served.
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "SERVER=gunicorn" in result.stderr and "uvicorn" in result.stderr


def test_scripts_serve_refuses_an_unknown_server():
    result = subprocess.run(
        [str(ROOT / "scripts" / "serve"), "gunicorn", "127.0.0.1", "8000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "daphne" in result.stderr and "uvicorn" in result.stderr
