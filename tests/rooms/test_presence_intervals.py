"""Presence intervals (who had a room open, when) from real sockets through daphne:
an open and a close, two tabs, a reconnect merged, a process that dies. Time is
moved in the database (an interval's end pushed back), never waited for."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django.utils import timezone

from rooms.actions.presence_intervals import close_dead_presence_intervals
from rooms.models import PresenceInterval, RoomPresence
from rooms.presence import PRESENCE_TTL_SECONDS, refresh_presence
from tests.servers import start_daphne
from tests.wsclient import joined, open_ws

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 10


@database_sync_to_async
def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@database_sync_to_async
def intervals(user) -> list[PresenceInterval]:
    return list(PresenceInterval.objects.filter(user=user).order_by("started_at"))


async def until(condition, what: str) -> None:
    """The server closes an interval once it has handled the socket's close: poll."""
    try:
        async with asyncio.timeout(WAIT):
            while not await database_sync_to_async(condition)():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {WAIT} s: {what}") from None


def closed(user) -> bool:
    return not PresenceInterval.objects.filter(user=user, ended_at__isnull=True).exists()


async def test_tabs_and_a_quick_reconnect_make_one_interval(asgi_server, make_user, make_room):
    alice = await database_sync_to_async(make_user)("alice")
    room = await database_sync_to_async(make_room)(slug="place")
    session = await session_of(alice)
    before_open = timezone.now()

    first = await open_ws(asgi_server, room.slug, session)
    await joined(first, "alice")
    [interval] = await intervals(alice)
    assert interval.room_id == room.pk and interval.ended_at is None
    assert before_open <= interval.started_at <= timezone.now()

    # A second tab: still one interval, still open when the first tab closes.
    second = await open_ws(asgi_server, room.slug, session)
    await joined(second, "alice")
    await first.close()
    await until(lambda: RoomPresence.objects.filter(user=alice).count() == 1, "first tab gone")
    assert [(i.pk, i.ended_at) for i in await intervals(alice)] == [(interval.pk, None)]

    # The last tab closes: the interval ends.
    await second.close()
    await until(lambda: closed(alice), "interval closed")
    [ended] = await intervals(alice)
    assert ended.pk == interval.pk and ended.ended_at >= ended.started_at

    # A reconnect within the merge gap (a reload): the same interval goes on.
    third = await open_ws(asgi_server, room.slug, session)
    await joined(third, "alice")
    [resumed] = await intervals(alice)
    assert (resumed.pk, resumed.ended_at, resumed.started_at) == (
        interval.pk,
        None,
        interval.started_at,
    )
    await third.close()
    await until(lambda: closed(alice), "interval closed again")

    # Back after longer than the gap: a new interval, the first one kept as it ended.
    gap = timedelta(seconds=61)
    await database_sync_to_async(
        lambda: PresenceInterval.objects.filter(pk=interval.pk).update(
            started_at=timezone.now() - 3 * gap, ended_at=timezone.now() - gap
        )
    )()
    fourth = await open_ws(asgi_server, room.slug, session)
    await joined(fourth, "alice")
    old, new = await intervals(alice)
    assert old.pk == interval.pk and old.ended_at is not None
    assert new.ended_at is None and new.started_at > old.ended_at
    await fourth.close()
    await until(lambda: closed(alice), "new interval closed")
    assert "Traceback" not in asgi_server.log()


async def test_two_people_each_their_own_interval(asgi_server, make_user, make_room):
    alice = await database_sync_to_async(make_user)("alice")
    bob = await database_sync_to_async(make_user)("bob")
    room = await database_sync_to_async(make_room)(slug="place")
    alice_ws = await open_ws(asgi_server, room.slug, await session_of(alice))
    await joined(alice_ws, "alice")
    bob_ws = await open_ws(asgi_server, room.slug, await session_of(bob))
    await joined(bob_ws, "bob")
    await bob_ws.close()
    await until(lambda: closed(bob), "bob's interval closed")
    [alice_interval] = await intervals(alice)
    [bob_interval] = await intervals(bob)
    assert alice_interval.ended_at is None  # bob leaving ends nothing of alice's
    assert bob_interval.ended_at is not None
    await alice_ws.close()
    await until(lambda: closed(alice), "alice's interval closed")


