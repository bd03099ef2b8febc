"""Several people chatting at once lose nothing and get no server error: on the
embedded default (SQLite, in-memory layer, one daphne, as `make run`) and on
PostgreSQL with Redis (two daphne processes). Black-box: real daphne, real
WebSocket and HTTP clients, the room page and the history API."""

import asyncio
import json

from channels.db import database_sync_to_async
from django.test import Client

from rooms import actions
from rooms.models import RoomKind
from tests import embedded
from tests.wsclient import history, http_get, joined, open_ws

SENDERS = 3
MESSAGES_EACH = 10
OPENERS = 20
ROOM = "ensemble"


async def open_page_and_socket(server, username: str, session_key: str):
    """The first opening of the room: its page (which makes the member), then its socket."""
    status, _body = await asyncio.to_thread(http_get, f"{server.url}/rooms/{ROOM}/", session_key)
    ws = await open_ws(server, ROOM, session_key)
    await joined(ws, username)
    return status, ws


async def collect(ws, count: int, frames: list[dict]) -> None:
    """Every frame until `count` message.new frames have come."""
    async with asyncio.timeout(120):
        while sum(frame["type"] == "message.new" for frame in frames) < count:
            frames.append(json.loads(await ws.recv()))


async def chat_together(servers, cookies: dict[str, str]) -> None:
    """Twenty people open the room at once, then three send one message a second
    each for ten seconds; everyone gets every message once, nothing is lost."""
    names = sorted(cookies)
    senders, openers = names[:SENDERS], names[SENDERS : SENDERS + OPENERS]

    opened = await asyncio.gather(
        *(
            open_page_and_socket(servers[i % len(servers)], name, cookies[name])
            for i, name in enumerate(openers + senders)
        )
    )
    statuses = [status for status, _ws in opened]
    assert statuses == [200] * len(statuses), (statuses, servers[0].log()[-4000:])
    sockets = dict(zip(openers + senders, [ws for _status, ws in opened], strict=True))

    total = SENDERS * MESSAGES_EACH
    received = {name: [] for name in sockets}
    readers = [
        asyncio.create_task(collect(ws, total, received[name])) for name, ws in sockets.items()
    ]

    async def send(name: str) -> None:
        for number in range(MESSAGES_EACH):
            body = f"{name} {number}"
            await sockets[name].send(
                json.dumps({"type": "message.send", "body": body, "client_id": f"{name}-{number}"})
            )
            await asyncio.sleep(1)

    await asyncio.gather(*(send(name) for name in senders))
    await asyncio.gather(*readers)

    expected = sorted(f"{name}-{number}" for name in senders for number in range(MESSAGES_EACH))
    for name, frames in received.items():
        errors = [frame for frame in frames if frame["type"] == "error"]
        assert errors == [], (name, errors)
        got = sorted(frame["client_id"] for frame in frames if frame["type"] == "message.new")
        assert got == expected, name  # every message, each once
    stored = history(servers[0], ROOM, cookies[senders[0]])
    assert sorted(message["client_id"] for message in stored) == expected
    for ws in sockets.values():
        await ws.close()
    for server in servers:
        log = server.log()
        # No post failed to be stored, no page answered a server error.
        for sign in ("could not store a post", "database is locked", '" 500 ', '" 503 '):
            assert sign not in log, (sign, log[-3000:])


async def test_the_embedded_default_loses_nothing(embedded_template, tmp_path):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, SENDERS + OPENERS, ROOM)
    server = await asyncio.to_thread(embedded.start_embedded, var_dir, tmp_path / "daphne.log")
    try:
        await chat_together([server], cookies)
    finally:
        server.kill()


@database_sync_to_async
def make_people(make_user, count: int) -> dict[str, str]:
    from django.conf import settings

    actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug=ROOM, name=ROOM)
    cookies = {}
    for number in range(count):
        client = Client()
        client.force_login(make_user(f"person{number}"))
        cookies[f"person{number}"] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


async def test_postgresql_and_redis_lose_nothing(cluster, make_user):
    servers = await asyncio.to_thread(cluster, 2)
    cookies = await make_people(make_user, SENDERS + OPENERS)
    await chat_together(servers, cookies)
