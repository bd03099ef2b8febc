"""The room socket's conversation frames (issue 17), on the in-memory layer and
on channels-redis: replies, mentions, edits, deletions, reactions, typing, and
the documented errors for frames that must change nothing."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from chatsite.asgi import application
from rooms import actions
from rooms.models import Block, Message, MessageVersion, Reaction
from rooms.protocol import MAX_BODY_LENGTH
from tests.rooms.conftest import ORIGIN, RECEIVE_TIMEOUT, Socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def stored(message_id: int) -> Message:
    return Message.objects.get(pk=message_id)


@database_sync_to_async
def versions(message_id: int) -> list[str]:
    return list(MessageVersion.objects.filter(message_id=message_id).values_list("body", flat=True))


@database_sync_to_async
def reactions() -> list[tuple]:
    return list(Reaction.objects.values_list("message_id", "user__username", "emoji"))


async def posted(socket: Socket, body: str, client_id: str, **extra) -> dict:
    await socket.send({"type": "message.send", "body": body, "client_id": client_id, **extra})
    return await socket.receive_type("message.new")


async def test_a_reply_and_its_mentions_reach_everyone(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_ws, bob_ws = await open_socket(alice, "general"), await open_socket(bob, "general")
    original = await posted(alice_ws, "On se voit où ?", "a1")
    assert (await bob_ws.receive_type("message.new"))["id"] == original["id"]
    assert original["reply_to"] is None and original["mentions"] == []
    assert original["edited"] is None and original["reactions"] == {}
    reply = await posted(bob_ws, "@alice au café", "b1", reply_to=original["id"])
    assert reply["reply_to"] == {
        "id": original["id"],
        "author": "alice",
        "excerpt": "On se voit où ?",
        "deleted": False,
    }
    assert reply["mentions"] == ["alice"]
    assert await alice_ws.receive_type("message.new") == reply


async def test_a_mention_reaches_the_conversations_socket_with_the_room_closed(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    cookie = await session_cookie(bob)
    inbox = WebsocketCommunicator(
        application,
        "/ws/conversations/",
        headers=[ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())],
    )
    connected, _ = await inbox.connect(timeout=RECEIVE_TIMEOUT)
    assert connected
    alice_ws = await open_socket(alice, "general")
    message = await posted(alice_ws, "@bob regarde ça", "a1")
    frame = await inbox.receive_json_from(timeout=RECEIVE_TIMEOUT)
    message.pop("type")
    assert frame == {"type": "mention", "room": "general", "message": message}
    await inbox.disconnect()


async def test_edit_reaches_the_room_and_keeps_the_earlier_text(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_ws, bob_ws = await open_socket(alice, "general"), await open_socket(bob, "general")
    message = await posted(alice_ws, "rdv 8h", "a1")
    await bob_ws.receive_type("message.new")
    await alice_ws.send({"type": "message.edit", "id": message["id"], "body": "rdv 9h"})
    for socket in (alice_ws, bob_ws):
        update = await socket.receive_type("message.updated")
        assert (update["id"], update["body"]) == (message["id"], "rdv 9h")
        assert update["edited"] is not None and update["mentions"] == []
    assert await versions(message["id"]) == ["rdv 8h"]
    # A reconnecting client reads the edited text and its date from the backfill.
    again = await open_socket(bob, "general", after=message["id"] - 1)
    backfilled = await again.receive_type("message.new")
    assert backfilled["body"] == "rdv 9h" and backfilled["edited"] == update["edited"]


async def test_delete_reaches_the_room_and_leaves_the_backfill(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_ws, bob_ws = await open_socket(alice, "general"), await open_socket(bob, "general")
    message = await posted(alice_ws, "oups", "a1")
    await bob_ws.receive_type("message.new")
    await alice_ws.send({"type": "message.delete", "id": message["id"], "client_id": "d1"})
    for socket in (alice_ws, bob_ws):
        assert await socket.receive_type("message.deleted") == {
            "type": "message.deleted",
            "id": message["id"],
        }
    row = await stored(message["id"])
    assert row.deleted_by_id == alice.pk and row.deletion_reason == "author"
    again = await open_socket(bob, "general", after=0)
    await again.nothing_but_presence()


async def test_reactions_reach_the_room_with_counts(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_ws, bob_ws = await open_socket(alice, "general"), await open_socket(bob, "general")
    message = await posted(alice_ws, "youpi", "a1")
    await bob_ws.receive_type("message.new")
    await bob_ws.send({"type": "reaction.add", "id": message["id"], "emoji": "🙏"})
    await alice_ws.send({"type": "reaction.add", "id": message["id"], "emoji": "🙏"})
    for counts in ({"🙏": 1}, {"🙏": 2}):
        for socket in (alice_ws, bob_ws):
            frame = await socket.receive_type("reactions")
            assert frame == {"type": "reactions", "id": message["id"], "counts": counts}
    await bob_ws.send({"type": "reaction.remove", "id": message["id"], "emoji": "🙏"})
    frame = await alice_ws.receive_type("reactions")
    assert frame["counts"] == {"🙏": 1}
    assert await reactions() == [(message["id"], "alice", "🙏")]
    again = await open_socket(bob, "general", after=0)
    assert (await again.receive_type("message.new"))["reactions"] == {"🙏": 1}


async def test_invalid_frames_get_the_documented_error_and_change_nothing(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_ws, bob_ws = await open_socket(alice, "general"), await open_socket(bob, "general")
    message = await posted(alice_ws, "intact", "a1")
    await bob_ws.receive_type("message.new")
    cases = [
        # Someone else's message.
        ({"type": "message.edit", "id": message["id"], "body": "pirate"}, bob_ws, "forbidden"),
        ({"type": "message.delete", "id": message["id"]}, bob_ws, "forbidden"),
        # No such message, or no id at all.
        ({"type": "message.edit", "id": 10**9, "body": "x"}, alice_ws, "invalid"),
        ({"type": "message.delete", "id": "1"}, alice_ws, "invalid"),
        ({"type": "reaction.add", "id": 10**9, "emoji": "👍"}, alice_ws, "invalid"),
        # A wrong emoji.
        ({"type": "reaction.add", "id": message["id"], "emoji": "🍕"}, bob_ws, "invalid"),
        ({"type": "reaction.remove", "id": message["id"], "emoji": None}, bob_ws, "invalid"),
        # An over-long or empty edit.
        (
            {"type": "message.edit", "id": message["id"], "body": "x" * (MAX_BODY_LENGTH + 1)},
            alice_ws,
            "too_long",
        ),
        ({"type": "message.edit", "id": message["id"], "body": "  "}, alice_ws, "invalid"),
        # A reply to nothing.
        ({"type": "message.send", "body": "r", "reply_to": 10**9}, alice_ws, "invalid"),
    ]
    for number, (frame, socket, code) in enumerate(cases):
        await socket.send({**frame, "client_id": f"bad{number}"})
        error = await socket.receive_type("error")
        assert (error["code"], error["client_id"]) == (code, f"bad{number}"), frame
        assert error["detail"]
    # Still open, and nothing changed.
    row = await stored(message["id"])
    assert (row.body, row.edited, row.deleted_at) == ("intact", None, None)
    assert await versions(message["id"]) == []
    assert await reactions() == []
    still = await posted(alice_ws, "toujours là", "a2")
    assert still["body"] == "toujours là"
    assert await database_sync_to_async(Message.objects.count)() == 2


async def test_typing_is_throttled_and_shown_to_others_only(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_ws, bob_ws = await open_socket(alice, "general"), await open_socket(bob, "general")
    await bob_ws.receive_type("presence")
    await alice_ws.send({"type": "typing"})
    await alice_ws.send({"type": "typing"})  # within 3 s: not passed on
    assert await bob_ws.receive_type("typing") == {"type": "typing", "users": ["alice"]}
    # Her message ends her typing.
    await posted(alice_ws, "voilà", "a1")
    assert await bob_ws.receive_type("typing") == {"type": "typing", "users": []}
    # The typer is not told about themselves; nothing else came to bob.
    await alice_ws.nothing_but_presence(timeout=0.3)
    await bob_ws.nothing_but_presence(timeout=0.3)


async def test_typing_never_crosses_a_block_or_reaches_someone_ignoring(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob, carol, dana = [await amake_user(name) for name in ("alice", "bob", "carol", "dana")]
    await database_sync_to_async(Block.objects.create)(blocker=alice, blocked=bob)
    await database_sync_to_async(actions.do_ignore_user)(alice, actor=carol)
    sockets = {
        user.username: await open_socket(user, "general") for user in (alice, bob, carol, dana)
    }
    await sockets["dana"].receive_type("presence")
    await sockets["alice"].send({"type": "typing"})
    assert await sockets["dana"].receive_type("typing") == {"type": "typing", "users": ["alice"]}
    await sockets["bob"].send({"type": "typing"})  # blocked by alice: she does not see it
    assert await sockets["dana"].receive_type("typing") == {
        "type": "typing",
        "users": ["alice", "bob"],
    }
    for name in ("bob", "carol"):
        frames = []
        while not await sockets[name].communicator.receive_nothing(timeout=0.3):
            frames.append(await sockets[name].receive())
        assert not [f for f in frames if f["type"] == "typing" and "alice" in f["users"]], name
    frames = []
    while not await sockets["alice"].communicator.receive_nothing(timeout=0.3):
        frames.append(await sockets["alice"].receive())
    assert not [f for f in frames if f["type"] == "typing" and "bob" in f["users"]]


async def test_a_block_made_while_connected_stops_typing_at_once(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_ws, bob_ws = await open_socket(alice, "general"), await open_socket(bob, "general")
    await alice_ws.receive_type("presence")
    await bob_ws.send({"type": "typing"})
    assert (await alice_ws.receive_type("typing"))["users"] == ["bob"]
    await database_sync_to_async(actions.do_block_user)(bob, actor=alice)
    await database_sync_to_async(_forget_typing_throttle)()
    await bob_ws.send({"type": "typing"})
    frames = []
    while not await alice_ws.communicator.receive_nothing(timeout=0.5):
        frames.append(await alice_ws.receive())
    # What alice may still get is bob's earlier typing expiring, never a new one.
    assert all(f["users"] == [] for f in frames if f["type"] == "typing")


def _forget_typing_throttle() -> None:
    from django.core.cache import cache

    cache.clear()
