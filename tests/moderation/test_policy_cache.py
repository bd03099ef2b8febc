"""Sanctions and filter rules kept in memory per process (rooms/policy_cache.py):
a post reads neither from the database, and every change reaches the next post,
from this process at once and from another one through the channel layer."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.refusals import RefusalCode
from moderation import policy_hooks
from moderation.models import (
    FilterAction,
    FilterKind,
    FilterRule,
    Ground,
    Sanction,
    SanctionKind,
)
from rooms import actions, policy_cache

pytestmark = pytest.mark.django_db(transaction=True)

# A post in a public room once the policy is cached: the room's row lock, the
# client_id look-up, the message and its content operation. Two transactions'
# worth of slack (savepoints) so that the count is about queries, not wrapping.
MAX_QUERIES_PER_POST = 6


def _post_counting_queries(room, user, body: str, client_id: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        actions.do_post_message(room, body, actor=user, client_id=client_id, account_checked=True)
    return [query["sql"] for query in captured]


async def test_a_post_reads_neither_sanctions_nor_filter_rules_once_cached(
    room, amake_user, open_socket
):
    alice = await amake_user()
    socket = await open_socket(alice, room.slug)  # this process now listens: caches in use
    assert policy_cache.is_live()
    count = database_sync_to_async(_post_counting_queries)
    await count(room, alice, "premier", "c1")  # fills the caches
    queries = await count(room, alice, "second", "c2")
    assert not [sql for sql in queries if "moderation_" in sql], queries
    assert len(queries) <= MAX_QUERIES_PER_POST, queries
    await socket.receive_type("message.new")


async def test_without_a_listening_process_every_post_reads_the_database(room, make_user):
    """A process that never opened a socket (a command, the HTTP API alone)
    has no subscription: it must not trust a copy it cannot hear about."""
    alice = await database_sync_to_async(make_user)()
    assert not policy_cache.is_live()
    queries = await database_sync_to_async(_post_counting_queries)(room, alice, "bonjour", "c1")
    assert [sql for sql in queries if "moderation_sanction" in sql]


@database_sync_to_async
def _mute_written_elsewhere(user) -> Sanction:
    """The row another process committed: written by the plain base manager, which
    neither sends a signal nor drops the caches, so this process learns of it only
    through the channel layer."""
    now = timezone.now()
    return Sanction._base_manager.bulk_create(
        [
            Sanction(
                kind=SanctionKind.MUTE,
                user=user,
                starts_at=now,
                ends_at=now + timedelta(minutes=30),
                reason="Motif.",
                ground=Ground.TERMS_OTHER,
                created=now,
            )
        ]
    )[0]


@database_sync_to_async
def _muted_verdict(user, room):
    return policy_hooks.refuse_muted(user, room, "texte")


async def test_a_mute_from_another_process_refuses_the_next_post_through_the_layer(
    two_layers, room, amake_user, open_socket
):
    alice = await amake_user()
    socket = await open_socket(alice, room.slug, other_process=True)
    await socket.post("avant", "c1")
    assert (await socket.receive_type("message.new"))["body"] == "avant"
    await _mute_written_elsewhere(alice)
    # Kept in memory: without the event this process still lets alice post.
    assert await _muted_verdict(alice, room) is None
    # What the other process's commit sends (policy_cache.changed, on commit).
    event = {"type": policy_cache.EVENT, "cache": policy_hooks.SANCTIONS.name, "key": alice.pk}
    await get_channel_layer().group_send(policy_cache.GROUP, event)
    for _ in range(200):  # the listener's turn on this loop; bounded, not timed
        if await _muted_verdict(alice, room) is not None:
            break
        await asyncio.sleep(0.01)
    await socket.post("après", "c2")
    frame = await socket.receive_type("error")
    assert (frame["code"], frame["client_id"]) == (RefusalCode.MUTED, "c2")


async def test_a_mute_issued_in_this_process_refuses_the_very_next_post(
    room, amake_user, moderator, open_socket
):
    alice = await amake_user()
    socket = await open_socket(alice, room.slug)
    await socket.post("avant", "c1")
    await socket.receive_type("message.new")
    await database_sync_to_async(actions_issue_mute)(alice, moderator)
    await socket.post("après", "c2")
    assert (await socket.receive_type("error"))["code"] == RefusalCode.MUTED


def actions_issue_mute(user, moderator):
    from moderation import actions as moderation_actions

    return moderation_actions.do_issue_sanction(
        user, actor=moderator, kind="mute", duration_minutes=30, reason="Motif."
    )


async def test_a_new_filter_rule_applies_to_the_next_post(room, amake_user, open_socket):
    alice = await amake_user()
    socket = await open_socket(alice, room.slug)
    await socket.post("un mot interdit", "c1")
    await socket.receive_type("message.new")
    await database_sync_to_async(FilterRule.objects.create)(
        name="Interdit", kind=FilterKind.WORDS, pattern="interdit", action=FilterAction.BLOCK
    )
    await socket.post("encore interdit", "c2")
    assert (await socket.receive_type("error"))["code"] == RefusalCode.FILTERED


async def test_a_load_that_races_an_invalidation_is_not_kept(room, amake_user, open_socket):
    alice = await amake_user()
    await open_socket(alice, room.slug)
    cache = policy_cache.ProcessCache("test.race")
    loads = []

    def load():
        loads.append(1)
        if len(loads) == 1:
            cache.invalidate("key")  # a change committed while this load read
        return len(loads)

    get = database_sync_to_async(cache.get)
    assert await get("key", load) == 1
    assert await get("key", load) == 2  # the first answer was not kept
    assert await get("key", load) == 2  # the second one was


async def test_a_bulk_lift_reaches_the_next_post_without_waiting_for_the_cache(
    room, amake_user, moderator, open_socket
):
    """`QuerySet.update()` sends no signal: the queryset drops the copies itself."""
    alice = await amake_user()
    socket = await open_socket(alice, room.slug)
    await database_sync_to_async(actions_issue_mute)(alice, moderator)
    await socket.post("muette", "c1")
    assert (await socket.receive_type("error"))["code"] == RefusalCode.MUTED
    await database_sync_to_async(Sanction.objects.filter(user=alice).update)(
        lifted_at=timezone.now()
    )
    await socket.post("de retour", "c2")
    assert (await socket.receive_type("message.new"))["body"] == "de retour"


async def test_filter_rules_made_in_bulk_apply_to_the_next_post(room, amake_user, open_socket):
    alice = await amake_user()
    socket = await open_socket(alice, room.slug)
    await socket.post("un mot banni", "c1")
    await socket.receive_type("message.new")
    rule = FilterRule(
        name="Banni", kind=FilterKind.WORDS, pattern="banni", action=FilterAction.BLOCK
    )
    await database_sync_to_async(FilterRule.objects.bulk_create)([rule])
    await socket.post("encore banni", "c2")
    assert (await socket.receive_type("error"))["code"] == RefusalCode.FILTERED
