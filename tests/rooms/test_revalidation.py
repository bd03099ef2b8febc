"""An open socket checks its session (the auth hash), its account and its room
access again on a timer and before a post: what no event announced (a session
deleted in the database, a membership removed behind the signals' back) still
ends the socket."""

import pytest
from allauth.account.models import EmailAddress
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from rooms import consumers
from rooms.models import Message, RoomKind, RoomMembership
from rooms.protocol import CloseCode

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@database_sync_to_async
def forget_session(session_key: str) -> None:
    Session.objects.filter(session_key=session_key).delete()


async def test_a_deleted_session_closes_the_socket_on_the_timer(
    channel_layer_backend, public_room, amake_user, open_socket, monkeypatch
):
    monkeypatch.setattr(consumers, "REVALIDATE_SECONDS", 0.2)
    alice = await amake_user("alice")
    session = await session_of(alice)
    socket = await open_socket(alice, public_room.slug, session_key=session)
    await socket.receive_type("presence")
    await forget_session(session)
    assert await socket.closed_with(skip_frames=True) == CloseCode.NOT_AUTHENTICATED


async def test_a_silently_removed_membership_closes_the_socket_on_the_timer(
    channel_layer_backend, amake_room, amake_user, open_socket, monkeypatch
):
    monkeypatch.setattr(consumers, "REVALIDATE_SECONDS", 0.2)
    owner, alice = await amake_user("owner"), await amake_user("alice")
    room = await amake_room(RoomKind.PRIVATE, owner=owner)
    await database_sync_to_async(RoomMembership.objects.create)(room=room, user=alice)
    socket = await open_socket(alice, room.slug)
    await socket.receive_type("presence")

    def remove_without_signals() -> None:
        memberships = RoomMembership.objects.filter(room=room, user=alice)
        memberships._raw_delete(memberships.db)

    await database_sync_to_async(remove_without_signals)()
    assert await socket.closed_with(skip_frames=True) == CloseCode.FORBIDDEN


async def test_a_post_checks_the_session_first(
    channel_layer_backend, public_room, amake_user, open_socket, monkeypatch
):
    monkeypatch.setattr(consumers, "REVALIDATE_BEFORE_POST_SECONDS", 0)
    alice = await amake_user("alice")
    session = await session_of(alice)
    socket = await open_socket(alice, public_room.slug, session_key=session)
    await socket.receive_type("presence")
    await forget_session(session)
    await socket.post("après la fin", "x1")
    assert await socket.closed_with(skip_frames=True) == CloseCode.NOT_AUTHENTICATED
    assert not await database_sync_to_async(Message.objects.filter(client_id="x1").exists)()


async def test_a_post_after_an_unchanged_check_still_sees_a_silent_change(
    channel_layer_backend, public_room, amake_user, open_socket, monkeypatch
):
    # Every post checks again: the first in full, the next by the fingerprint
    # alone (nothing changed), the third sees the change made without a signal.
    monkeypatch.setattr(consumers, "REVALIDATE_BEFORE_POST_SECONDS", 0)
    alice = await amake_user("alice")
    session = await session_of(alice)
    socket = await open_socket(alice, public_room.slug, session_key=session)
    for client_id in ("q1", "q2"):
        await socket.post(client_id, client_id)
        assert (await socket.receive_type("message.new"))["client_id"] == client_id

    @database_sync_to_async
    def unverify() -> None:
        EmailAddress.objects.filter(user=alice).update(verified=False)

    await unverify()
    await socket.post("après", "q3")
    assert await socket.closed_with(skip_frames=True) == CloseCode.NOT_AUTHENTICATED
    stored = await database_sync_to_async(
        lambda: sorted(Message.objects.filter(room=public_room).values_list("client_id", flat=True))
    )()
    assert stored == ["q1", "q2"]
