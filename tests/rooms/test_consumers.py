"""The room socket, on the in-memory layer and on channels-redis."""

import json

import pytest
from channels.db import database_sync_to_async

from core.refusals import RefusalCode
from rooms import actions, policy
from rooms.models import Block, ContactRequest, Message, RoomKind, RoomPresence
from rooms.protocol import MAX_BODY_LENGTH, CloseCode

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def stored(room, **filters) -> list[Message]:
    return list(Message.objects.filter(room=room, **filters).order_by("id"))


# --- refusals ------------------------------------------------------------------------------


async def test_anonymous_is_closed_with_4401(channel_layer_backend, public_room, open_socket):
    socket = await open_socket(None, public_room.slug)
    assert await socket.closed_with() == CloseCode.NOT_AUTHENTICATED


async def test_unverified_email_is_closed_with_4401(
    channel_layer_backend, public_room, amake_user, open_socket
):
    user = await amake_user(email_verified=False)
    socket = await open_socket(user, public_room.slug)
    assert await socket.closed_with() == 4401


async def test_unverified_age_is_closed_with_4403(
    channel_layer_backend, public_room, amake_user, open_socket
):
    user = await amake_user(age_verified=False)
    socket = await open_socket(user, public_room.slug)
    assert await socket.closed_with() == 4403


async def test_unknown_room_is_closed_with_4404(channel_layer_backend, amake_user, open_socket):
    socket = await open_socket(await amake_user(), "no-such-room")
    assert await socket.closed_with() == 4404


async def test_private_room_refuses_non_members_with_4403(
    channel_layer_backend, amake_room, amake_user, open_socket
):
    owner = await amake_user()
    room = await amake_room(RoomKind.PRIVATE, owner=owner)
    refused = await open_socket(await amake_user(), room.slug)
    assert await refused.closed_with() == 4403
    member = await open_socket(owner, room.slug)
    await member.post("entre nous", "c1")
    assert (await member.receive_type("message.new"))["body"] == "entre nous"


async def test_a_registered_join_check_refuses_with_4403(
    channel_layer_backend, public_room, amake_user, open_socket
):
    banned = await amake_user()

    def no_banned(user, room):
        if user.pk == banned.pk:
            return policy.refuse_join(CloseCode.FORBIDDEN, "banni")
        return None

    policy.register_join_check(no_banned)
    try:
        socket = await open_socket(banned, public_room.slug)
        assert await socket.closed_with() == 4403
    finally:
        policy.unregister_check(no_banned)


# --- messages -------------------------------------------------------------------------------


