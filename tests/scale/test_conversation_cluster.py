"""The conversation frames across two daphne processes sharing PostgreSQL and
Redis, driven by a real WebSocket client (issue 17): a reply with a mention,
an edit, reactions, typing and a deletion made on one process reach the
clients of the other; the mention reaches the conversations socket there."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect

from rooms.models import Message, MessageVersion
from tests.scale.test_cluster import TIMEOUT, cookie_of, make_room, open_ws, present

pytestmark = pytest.mark.django_db(transaction=True)


async def next_of(ws, frame_type: str) -> dict:
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == frame_type:
                return frame


async def test_conversation_frames_cross_processes(cluster, make_user):
    first, second = cluster(2)
    amake_user = database_sync_to_async(make_user)
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await make_room("general")
    alice_cookie, bob_cookie = await cookie_of(alice), await cookie_of(bob)
    alice_ws = await open_ws(first, "general", alice_cookie)
    bob_ws = await open_ws(second, "general", bob_cookie)
    bob_inbox = await connect(
        second.ws_url + "/ws/conversations/",
        origin=second.url,
        additional_headers={"Cookie": bob_cookie},
        open_timeout=TIMEOUT,
    )
    await present(alice_ws, "bob")

    # Typing on process 1 shows on process 2, to others only.
    await alice_ws.send(json.dumps({"type": "typing"}))
    assert await next_of(bob_ws, "typing") == {"type": "typing", "users": ["alice"]}

    await bob_ws.send(
        json.dumps({"type": "message.send", "body": "Qui vient ?", "client_id": "b1"})
    )
    original = await next_of(alice_ws, "message.new")
    assert (await next_of(bob_ws, "message.new"))["id"] == original["id"]  # his own, back
    await alice_ws.send(
        json.dumps(
            {
                "type": "message.send",
                "body": "@bob moi !",
                "client_id": "a1",
                "reply_to": original["id"],
            }
        )
    )
    reply = await next_of(bob_ws, "message.new")
    assert reply["reply_to"]["id"] == original["id"] and reply["mentions"] == ["bob"]
    mention = await next_of(bob_inbox, "mention")
    assert mention["room"] == "general" and mention["message"]["id"] == reply["id"]

    await alice_ws.send(
        json.dumps({"type": "message.edit", "id": reply["id"], "body": "@bob moi aussi !"})
    )
    update = await next_of(bob_ws, "message.updated")
    assert (update["id"], update["body"]) == (reply["id"], "@bob moi aussi !")

    await bob_ws.send(json.dumps({"type": "reaction.add", "id": reply["id"], "emoji": "❤️"}))
    reactions = await next_of(alice_ws, "reactions")
    assert reactions == {"type": "reactions", "id": reply["id"], "counts": {"❤️": 1}}

    await alice_ws.send(json.dumps({"type": "message.delete", "id": reply["id"]}))
    assert await next_of(bob_ws, "message.deleted") == {
        "type": "message.deleted",
        "id": reply["id"],
    }

    stored = await database_sync_to_async(Message.objects.get)(pk=reply["id"])
    assert stored.deletion_reason == "author" and stored.body == "@bob moi aussi !"
    versions = await database_sync_to_async(
        lambda: list(MessageVersion.objects.values_list("body", flat=True))
    )()
    assert versions == ["@bob moi !"]
    for ws in (alice_ws, bob_ws, bob_inbox):
        await ws.close()
