"""The load generator speaks the real protocol: signed-in bench users, the real
consumer under daphne, every message delivered once to every socket of its room."""

import json
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from bench.loadgen import Config, load_cookies, run

USERS, ROOMS, MESSAGES = 4, 2, 3


@pytest.fixture
def asgi_server_env():
    return {"MESSAGE_RATE_LIMIT": "off"}


@pytest.fixture
def bench_users(transactional_db, tmp_path):
    out = tmp_path / "users.json"
    call_command("bench_users", count=USERS, rooms=ROOMS, out=str(out), bench_database=True)
    return out


async def test_counts_exactly_against_the_real_consumer(bench_users, asgi_server):
    port = urlsplit(asgi_server.url).port
    config = Config(
        urls=[f"ws://127.0.0.1:{port}"],
        rooms=json.loads(bench_users.read_text())["rooms"],
        users=USERS,
        messages=MESSAGES,
        # Closed loop: each user waits for its own message to come back through the room.
        mode="closed",
        cookies=load_cookies(str(bench_users)),
        drain_timeout=20,
    )
    result = await run(config, max_seconds=90)

    assert result["refused_at_connect"] == {}
    assert result["connected"] == USERS
    assert result["errors"] == {}
    assert result["sent"] == USERS * MESSAGES
    assert result["expected_deliveries"] == USERS * MESSAGES * (USERS // ROOMS)
    assert result["delivered"] == result["expected_deliveries"]
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["misrouted"] == 0
    assert result["closed_loop_stalls"] == 0
