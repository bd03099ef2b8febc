"""The cap on sockets per user (rooms/socket_limit.py)."""

import time

import pytest

from rooms import socket_limit

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_connection_flood_from_one_account_is_refused_with_4429(
    channel_layer_backend, amake_user, amake_room, open_socket, settings
):
    settings.MAX_SOCKETS_PER_USER = 2
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await amake_room(slug="general")
    first = await open_socket(alice, "general")
    await first.receive_type("presence")
    second = await open_socket(alice, "general")  # alice is already present: no frame
    third = await open_socket(alice, "general")
    assert await third.closed_with() == 4429
    # Other accounts are not affected, and the two sockets still work.
    bobs = await open_socket(bob, "general")
    await bobs.receive_type("presence")
    await first.post("toujours là", "c1")
    assert (await second.receive_type("message.new"))["body"] == "toujours là"
    # Closing a socket frees its slot.
    await first.close()
    fourth = await open_socket(alice, "general")
    await fourth.post("revenue", "c2")
    assert (await fourth.receive_type("message.new"))["body"] == "revenue"


def test_slots_are_atomic_released_and_expire_after_a_crash(make_user, monkeypatch, settings):
    settings.MAX_SOCKETS_PER_USER = 3
    monkeypatch.setattr(socket_limit, "_local_slots", {})
    user = make_user()
    assert [socket_limit.claim_slot(user.pk, f"chan{i}") for i in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    socket_limit.release_slot("chan1")
    assert socket_limit.claim_slot(user.pk, "chan4")
    assert not socket_limit.claim_slot(user.pk, "chan5")
    # A process that dies never releases its slots: they expire by themselves,
    # unless refreshed (the live process's heartbeat).
    monkeypatch.setattr(socket_limit, "SLOT_TTL_SECONDS", 1)
    for name in ("chan0", "chan2", "chan4"):
        socket_limit.release_slot(name)
    assert socket_limit.claim_slot(user.pk, "crashed0")
    assert socket_limit.claim_slot(user.pk, "crashed1")
    assert socket_limit.claim_slot(user.pk, "alive")
    socket_limit._local_slots.pop("crashed0")
    socket_limit._local_slots.pop("crashed1")
    monkeypatch.setattr(socket_limit, "SLOT_TTL_SECONDS", 30)
    assert socket_limit.refresh_slots() == 1  # only the live one
    time.sleep(1.2)
    assert socket_limit.claim_slot(user.pk, "new0")
    assert socket_limit.claim_slot(user.pk, "new1")
    assert not socket_limit.claim_slot(user.pk, "new2")  # "alive" still holds its slot
    for name in ("alive", "new0", "new1"):
        socket_limit.release_slot(name)


def test_a_cap_of_zero_means_no_cap(make_user, settings):
    settings.MAX_SOCKETS_PER_USER = 0
    user = make_user()
    assert all(socket_limit.claim_slot(user.pk, f"chan{i}") for i in range(50))
