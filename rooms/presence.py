"""Keeping the presence rows of this process's sockets fresh.

Each RoomPresence row is refreshed every PRESENCE_REFRESH_SECONDS by one task
per event loop (one UPDATE for all the process's sockets, not one per socket);
a row not refreshed for PRESENCE_TTL_SECONDS belongs to a process that died,
and no longer counts as online.
"""

import asyncio
import logging
from datetime import datetime, timedelta

from channels.db import database_sync_to_async
from django.utils import timezone

logger = logging.getLogger(__name__)

PRESENCE_REFRESH_SECONDS = 45
PRESENCE_TTL_SECONDS = 3 * PRESENCE_REFRESH_SECONDS
REFRESH_BATCH = 1000

_local_channels: set[str] = set()
_refreshers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def presence_deadline() -> datetime:
    return timezone.now() - timedelta(seconds=PRESENCE_TTL_SECONDS)


def refresh_presence(channel_names: list[str]) -> int:
    from rooms.models import RoomPresence

    now = timezone.now()
    updated = 0
    for start in range(0, len(channel_names), REFRESH_BATCH):
        batch = channel_names[start : start + REFRESH_BATCH]
        updated += RoomPresence.objects.filter(channel_name__in=batch).update(seen_at=now)
        _refresh_intervals(batch, now)
    _close_dead_intervals()
    return updated


def _refresh_intervals(batch: list[str], now: datetime) -> None:
    """The presence intervals follow their sockets' refresh (who could have seen a
    message, docs/moderation.md)."""
    from rooms.actions.presence_intervals import refresh_presence_intervals

    refresh_presence_intervals(batch, now)


def _close_dead_intervals() -> None:
    """Intervals left open by a process that died end at their last refresh."""
    from rooms.actions.presence_intervals import close_dead_presence_intervals

    close_dead_presence_intervals()


async def _refresh_forever() -> None:
    while True:
        await asyncio.sleep(PRESENCE_REFRESH_SECONDS)
        names = list(_local_channels)
        if not names:
            continue
        try:
            await database_sync_to_async(refresh_presence)(names)
        except Exception:
            logger.exception("could not refresh %d presence rows", len(names))


def track(channel_name: str) -> None:
    """Called by a room socket once its presence row exists."""
    _local_channels.add(channel_name)
    loop = asyncio.get_running_loop()
    task = _refreshers.get(loop)
    if task is None or task.done():
        for other in [other for other in _refreshers if other.is_closed()]:
            del _refreshers[other]
        _refreshers[loop] = loop.create_task(_refresh_forever())


def untrack(channel_name: str) -> None:
    _local_channels.discard(channel_name)
