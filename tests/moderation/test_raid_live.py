"""Raid mode seen by every server process: the per-process copy of the modes in
force (moderation/raid.py, rooms/policy_cache.py) is dropped by the channel
layer's event when another process switches a mode on, and the next post here
meets its raised slow mode."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.refusals import RefusalCode
from moderation import raid
from moderation.models import RaidMode, RaidTrigger
from rooms import policy_cache

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def _established(user):
    get_user_model().objects.filter(pk=user.pk).update(
        date_joined=timezone.now() - timedelta(days=90)
    )


@database_sync_to_async
def _raid_written_elsewhere() -> RaidMode:
    """The row another process committed: written by the plain base manager, which
    neither sends a signal nor drops the copies, so this process learns of it only
    through the channel layer."""
    now = timezone.now()
    return RaidMode._base_manager.bulk_create(
        [
            RaidMode(
                trigger=RaidTrigger.MANUAL,
                reason="Vague.",
                started_at=now,
                ends_at=now + timedelta(minutes=60),
            )
        ]
    )[0]


async def test_a_raid_mode_from_another_process_raises_slow_mode_here_through_the_layer(
    two_layers, room, amake_user, open_socket
):
    alice = await amake_user()
    await _established(alice)
    socket = await open_socket(alice, room.slug, other_process=True)
    await socket.post("avant", "c1")
    assert (await socket.receive_type("message.new"))["body"] == "avant"
    await _raid_written_elsewhere()
    # Kept in memory: without the event this process does not know of it yet.
    assert await database_sync_to_async(raid.site_raid)() is None
    # What the other process's commit sends (policy_cache.changed, on commit).
    event = {"type": policy_cache.EVENT, "cache": raid.RAID_MODES.name, "key": "all"}
    await get_channel_layer().group_send(policy_cache.GROUP, event)
    for _ in range(200):  # the listener's turn on this loop; bounded, not timed
        if await database_sync_to_async(raid.site_raid)() is not None:
            break
        await asyncio.sleep(0.01)
    await socket.post("après", "c2")
    frame = await socket.receive_type("error")
    assert (frame["code"], frame["client_id"]) == (RefusalCode.RATE_LIMITED, "c2")
    assert "30" in frame["detail"]
