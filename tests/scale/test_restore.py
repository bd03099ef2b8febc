"""A message restored after its removal reaches the open sockets of a real daphne
server (tests/servers.py), through PostgreSQL and Redis shared with this process."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from moderation import actions
from moderation.models import StatementOfReasons
from rooms import actions as room_actions
from tests.scale.test_cluster import TIMEOUT, cookie_of, make_room, open_ws

pytestmark = pytest.mark.django_db(transaction=True)


async def next_frame(ws, frame_type: str) -> dict:
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == frame_type:
                return frame


@database_sync_to_async
def remove(message, moderator):
    actions.do_remove_message(message, actor=moderator, reason="Hors sujet.")


@database_sync_to_async
def reverse_on_appeal(message, other_moderator):
    statement = StatementOfReasons.objects.get(message=message)
    appeal = actions.do_file_appeal(statement, actor=message.author, text="C'était à propos.")
    actions.do_decide_appeal(
        appeal, actor=other_moderator, reverse_decision=True, answer="Le message était à propos."
    )


async def test_a_restored_message_reaches_a_socket_on_a_daphne_server(
    cluster, make_user, make_staff, settings
):
    settings.MESSAGE_RATE_LIMIT = "off"
    [server] = cluster(1)
    author, reader = (
        await database_sync_to_async(make_user)(),
        await database_sync_to_async(make_user)(),
    )
    moderator = await database_sync_to_async(make_staff)()
    other_moderator = await database_sync_to_async(make_staff)()
    room = await make_room("avis")
    result = await database_sync_to_async(room_actions.do_post_message)(
        room, "un avis argumenté", actor=author
    )
    message = result.message
    # ?after=0: the server backfills the message, then must send it again once restored.
    ws = await open_ws(server, room.slug, await cookie_of(reader), after=0)
    assert (await next_frame(ws, "message.new"))["id"] == message.id
    await remove(message, moderator)
    assert (await next_frame(ws, "message.deleted"))["id"] == message.id
    await reverse_on_appeal(message, other_moderator)
    frame = await next_frame(ws, "message.new")
    assert (frame["id"], frame["body"]) == (message.id, "un avis argumenté")
    await ws.close()
