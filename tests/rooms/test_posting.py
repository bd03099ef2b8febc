"""How a room socket stores posts: off the single database thread, in order per
room and per socket, with a bounded queue (backpressure) and an account check
that is repeated, not skipped (rooms/consumers.py)."""

import asyncio

import pytest
from allauth.account.models import EmailAddress
from channels.db import database_sync_to_async

from core.refusals import RefusalCode
from rooms import consumers, notify
from rooms.models import Message
from rooms.protocol import CloseCode, GroupEvent

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def stored_client_ids(room) -> list[str]:
    return list(
        Message.objects.filter(room=room).order_by("id").values_list("client_id", flat=True)
    )


async def test_a_full_post_queue_refuses_with_rate_limited_and_loses_nothing_accepted(
    channel_layer_backend, public_room, amake_user, open_socket, monkeypatch
):
    monkeypatch.setattr(consumers, "MAX_PENDING_POSTS", 2)
    alice = await amake_user("alice")
    socket = await open_socket(alice, public_room.slug)
    # Hold the room: the first post waits for the lock, two more wait in the queue.
    lock = consumers._room_lock(public_room.id)
    await lock.acquire()
    try:
        for n in range(5):
            await socket.post(f"message {n}", f"c{n}")
        refused = [await socket.receive_type("error") for _ in range(2)]
    finally:
        lock.release()
    assert [(frame["code"], frame["client_id"]) for frame in refused] == [
        (RefusalCode.RATE_LIMITED, "c3"),
        (RefusalCode.RATE_LIMITED, "c4"),
    ]
    received = await socket.messages(3)
    assert [frame["client_id"] for frame in received] == ["c0", "c1", "c2"]
    assert await stored_client_ids(public_room) == ["c0", "c1", "c2"]
    # The socket is still usable: the refused ones can be sent again.
    await socket.post("message 3", "c3")
    assert (await socket.receive_type("message.new"))["client_id"] == "c3"


async def test_concurrent_senders_in_one_room_are_published_in_id_order(
    channel_layer_backend, public_room, amake_user, open_socket
):
    senders = [await open_socket(await amake_user(f"s{n}"), public_room.slug) for n in range(3)]
    reader = await open_socket(await amake_user("reader"), public_room.slug)
    # Five each: the burst MESSAGE_RATE_LIMIT allows.
    posts = [
        socket.post(f"{n}-{i}", f"{n}-{i}") for i in range(5) for n, socket in enumerate(senders)
    ]
    await asyncio.gather(*posts)
    ids = [frame["id"] for frame in await reader.messages(15)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 15
    # Each sender's own posts were stored in the order it sent them.
    order = await stored_client_ids(public_room)
    for n in range(3):
        mine = [client_id for client_id in order if client_id.startswith(f"{n}-")]
        assert mine == [f"{n}-{i}" for i in range(5)]


async def test_the_account_is_checked_again_before_a_post(
    channel_layer_backend, public_room, amake_user, open_socket, monkeypatch
):
    alice = await amake_user("alice")
    socket = await open_socket(alice, public_room.slug)
    await socket.post("avant", "a1")
    assert (await socket.receive_type("message.new"))["client_id"] == "a1"
    # The address is no longer verified, and the socket's last check is old.
    await database_sync_to_async(EmailAddress.objects.filter(user=alice).update)(verified=False)
    monkeypatch.setattr(consumers, "REVALIDATE_BEFORE_POST_SECONDS", 0)
    await socket.post("après", "a2")
    assert await socket.closed_with(skip_frames=True) == CloseCode.NOT_AUTHENTICATED
    assert await stored_client_ids(public_room) == ["a1"]


async def test_a_socket_publishes_its_post_from_its_event_loop(
    channel_layer_backend, public_room, amake_user, open_socket, monkeypatch
):
    # The post thread keeps the events (notify.collected); the socket sends
    # them: the thread's hop back to the loop (async_to_sync) is never taken.
    def no_hop(*args, **kwargs):
        raise AssertionError("a socket's post went through async_to_sync")

    alice, bob = await amake_user("alice"), await amake_user("bob")
    reader = await open_socket(bob, public_room.slug)
    socket = await open_socket(alice, public_room.slug)
    monkeypatch.setattr(notify, "async_to_sync", no_hop)
    await socket.post("bonjour", "p1")
    assert (await socket.receive_type("message.new"))["client_id"] == "p1"
    assert (await reader.receive_type("message.new"))["client_id"] == "p1"


def test_collected_events_are_kept_in_order_and_only_inside_the_block(listen):
    events_of = listen("room.1")
    with notify.collected() as kept:
        notify.message_deleted(1, 10)
        notify.message_deleted(1, 11)
    assert kept == [
        ("room.1", {"type": GroupEvent.ROOM_MESSAGE_DELETED, "id": 10}),
        ("room.1", {"type": GroupEvent.ROOM_MESSAGE_DELETED, "id": 11}),
    ]
    assert events_of() == []  # nothing sent inside the block
    notify.message_deleted(1, 12)  # outside: sent at once
    assert [event["id"] for event in events_of()] == [12]
