"""Real server processes for tests that need a live server (browser, cluster).

Each server runs the project's ASGI app in a subprocess on a free port of
127.0.0.1, against the test database, and is ready once /healthz answers 200.
It is started by scripts/serve, as `make run` starts it: daphne unless the test
asks for uvicorn (`server="uvicorn"`).
"""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
SERVE = ROOT / "scripts" / "serve"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(database: dict) -> str:
    """The DATABASE_URL of Django's (test) database settings."""
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    user = quote(database.get("USER") or "")
    password = quote(database.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{database['NAME']}"


@dataclass
class DaphneProcess:
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup, as a crash."""
        self.process.kill()
        self.process.wait()


def healthz(url: str) -> int | None:
    """The status of GET /healthz, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def start_daphne(
    env: dict[str, str],
    log_path: Path,
    *,
    port: int | None = None,
    timeout: float = 30,
    server: str = "daphne",
) -> DaphneProcess:
    """Starts `server` (daphne or uvicorn, scripts/serve) with this environment;
    fails unless /healthz says 200 in time."""
    port = port or free_port()
    # The server's own origin is the one its WebSockets accept (exact Origin
    # check), unless the caller chose another. This interpreter, not .venv's:
    # the tests' own environment.
    env = {"SITE_URL": f"http://127.0.0.1:{port}", **env, "CHATSITE_PYTHON": sys.executable}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(SERVE), server, "127.0.0.1", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    started = DaphneProcess(port=port, process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while healthz(started.url) != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            started.kill()
            raise RuntimeError(f"{server} did not start:\n{started.log()}")
        time.sleep(0.1)
    return started
