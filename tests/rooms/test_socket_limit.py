"""The cap on sockets per user (rooms/socket_limit.py), on each cache it runs on."""

import asyncio
import threading
import time
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from chatsite.services import redis_cache
from rooms import socket_limit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["memory", "redis"])
def slot_cache(request):
    """The embedded default's local memory (add() in a thread), then Redis (the scripts)."""
    if request.param == "memory":
        caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    else:
        url = request.getfixturevalue("redis_url")
        caches = {"default": redis_cache(url, f"test{uuid.uuid4().hex[:8]}")}
    with override_settings(CACHES=caches):
        yield request.param


async def test_a_connection_flood_from_one_account_is_refused_with_4429(
    channel_layer_backend, slot_cache, amake_user, amake_room, open_socket, settings
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


def test_slots_are_atomic_released_and_expire_after_a_crash(
    slot_cache, make_user, monkeypatch, settings
):
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


def test_a_cap_of_zero_means_no_cap(slot_cache, make_user, settings):
    settings.MAX_SOCKETS_PER_USER = 0
    user = make_user()
    assert all(socket_limit.claim_slot(user.pk, f"chan{i}") for i in range(50))


async def test_sockets_racing_for_the_last_slot_only_one_wins(slot_cache, monkeypatch, settings):
    settings.MAX_SOCKETS_PER_USER = 3
    monkeypatch.setattr(socket_limit, "_local_slots", {})
    user_id = 10_000 + uuid.uuid4().int % 1_000_000
    keys = socket_limit._slot_keys(user_id, 3)
    # The two first taken by the blocking client: every racer then starts on the
    # same footing (a new connection of the loop's client each), none ahead.
    assert await sync_to_async(socket_limit.claim_slot)(user_id, "held0")
    assert await sync_to_async(socket_limit.claim_slot)(user_id, "held1")
    racers = [f"racer{number}" for number in range(12)]
    won = await asyncio.gather(*(socket_limit.claim(user_id, name) for name in racers))
    assert won.count(True) == 1
    winner = racers[won.index(True)]
    held = await sync_to_async(socket_limit._slots().get_many)(keys)
    assert sorted(held.values()) == sorted(["held0", "held1", winner])
    assert sorted(socket_limit._local_slots) == sorted(["held0", "held1", winner])
    for name in ("held0", "held1", winner):
        await socket_limit.release(name)
    assert await sync_to_async(socket_limit._slots().get_many)(keys) == {}
    assert socket_limit._local_slots == {}


def test_threads_racing_for_the_last_slot_only_one_wins(slot_cache, monkeypatch, settings):
    """The same race across threads (sync callers, e.g. two processes' claims)."""
    settings.MAX_SOCKETS_PER_USER = 2
    monkeypatch.setattr(socket_limit, "_local_slots", {})
    user_id = 10_000 + uuid.uuid4().int % 1_000_000
    assert socket_limit.claim_slot(user_id, "held")
    start = threading.Barrier(8)
    won = {}

    def race(name: str) -> None:
        start.wait()
        won[name] = socket_limit.claim_slot(user_id, name)

    threads = [threading.Thread(target=race, args=(f"t{number}",)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert list(won.values()).count(True) == 1
    for name in ["held"] + [name for name, ok in won.items() if ok]:
        socket_limit.release_slot(name)


async def test_a_release_frees_only_its_own_slot(slot_cache, monkeypatch, settings):
    settings.MAX_SOCKETS_PER_USER = 1
    monkeypatch.setattr(socket_limit, "_local_slots", {})
    user_id = 10_000 + uuid.uuid4().int % 1_000_000
    (key,) = socket_limit._slot_keys(user_id, 1)
    cache = socket_limit._slots()
    assert await socket_limit.claim(user_id, "stalled")
    # The stalled socket's slot expired and another socket took it.
    await sync_to_async(cache.set)(key, "newer", 60)
    await socket_limit.release("stalled")
    assert await sync_to_async(cache.get)(key) == "newer"
    assert not await socket_limit.claim(user_id, "third")
    await sync_to_async(cache.delete)(key)


async def test_a_cache_that_is_down_leaves_the_socket_uncapped(monkeypatch, settings, redis_url):
    settings.MAX_SOCKETS_PER_USER = 1
    monkeypatch.setattr(socket_limit, "_local_slots", {})
    # Nothing listens on port 1 (a refused connection, at once).
    with override_settings(CACHES={"default": redis_cache("redis://127.0.0.1:1/0", "down")}):
        assert await socket_limit.claim(1, "first")
        assert await socket_limit.claim(1, "second")
        assert socket_limit._local_slots == {}