async def test_a_process_that_dies_ends_the_interval_at_its_last_sign_of_life(
    asgi_server, make_user, make_room, tmp_path
):
    alice = await database_sync_to_async(make_user)("alice")
    room = await database_sync_to_async(make_room)(slug="place")
    session = await session_of(alice)
    ws = await open_ws(asgi_server, room.slug, session)
    await joined(ws, "alice")
    asgi_server.daphne.kill()  # kill -9: no close, no disconnect handler
    [interval] = await intervals(alice)
    assert interval.ended_at is None

    # Its last refresh was a while ago: the row and the interval have gone stale.
    last_seen = timezone.now() - timedelta(seconds=PRESENCE_TTL_SECONDS + 60)
    await database_sync_to_async(
        lambda: (
            RoomPresence.objects.filter(user=alice).update(seen_at=last_seen),
            PresenceInterval.objects.filter(pk=interval.pk).update(seen_at=last_seen),
        )
    )()
    # Another process's refresh sweeps it: the interval ends at its last seen_at.
    assert await database_sync_to_async(close_dead_presence_intervals)() == 1
    [swept] = await intervals(alice)
    assert swept.ended_at == last_seen

    # A new server: alice comes back, long after; a new interval, the old one unchanged.
    env = {key: value for key, value in asgi_server.env.items() if key != "SITE_URL"}
    revived = start_daphne(env, tmp_path / "revived.log", timeout=90)
    try:
        again = await open_ws(revived, room.slug, session)
        await joined(again, "alice")
        old, new = await intervals(alice)
        assert (old.pk, old.ended_at) == (interval.pk, last_seen)
        assert new.ended_at is None
        # The stale socket row of the dead process is gone; the live one counts.
        assert await database_sync_to_async(RoomPresence.objects.filter(user=alice).count)() == 1
        await again.close()
        await until(lambda: closed(alice), "closed on the new server")
    finally:
        revived.stop()


def test_an_interval_left_open_by_a_dead_process_is_closed_at_the_next_opening(
    make_user, make_room
):
    """Without the sweep: the person's next first socket closes it at its seen_at."""
    from rooms import actions

    alice = make_user("alice")
    room = make_room(slug="place")
    actions.do_enter_room(room, "dead-process-chan", actor=alice)
    last_seen = timezone.now() - timedelta(seconds=PRESENCE_TTL_SECONDS + 120)
    RoomPresence.objects.update(seen_at=last_seen)
    PresenceInterval.objects.update(seen_at=last_seen)
    actions.do_enter_room(room, "live-chan", actor=alice)
    old, new = PresenceInterval.objects.filter(user=alice).order_by("started_at")
    assert old.ended_at == last_seen and new.ended_at is None


def test_the_refresh_keeps_open_intervals_alive_and_no_others(make_user, make_room):
    from rooms import actions

    alice, bob = make_user("alice"), make_user("bob")
    room = make_room(slug="place")
    actions.do_enter_room(room, "alice-chan", actor=alice)
    actions.do_enter_room(room, "bob-chan", actor=bob)
    long_ago = timezone.now() - timedelta(minutes=1)
    PresenceInterval.objects.update(seen_at=long_ago)
    refresh_presence(["alice-chan"])
    seen = dict(PresenceInterval.objects.values_list("user__username", "seen_at"))
    assert seen["alice"] > long_ago and seen["bob"] == long_ago


def test_a_closed_account_keeps_its_intervals_ended(make_user, make_room):
    from rooms import actions

    alice = make_user("alice")
    room = make_room(slug="place")
    actions.do_enter_room(room, "alice-chan", actor=alice)
    actions.do_forget_member(alice, actor=None)
    [interval] = PresenceInterval.objects.filter(user=alice)
    assert interval.ended_at is not None
