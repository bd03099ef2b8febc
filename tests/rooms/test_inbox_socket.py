"""The inbox's live frames (issue 18 item 2), on the in-memory layer and on
channels-redis: a room socket forwards `conversation.changed` (the room page's
counts follow its one socket), and a contact request's acceptance reaches its
sender with `"request": "accepted"` on both kinds of socket."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from chatsite.asgi import application
from rooms import actions
from tests.rooms.conftest import ORIGIN, RECEIVE_TIMEOUT, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def conversations_socket(user) -> WebsocketCommunicator:
    cookie = await session_cookie(user)
    socket = WebsocketCommunicator(
        application,
        "/ws/conversations/",
        headers=[ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())],
    )
    connected, _ = await socket.connect(timeout=RECEIVE_TIMEOUT)
    assert connected
    return socket


@database_sync_to_async
def request_with_message(sender, recipient):
    room = actions.do_open_direct_room(recipient, actor=sender)
    actions.do_post_message(room, "Bonjour", actor=sender)
    return room


@database_sync_to_async
def accept(room, actor):
    actions.do_accept_contact_request(room.contact_request, actor=actor)


async def test_the_sender_hears_of_the_acceptance_on_every_socket(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await request_with_message(alice, bob)
    in_room = await open_socket(alice, "general")
    inbox = await conversations_socket(alice)
    await accept(room, bob)
    expected = {"type": "conversation.changed", "room": room.slug, "request": "accepted"}
    assert await in_room.receive_type("conversation.changed") == expected
    assert await inbox.receive_json_from(timeout=RECEIVE_TIMEOUT) == expected
    await inbox.disconnect()


async def test_a_room_socket_forwards_changes_of_other_conversations(
    channel_layer_backend, public_room, amake_user, open_socket
):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await request_with_message(alice, bob)
    bob_in_room = await open_socket(bob, "general")
    await database_sync_to_async(actions.do_post_message)(room, "Tu es là ?", actor=alice)
    # A held message tells nothing more; the acceptance does.
    await bob_in_room.nothing_but_presence()
    await accept(room, bob)
    frame = await bob_in_room.receive_type("conversation.changed")
    assert frame == {"type": "conversation.changed", "room": room.slug}
