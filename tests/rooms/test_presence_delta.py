"""Presence in large rooms (docs/protocol.md, "Presence in large rooms"): above
PRESENCE_LIST_MAX online, a change goes out as who came and who left, and the
socket that opens gets the whole list for itself."""

import pytest

from rooms import fanout, notify
from rooms.protocol import GroupEvent, ServerEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_small_room_gets_the_whole_list(listen, settings):
    settings.PRESENCE_LIST_MAX = 3
    events = listen("room.7")
    notify.presence_changed(7, ["ada", "bob", "cy"], 5, before=["ada", "bob"])
    assert events() == [
        {"type": GroupEvent.ROOM_PRESENCE, "users": ["ada", "bob", "cy"], "members": 5}
    ]


def test_a_large_room_gets_the_change_alone(listen, settings):
    settings.PRESENCE_LIST_MAX = 2
    events = listen("room.7")
    notify.presence_changed(7, ["ada", "bob", "cy"], 5, before=["ada", "bob", "dan"])
    (event,) = events()
    assert event == {
        "type": GroupEvent.ROOM_PRESENCE,
        "joined": ["cy"],
        "left": ["dan"],
        "online": 3,
        "members": 5,
    }
    assert fanout.frame_text(event) == (
        '{"type": "presence.delta", "joined": ["cy"], "left": ["dan"], "online": 3, "members": 5}'
    )
    # Without the set it replaced (an account forgotten), the whole list.
    notify.presence_changed(7, ["ada", "bob", "cy"], 5)
    assert events()[0]["users"] == ["ada", "bob", "cy"]


def test_a_delta_costs_the_same_bytes_in_a_room_of_a_thousand(listen, settings):
    settings.PRESENCE_LIST_MAX = 100
    events = listen("room.7")
    names = [f"member{number:04d}" for number in range(1000)]
    notify.presence_changed(7, names, 1000, before=names[:-1])
    notify.presence_changed(7, names[:11], 1000, before=names[:10])
    large, small = (fanout.frame_text(event) for event in events())
    assert ServerEvent.PRESENCE_DELTA in large and len(large) < 120
    assert '"users"' in small and len(small) > len(large)


async def test_sockets_of_a_large_room(
    channel_layer_backend, public_room, amake_user, open_socket, settings
):
    settings.PRESENCE_LIST_MAX = 1
    alice, bob = await amake_user("alice"), await amake_user("bob")
    first = await open_socket(alice, public_room.slug)
    assert (await first.receive_type("presence"))["users"] == ["alice"]
    second = await open_socket(bob, public_room.slug)
    # Bob, opening, gets the whole list; Alice only that Bob came.
    assert (await second.receive_type("presence"))["users"] == ["alice", "bob"]
    delta = await first.receive_type("presence.delta")
    assert (delta["joined"], delta["left"], delta["online"]) == (["bob"], [], 2)
    await second.close()
    # Back to one online, under the limit: the whole list again.
    assert (await first.receive_type("presence"))["users"] == ["alice"]