async def test_a_message_reaches_everyone_in_the_room_sender_included(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_socket = await open_socket(alice, public_room.slug)
    bob_socket = await open_socket(bob, public_room.slug)
    await alice_socket.post("  Bonjour <b>tout le monde</b>\x00 ", "a-1")
    for socket in (alice_socket, bob_socket):
        frame = await socket.receive_type("message.new")
        assert frame["author"] == "alice"
        assert frame["body"] == "Bonjour <b>tout le monde</b>"
        assert frame["room"] == "general"
        assert frame["client_id"] == "a-1"
        assert set(frame) == {
            *("type", "id", "room", "author", "body", "created", "client_id"),
            *("edited", "reply_to", "mentions", "reactions"),
        }
    [message] = await stored(public_room)
    assert message.body == "Bonjour <b>tout le monde</b>"


async def test_presence_lists_who_is_online(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_socket = await open_socket(alice, public_room.slug)
    assert (await alice_socket.receive_type("presence"))["users"] == ["alice"]
    bob_socket = await open_socket(bob, public_room.slug)
    assert (await alice_socket.receive_type("presence"))["users"] == ["alice", "bob"]
    await bob_socket.close()
    assert (await alice_socket.receive_type("presence"))["users"] == ["alice"]
    assert await database_sync_to_async(RoomPresence.objects.count)() == 1


async def test_presence_carries_the_member_count_and_reaches_a_second_tab(
    channel_layer_backend, public_room, amake_user, open_socket
):
    """The page's two counts come from one frame, read together: a newcomer
    joins (members + 1) as they come online, so the counts never disagree."""
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_socket = await open_socket(alice, public_room.slug)
    assert await alice_socket.receive_type("presence") == {
        "type": "presence",
        "users": ["alice"],
        "members": 1,
    }
    await open_socket(bob, public_room.slug)
    assert await alice_socket.receive_type("presence") == {
        "type": "presence",
        "users": ["alice", "bob"],
        "members": 2,
    }
    # A second tab changes nobody's presence: it alone is told who is there.
    second_tab = await open_socket(alice, public_room.slug)
    assert await second_tab.receive_type("presence") == {
        "type": "presence",
        "users": ["alice", "bob"],
        "members": 2,
    }
    await alice_socket.nothing_but_presence(0.3)


async def test_backfill_after_a_disconnect_returns_exactly_the_missed_messages(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    bob_socket = await open_socket(bob, public_room.slug)
    alice_socket = await open_socket(alice, public_room.slug)
    await alice_socket.post("vu", "1")
    last_seen = (await bob_socket.receive_type("message.new"))["id"]
    await bob_socket.close()
    for number in range(2, 5):
        await alice_socket.post(f"manqué {number}", str(number))
        await alice_socket.receive_type("message.new")

    bob_again = await open_socket(bob, public_room.slug, after=last_seen)
    missed = await bob_again.messages(3)
    assert [frame["body"] for frame in missed] == ["manqué 2", "manqué 3", "manqué 4"]
    assert [frame["id"] for frame in missed] == sorted(frame["id"] for frame in missed)
    await alice_socket.post("en direct", "5")
    assert (await bob_again.receive_type("message.new"))["body"] == "en direct"
    await bob_again.nothing_but_presence()


async def test_backfill_reads_chunk_after_chunk(
    channel_layer_backend, public_room, amake_user, open_socket, monkeypatch
):
    from rooms import consumers

    monkeypatch.setattr(consumers, "BACKFILL_CHUNK", 3)
    alice = await amake_user("alice")
    await database_sync_to_async(Message.objects.bulk_create)(
        [Message(room=public_room, author=alice, body=f"m{i}") for i in range(7)]
    )
    first = (await stored(public_room))[0].id
    socket = await open_socket(alice, public_room.slug, after=first)
    assert [f["body"] for f in await socket.messages(6)] == [f"m{i}" for i in range(1, 7)]
    await socket.nothing_but_presence()


async def test_backfill_skips_deleted_messages(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice = await amake_user("alice")
    socket = await open_socket(alice, public_room.slug)
    await socket.post("un", "1")
    await socket.post("deux", "2")
    first, _second = await socket.messages(2)
    message = await database_sync_to_async(Message.objects.get)(pk=first["id"])
    await database_sync_to_async(actions.do_delete_message)(message, actor=alice)
    assert (await socket.receive_type("message.deleted")) == {
        "type": "message.deleted",
        "id": first["id"],
    }
    again = await open_socket(alice, public_room.slug, after=0)
    assert [frame["body"] for frame in await again.messages(1)] == ["deux"]
    await again.nothing_but_presence()


async def test_resending_a_client_id_stores_one_message(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    alice_socket = await open_socket(alice, public_room.slug)
    bob_socket = await open_socket(bob, public_room.slug)
    await alice_socket.post("une seule fois", "same-id")
    original = await alice_socket.receive_type("message.new")
    await alice_socket.post("une seule fois", "same-id")
    resent = await alice_socket.receive_type("message.new")
    assert resent == original
    assert len(await stored(public_room)) == 1
    await bob_socket.receive_type("message.new")
    await bob_socket.nothing_but_presence()  # the resend is not broadcast again
    # The same client_id from someone else is another message.
    await bob_socket.post("une seule fois", "same-id")
    assert (await bob_socket.receive_type("message.new"))["author"] == "bob"
    assert len(await stored(public_room)) == 2


# --- limits ----------------------------------------------------------------------------------


async def test_rate_limit_answers_rate_limited_and_the_socket_stays_open(
    channel_layer_backend, public_room, amake_user, open_socket, settings
):
    settings.MESSAGE_RATE_LIMIT = "3/0.5"
    socket = await open_socket(await amake_user(), public_room.slug)
    for number in range(3):
        await socket.post(f"m{number}", f"c{number}")
        await socket.receive_type("message.new")
    await socket.post("de trop", "c3")
    error = await socket.receive_type("error")
    assert error["code"] == "rate_limited"
    assert error["client_id"] == "c3"
    assert len(await stored(public_room)) == 3


async def test_invalid_frames_do_not_count_toward_the_rate_limit(
    channel_layer_backend, public_room, amake_user, open_socket, settings
):
    settings.MESSAGE_RATE_LIMIT = "2/0.1"
    socket = await open_socket(await amake_user(), public_room.slug)
    for _ in range(5):
        await socket.post("   ", "blank")
        assert (await socket.receive_type("error"))["code"] == "invalid"
    await socket.post("x" * (MAX_BODY_LENGTH + 1), "long")
    assert (await socket.receive_type("error"))["code"] == "too_long"
    for number in range(2):
        await socket.post(f"valide {number}", f"ok{number}")
        await socket.receive_type("message.new")


async def test_slow_mode(channel_layer_backend, amake_room, amake_user, open_socket, settings):
    settings.MESSAGE_RATE_LIMIT = "off"
    room = await amake_room(slow_mode_seconds=30)
    socket = await open_socket(await amake_user(), room.slug)
    await socket.post("premier", "1")
    await socket.receive_type("message.new")
    await socket.post("trop tôt", "2")
    error = await socket.receive_type("error")
    assert error["code"] == "rate_limited"
    assert "30" in error["detail"]
    assert len(await stored(room)) == 1


# --- malformed frames ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        "pas du json",
        "[1, 2, 3]",
        '"texte"',
        json.dumps({"type": 42}),
        json.dumps({"body": "sans type"}),
        json.dumps({"type": "message.dance", "client_id": "c"}),
        json.dumps({"type": "message.send", "body": 12, "client_id": "c"}),
        json.dumps({"type": "message.send", "body": None}),
        json.dumps({"type": "message.send", "body": "ok", "client_id": 7}),
        json.dumps({"type": "message.send", "body": "ok", "client_id": "x" * 65}),
        json.dumps({"type": "message.send", "body": "\x00\x01\x1b\u202e"}),
        "[" * 8000 + "]" * 8000,
    ],
)
async def test_malformed_frames_get_invalid_and_the_socket_stays_usable(
    channel_layer_backend, public_room, amake_user, open_socket, frame
):
    socket = await open_socket(await amake_user(), public_room.slug)
    await socket.send_text(frame)
    error = await socket.receive_type("error")
    assert error["code"] == "invalid"
    assert error["detail"]
    assert set(error) == {"type", "code", "detail", "client_id"}
    await socket.post("toujours là", "after")
    assert (await socket.receive_type("message.new"))["body"] == "toujours là"
    assert len(await stored(public_room)) == 1


async def test_a_one_megabyte_body_gets_too_long(
    channel_layer_backend, public_room, amake_user, open_socket
):
    socket = await open_socket(await amake_user(), public_room.slug)
    await socket.post("x" * 1_000_000, "huge")
    assert (await socket.receive_type("error"))["code"] == "too_long"
    await socket.send_text(
        json.dumps({"type": "message.send", "body": "é" * 2000, "client_id": "m"})
    )
    assert len((await socket.receive_type("message.new"))["body"]) == 2000


async def test_a_binary_frame_gets_invalid(
    channel_layer_backend, public_room, amake_user, open_socket
):
    socket = await open_socket(await amake_user(), public_room.slug)
    await socket.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_type("error"))["code"] == "invalid"


async def test_a_bad_after_parameter_is_said_and_live_traffic_follows(
    channel_layer_backend, public_room, amake_user, open_socket
):
    socket = await open_socket(await amake_user(), public_room.slug, after="abc")
    assert (await socket.receive_type("error"))["code"] == "invalid"
    await socket.post("salut", "1")
    await socket.receive_type("message.new")


# --- direct messages -----------------------------------------------------------------------------


async def test_a_blocked_user_cannot_open_or_write_to_a_direct_room(
    channel_layer_backend, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await database_sync_to_async(actions.do_open_direct_room)(bob, actor=alice)
    await database_sync_to_async(actions.do_accept_contact_request)(
        await database_sync_to_async(ContactRequest.objects.get)(room=room), actor=bob
    )
    alice_socket = await open_socket(alice, room.slug)
    await alice_socket.post("salut", "1")
    await alice_socket.receive_type("message.new")

    await database_sync_to_async(actions.do_block_user)(alice, actor=bob)
    # Her open socket is closed, and it cannot be opened again.
    assert await alice_socket.closed_with(skip_frames=True) == 4403
    again = await open_socket(alice, room.slug)
    assert await again.closed_with() == 4403
    assert [m.body for m in await stored(room)] == ["salut"]


async def test_a_blocked_user_writing_on_an_open_socket_gets_blocked(
    channel_layer_backend, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await database_sync_to_async(actions.do_open_direct_room)(bob, actor=alice)
    alice_socket = await open_socket(alice, room.slug)
    # The block lands between the socket's gate and the next frame (no close event).
    await database_sync_to_async(lambda: Block.objects.create(blocker=bob, blocked=alice))()
    await alice_socket.post("tu es là ?", "1")
    error = await alice_socket.receive_type("error")
    assert error["code"] == "blocked"
    assert await stored(room) == []


async def test_a_first_contact_request_holds_messages_until_accepted(
    channel_layer_backend, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await database_sync_to_async(actions.do_open_direct_room)(bob, actor=alice)
    alice_socket = await open_socket(alice, room.slug)
    await alice_socket.post("bonjour bob", "1")
    await alice_socket.post("tu es là ?", "2")
    await alice_socket.messages(2)  # the sender sees her own messages

    # Bob cannot join nor write before he accepts.
    held = await open_socket(bob, room.slug)
    assert await held.closed_with() == 4403
    request = await database_sync_to_async(ContactRequest.objects.get)(room=room)
    assert request.sender_id == alice.pk

    await database_sync_to_async(actions.do_accept_contact_request)(request, actor=bob)
    bob_socket = await open_socket(bob, room.slug, after=0)
    assert [f["body"] for f in await bob_socket.messages(2)] == ["bonjour bob", "tu es là ?"]
    await bob_socket.post("oui !", "b1")
    assert (await alice_socket.receive_type("message.new"))["body"] == "oui !"


async def test_dm_policy_nobody_refuses_at_the_socket(
    channel_layer_backend, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await database_sync_to_async(actions.do_open_direct_room)(bob, actor=alice)
    alice_socket = await open_socket(alice, room.slug)
    bob.direct_messages_from = "nobody"
    await database_sync_to_async(bob.save)()
    await alice_socket.post("coucou", "1")
    assert (await alice_socket.receive_type("error"))["code"] == "blocked"


# --- sanctions hook ------------------------------------------------------------------------


async def test_a_user_close_event_closes_that_users_sockets(
    channel_layer_backend, amake_room, amake_user, open_socket
):
    from rooms import notify

    alice, bob = await amake_user("alice"), await amake_user("bob")
    room, other_room = await amake_room(), await amake_room()
    alice_here = await open_socket(alice, room.slug)
    alice_there = await open_socket(alice, other_room.slug)
    bob_here = await open_socket(bob, room.slug)
    await database_sync_to_async(notify.close_user_sockets)(alice.pk, 4403, room.id)
    assert await alice_here.closed_with(skip_frames=True) == 4403
    await alice_there.post("encore là", "1")
    assert (await alice_there.receive_type("message.new"))["body"] == "encore là"
    await database_sync_to_async(notify.close_user_sockets)(alice.pk, 4403)
    assert await alice_there.closed_with(skip_frames=True) == 4403
    await bob_here.post("moi aussi", "2")
    assert (await bob_here.receive_type("message.new"))["author"] == "bob"


async def test_a_muting_post_check_answers_muted(
    channel_layer_backend, public_room, amake_user, open_socket
):
    def everyone_muted(user, room, body):
        return policy.refuse_post(RefusalCode.MUTED, "réduit au silence")

    policy.register_post_check(everyone_muted)
    try:
        socket = await open_socket(await amake_user(), public_room.slug)
        await socket.post("hé", "1")
        error = await socket.receive_type("error")
        assert (error["code"], error["client_id"]) == ("muted", "1")
    finally:
        policy.unregister_check(everyone_muted)
    assert await stored(public_room) == []


async def test_every_accepted_connection_is_recorded(
    channel_layer_backend, public_room, amake_user, open_socket
):
    from accounts.models import ConnectionKind, ConnectionRecord

    user = await amake_user()
    await open_socket(user, public_room.slug)
    await open_socket(None, public_room.slug)
    records = await database_sync_to_async(
        lambda: list(ConnectionRecord.objects.filter(kind=ConnectionKind.WEBSOCKET))
    )()
    assert [record.user_id for record in records] == [user.pk]


# --- conversations socket ---------------------------------------------------------------------


async def open_conversations(user):
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from chatsite.asgi import application
    from tests.rooms.conftest import ORIGIN, Socket, session_cookie

    headers = [ORIGIN]
    if user is not None:
        cookie = await session_cookie(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/conversations/", headers=headers)
    connected, _ = await communicator.connect(timeout=3)
    assert connected
    return Socket(communicator)


async def test_conversations_socket_tells_of_changes_and_counts_survive(
    channel_layer_backend, amake_user, open_socket
):
    from rooms import queries

    anonymous = await open_conversations(None)
    assert await anonymous.closed_with() == 4401

    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await database_sync_to_async(actions.do_open_direct_room)(bob, actor=alice)
    request = await database_sync_to_async(ContactRequest.objects.get)(room=room)
    await database_sync_to_async(actions.do_accept_contact_request)(request, actor=bob)
    bob_inbox = await open_conversations(bob)
    alice_socket = await open_socket(alice, room.slug)
    await alice_socket.post("un", "1")
    await alice_socket.post("deux", "2")
    await alice_socket.messages(2)  # both committed
    assert await bob_inbox.receive() == {"type": "conversation.changed", "room": room.slug}

    async def unread() -> int:
        [conversation] = await database_sync_to_async(queries.conversations)(bob)
        return conversation.unread

    assert await unread() == 2
    await bob_inbox.close()
    assert await unread() == 2  # kept on the server, whatever the sockets do
    # Bob opens the room where he left off: the backfill marks it read.
    bob_socket = await open_socket(bob, room.slug, after=0)
    await bob_socket.messages(2)
    await alice_socket.post("trois", "3")
    await bob_socket.receive_type("message.new")
    await alice_socket.receive_type("message.new")
    # Besides presence, only conversation.changed: the room socket carries the
    # navigation's counts (inbox), and Bob's read mark changed them.
    while not await bob_socket.communicator.receive_nothing(timeout=0.3):
        frame = await bob_socket.receive()
        assert frame["type"] in ("presence", "conversation.changed"), frame
    assert await unread() == 0
