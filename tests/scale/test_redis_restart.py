"""A Redis restart under a running server: nothing stored is lost, /healthz says
the channel layer is down meanwhile, and live delivery comes back by itself."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from rooms.models import Message
from tests.scale.test_cluster import (
    TIMEOUT,
    cookie_of,
    make_room,
    next_message,
    open_ws,
    present,
)
from tests.servers import healthz

pytestmark = pytest.mark.django_db(transaction=True)


async def wait_health(server, status: int, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while await asyncio.to_thread(healthz, server.url) != status:
            await asyncio.sleep(0.2)


async def test_a_redis_restart_loses_nothing_and_recovers_by_itself(
    cluster, restartable_redis, make_user
):
    [server] = cluster(1, redis=restartable_redis.url)
    amake_user = database_sync_to_async(make_user)
    alice, bob = await amake_user(), await amake_user()
    await make_room("general")
    alice_ws = await open_ws(server, "general", await cookie_of(alice))
    bob_ws = await open_ws(server, "general", await cookie_of(bob))
    await present(bob_ws, bob.username)
    await alice_ws.send(json.dumps({"type": "message.send", "body": "avant", "client_id": "1"}))
    last_seen = (await next_message(bob_ws))["id"]

    restartable_redis.stop()
    await wait_health(server, 503, TIMEOUT)
    # The database is the truth: a message sent meanwhile is stored all the same.
    await alice_ws.send(json.dumps({"type": "message.send", "body": "pendant", "client_id": "2"}))
    async with asyncio.timeout(TIMEOUT):
        while not await database_sync_to_async(Message.objects.filter(body="pendant").exists)():
            await asyncio.sleep(0.1)

    restartable_redis.start()
    await wait_health(server, 200, 30)
    # Live delivery is back on the sockets that stayed open...
    async with asyncio.timeout(30):
        while True:
            await alice_ws.send(
                json.dumps({"type": "message.send", "body": "après", "client_id": "3"})
            )
            try:
                async with asyncio.timeout(1):
                    frame = await next_message(bob_ws)
            except TimeoutError:
                continue  # still resubscribing: the resend is idempotent
            if frame["body"] == "après":
                break
    # ...and a client that resumes from its last id gets what it missed.
    resumed = await open_ws(server, "general", await cookie_of(bob), after=last_seen)
    assert [(await next_message(resumed))["body"] for _ in range(2)] == ["pendant", "après"]
    for ws in (alice_ws, bob_ws, resumed):
        await ws.close()
