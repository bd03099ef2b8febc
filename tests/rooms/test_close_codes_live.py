"""Every close code reaches a real client through daphne (autobahn refuses a
code it may not send, which the in-process communicator never checks): 4401,
4403, 4404, 4429, and 4500 after a real storage failure, after which the
client's resend is stored once."""

import json

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.test import Client

from rooms.models import Message, RoomKind
from rooms.protocol import CloseCode
from tests.wsclient import close_code, joined, next_frame, open_ws

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def asgi_server_env():
    return {"MAX_SOCKETS_PER_USER": "1", "LOG_LEVEL": "WARNING"}


@database_sync_to_async
def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def test_refusals_reach_the_client_with_their_code(asgi_server, make_user, make_room):
    alice = await database_sync_to_async(make_user)("alice")
    unverified = await database_sync_to_async(make_user)("nouveau", email_verified=False)
    public = await database_sync_to_async(make_room)(slug="public")
    private = await database_sync_to_async(make_room)(RoomKind.PRIVATE, slug="prive")
    alice_session = await session_of(alice)

    anonymous = await open_ws(asgi_server, public.slug, None)
    assert await close_code(anonymous) == CloseCode.NOT_AUTHENTICATED
    not_verified = await open_ws(asgi_server, public.slug, await session_of(unverified))
    assert await close_code(not_verified) == CloseCode.NOT_AUTHENTICATED
    not_member = await open_ws(asgi_server, private.slug, alice_session)
    assert await close_code(not_member) == CloseCode.FORBIDDEN
    missing = await open_ws(asgi_server, "nulle-part", alice_session)
    assert await close_code(missing) == CloseCode.NOT_FOUND

    first = await open_ws(asgi_server, public.slug, alice_session)
    await joined(first, "alice")
    second = await open_ws(asgi_server, public.slug, alice_session)
    assert await close_code(second) == CloseCode.TOO_MANY_SOCKETS
    await first.close()
    # Sent as a plain int: no "invalid close code" and no traceback in the log.
    assert "Traceback" not in asgi_server.log()


@database_sync_to_async
def rename_messages_table(old: str, new: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")


async def test_a_storage_failure_closes_with_4500_and_the_resend_is_stored_once(
    asgi_server, make_user, make_room
):
    alice = await database_sync_to_async(make_user)("alice")
    room = await database_sync_to_async(make_room)(slug="public")
    session = await session_of(alice)
    ws = await open_ws(asgi_server, room.slug, session)
    await joined(ws, "alice")
    frame = {"type": "message.send", "body": "perdu ?", "client_id": "c-1"}

    table = Message._meta.db_table
    # The messages table is gone for a moment: the server cannot store the post.
    await rename_messages_table(table, f"{table}_away")
    try:
        await ws.send(json.dumps(frame))
        assert await close_code(ws) == CloseCode.TRY_AGAIN
    finally:
        await rename_messages_table(f"{table}_away", table)

    # The client reconnects and resends, same client_id: stored once.
    again = await open_ws(asgi_server, room.slug, session)
    await again.send(json.dumps(frame))
    echoed = await next_frame(again, "message.new")
    assert echoed["client_id"] == "c-1"
    await again.send(json.dumps(frame))
    assert (await next_frame(again, "message.new"))["id"] == echoed["id"]
    await again.close()
    count = await database_sync_to_async(Message.objects.filter(client_id="c-1").count)()
    assert count == 1
    assert "could not store a post" in asgi_server.log()
    assert "invalid close code" not in asgi_server.log()
