"""`make run SERVER=uvicorn` (issue 20): the same app served by uvicorn, started by
scripts/serve as the Makefile starts it, through a real HTTP and WebSocket client.
On PostgreSQL and Redis (the cluster fixture, one process) and on the embedded
SQLite default. daphne's own runs of the same paths: tests/scale/test_cluster.py,
tests/rooms/test_revocation_embedded.py."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect

from accounts.models import ConnectionKind, ConnectionRecord
from rooms import actions
from rooms.models import RoomKind
from tests import embedded
from tests.conftest import DEFAULT_PASSWORD
from tests.rooms.test_revocation_embedded import Browser
from tests.wsclient import TIMEOUT, close_code, cookie_header, joined, next_frame, open_ws

pytestmark = pytest.mark.django_db(transaction=True)

# The contract's "within one second", with the margin of a shared machine.
REVOCATION_TIMEOUT = 2


@database_sync_to_async
def websocket_records(user) -> list[tuple[str, int]]:
    records = ConnectionRecord.objects.filter(user=user, kind=ConnectionKind.WEBSOCKET)
    return [(record.ip_address, record.port) for record in records]


async def signed_in(server, username: str) -> Browser:
    """A browser that signed in through the server's own login form."""
    browser = Browser(server)
    status = await asyncio.to_thread(
        browser.post_form, "/accounts/login/", {"login": username, "password": DEFAULT_PASSWORD}
    )
    assert status == 302 and browser.session_key, status
    return browser


async def test_uvicorn_serves_the_room_and_ends_access_on_postgresql_and_redis(cluster, make_user):
    (server,) = cluster(1, server="uvicorn")
    amake_user = database_sync_to_async(make_user)
    alice, bob = await amake_user(), await amake_user()
    await database_sync_to_async(actions.do_create_room)(
        actor=None, kind=RoomKind.PUBLIC, slug="general", name="general"
    )
    laptop = await signed_in(server, alice.username)
    phone = await signed_in(server, alice.username)
    bobs = await signed_in(server, bob.username)

    anonymous = await open_ws(server, "general", None)
    assert await close_code(anonymous) == 4401

    # A client's own X-Forwarded-For is no proxy's: the record keeps the socket's
    # peer and source port, as under daphne (uvicorn would trust 127.0.0.1 by default).
    laptop_ws = await connect(
        f"{server.ws_url}/ws/rooms/general/",
        origin=server.url,
        additional_headers={
            "Cookie": cookie_header(laptop.session_key),
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Client-Port": "4242",
        },
        open_timeout=TIMEOUT,
    )
    await joined(laptop_ws, alice.username)
    assert await websocket_records(alice) == [("127.0.0.1", laptop_ws.local_address[1])]
    bob_ws = await open_ws(server, "general", bobs.session_key)
    await joined(bob_ws, bob.username)

    await laptop_ws.send(json.dumps({"type": "message.send", "body": "Salut", "client_id": "a1"}))
    seen_by_bob = await next_frame(bob_ws, "message.new")
    assert seen_by_bob == await next_frame(laptop_ws, "message.new")
    assert (seen_by_bob["author"], seen_by_bob["body"]) == (alice.username, "Salut")
    await bob_ws.send(json.dumps({"type": "message.send", "body": "Bonjour", "client_id": "b1"}))
    assert (await next_frame(laptop_ws, "message.new"))["body"] == "Bonjour"

    # The phone changes the password through the form: the laptop's session ends.
    new_password = DEFAULT_PASSWORD + "-changed"
    status = await asyncio.to_thread(
        phone.post_form,
        "/accounts/password/change/",
        {"oldpassword": DEFAULT_PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert status == 302
    assert await close_code(laptop_ws, timeout=REVOCATION_TIMEOUT) == 4401
    # Bob's socket is untouched (its own earlier echo is still queued before this one).
    await bob_ws.send(json.dumps({"type": "message.send", "body": "encore", "client_id": "b2"}))
    while (frame := await next_frame(bob_ws, "message.new"))["client_id"] != "b2":
        pass
    assert frame["body"] == "encore"
    await bob_ws.close()
    log = server.log()
    assert "Traceback" not in log, log[-3000:]


async def test_uvicorn_on_the_embedded_default(embedded_template, tmp_path):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 2, "salon")
    server = await asyncio.to_thread(
        embedded.start_embedded, var_dir, tmp_path / "uvicorn.log", server="uvicorn"
    )
    try:
        assert await close_code(await open_ws(server, "salon", None)) == 4401
        leaving = await open_ws(server, "salon", cookies["person0"])
        await joined(leaving, "person0")
        staying = await open_ws(server, "salon", cookies["person1"])
        await joined(staying, "person1")
        await leaving.send(json.dumps({"type": "message.send", "body": "coucou", "client_id": "c"}))
        frame = await next_frame(staying, "message.new")
        assert (frame["author"], frame["body"]) == ("person0", "coucou")

        status = await asyncio.to_thread(
            Browser(server, cookies["person0"]).post_form, "/accounts/logout/", {}
        )
        assert status == 302
        assert await close_code(leaving, timeout=REVOCATION_TIMEOUT) == 4401
        await staying.close()
        log = server.log()
        assert "Traceback" not in log, log[-3000:]
    finally:
        server.kill()
