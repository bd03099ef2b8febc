"""A cap on the sockets one user holds open at once, on every process.

Each open socket holds one of the user's `MAX_SOCKETS_PER_USER` slots: a cache
key `rooms:socket:<user id>:<slot>` taken with an atomic add (SET NX on Redis,
so shared by every server process). A socket's slot expires after
SLOT_TTL_SECONDS unless its process refreshes it, which one task per event
loop does: the slots of a process that crashed free themselves, never leak.
"""

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.signals import setting_changed

from rooms.app_settings import app_settings

logger = logging.getLogger(__name__)

SLOT_REFRESH_SECONDS = 45
SLOT_TTL_SECONDS = 3 * SLOT_REFRESH_SECONDS

# channel name -> slot key, for the sockets of this process.
_local_slots: dict[str, str] = {}
_refreshers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


# One cache object for the process. `django.core.cache.cache` is one per
# thread and async context: each socket's claim made its own, and with it a new
# Redis connection (a TCP connect and handshake per socket open). Django's Redis
# and local-memory backends are thread-safe (a pool; a lock).
_cache = None


def _slots():
    global _cache
    if _cache is None:
        _cache = caches.create_connection(DEFAULT_CACHE_ALIAS)
    return _cache


def _forget_cache(*, setting, **kwargs) -> None:
    global _cache
    if setting == "CACHES":
        _cache = None


setting_changed.connect(_forget_cache, dispatch_uid="rooms.socket_limit.cache")


def max_sockets_per_user() -> int:
    return app_settings.MAX_SOCKETS_PER_USER


def _slot_keys(user_id: int, cap: int) -> list[str]:
    return [f"rooms:socket:{user_id}:{slot}" for slot in range(cap)]


def claim_slot(user_id: int, channel_name: str) -> bool:
    """Takes a free slot for this socket; False when the user has none left."""
    cap = max_sockets_per_user()
    if cap <= 0:
        return True  # no cap
    keys = _slot_keys(user_id, cap)
    taken = _slots().get_many(keys)
    for key in keys:
        # add() is atomic: two sockets racing for one free slot cannot both get it.
        if key not in taken and _slots().add(key, channel_name, timeout=SLOT_TTL_SECONDS):
            _local_slots[channel_name] = key
            return True
    return False


def release_slot(channel_name: str) -> None:
    key = _local_slots.pop(channel_name, None)
    # Only our own: an expired slot may already belong to another socket.
    if key is not None and _slots().get(key) == channel_name:
        _slots().delete(key)


def refresh_slots() -> int:
    refreshed = 0
    for channel_name, key in list(_local_slots.items()):
        if _slots().touch(key, SLOT_TTL_SECONDS):
            refreshed += 1
        else:
            # Expired (this process stalled for minutes): take it again if free.
            _slots().add(key, channel_name, timeout=SLOT_TTL_SECONDS)
    return refreshed


async def _refresh_forever() -> None:
    while True:
        await asyncio.sleep(SLOT_REFRESH_SECONDS)
        if not _local_slots:
            continue
        try:
            await sync_to_async(refresh_slots, thread_sensitive=False)()
        except Exception:
            logger.exception("could not refresh %d socket slots", len(_local_slots))


async def claim(user_id: int, channel_name: str) -> bool:
    """Called by a socket on connect (the cache calls run off the event loop)."""
    try:
        claimed = await sync_to_async(claim_slot, thread_sensitive=False)(user_id, channel_name)
    except Exception:
        # The cache is down: better an uncapped socket than no chat at all.
        logger.exception("could not check the socket cap of user %s", user_id)
        return True
    if claimed and channel_name in _local_slots:
        loop = asyncio.get_running_loop()
        task = _refreshers.get(loop)
        if task is None or task.done():
            for other in [other for other in _refreshers if other.is_closed()]:
                del _refreshers[other]
            _refreshers[loop] = loop.create_task(_refresh_forever())
    return claimed


async def release(channel_name: str) -> None:
    if channel_name in _local_slots:
        await sync_to_async(release_slot, thread_sensitive=False)(channel_name)
