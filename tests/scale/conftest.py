"""Several real daphne processes sharing the test database and Redis."""

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from types import SimpleNamespace

import pytest
import redis
from channels.layers import channel_layers
from django.test import override_settings

from chatsite.services import redis_channel_layer
from tests.servers import DaphneProcess, database_url, free_port, start_daphne


@pytest.fixture
def cluster(transactional_db, tmp_path, redis_url):
    """`cluster(n)` starts n daphne processes on one Redis prefix of this test's
    own; the test process's channel layer uses the same, so that what the test
    sends through rooms.notify reaches every server."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        pytest.skip("the cluster tests need PostgreSQL shared between processes")
    prefix = f"cluster{uuid.uuid4().hex[:8]}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"EMAIL_URL", "AGE_ATTESTATION_PROVIDER_URL"}
    }
    env.update(
        DEBUG="0",
        DATABASE_URL=database_url(database),
        REDIS_URL=redis_url,
        REDIS_PREFIX=prefix,
        ALLOWED_HOSTS="127.0.0.1",
        MESSAGE_RATE_LIMIT="off",
        TRUST_GATES="off",
        CHATSITE_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="chatsite.settings",
        LOG_LEVEL="WARNING",
    )
    # Production serving (DEBUG=0) names static files from the manifest that
    # `collectstatic` wrote; the session already collected them once.
    (tmp_path / "var").mkdir(exist_ok=True)
    (tmp_path / "var" / "static").symlink_to(settings.STATIC_ROOT, target_is_directory=True)
    servers: list[DaphneProcess] = []

    def start(
        count: int, *, redis: str | None = None, server: str = "daphne"
    ) -> list[DaphneProcess]:
        """`redis`: another Redis URL than the shared test server's; `server`: daphne
        or uvicorn (scripts/serve)."""
        for _ in range(count):
            number = len(servers)
            server_env = env if redis is None else {**env, "REDIS_URL": redis}
            log_path = tmp_path / f"{server}-{number}.log"
            servers.append(start_daphne(server_env, log_path, server=server))
        return servers[-count:]

    layers = {"default": redis_channel_layer(redis_url, prefix)}
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        yield start
        channel_layers.backends.clear()
    for server in servers:
        # Not a graceful stop: it would wait for daphne's 10 s application timeout.
        server.kill()


@pytest.fixture
def restartable_redis(redis_url):
    """A redis-server of this test's own on a fixed port, to stop and start again."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no"]
    processes: list[subprocess.Popen] = []

    def start() -> None:
        processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        client = redis.Redis(port=port, socket_connect_timeout=1)
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop() -> None:
        processes[-1].kill()
        processes[-1].wait()

    start()
    yield SimpleNamespace(url=f"redis://127.0.0.1:{port}/0", start=start, stop=stop)
    for process in processes:
        process.kill()
        process.wait()
