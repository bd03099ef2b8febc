"""/healthz: a database query and a real round trip through the channel layer."""

import shutil
import socket
import subprocess
import time
import uuid

import pytest
import redis
from channels.layers import channel_layers
from django.test import override_settings

from chatsite.services import redis_channel_layer

pytestmark = pytest.mark.django_db


async def test_healthz_ok_on_each_layer(async_client, channel_layer_backend):
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}
    # A second probe reuses the process's probe channel and still round-trips.
    response = await async_client.get("/healthz")
    assert response.status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis(redis_url):
    """A Redis server of this test's own, so that stopping it harms nobody else."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield process, url
    process.kill()
    process.wait()


async def test_healthz_reports_a_stopped_redis_as_down(async_client, private_redis):
    process, url = private_redis
    layers = {"default": redis_channel_layer(url, f"health{uuid.uuid4().hex[:6]}")}
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        response = await async_client.get("/healthz")
        assert response.status_code == 200, response.content

        process.terminate()
        process.wait()
        response = await async_client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "down", "database": "ok", "channel_layer": "down"}
    channel_layers.backends.clear()


async def test_healthz_reports_a_database_failure(async_client, monkeypatch):
    from chatsite import views

    def broken():
        raise OSError("connection refused")

    monkeypatch.setattr(views, "_check_database", broken)
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"
