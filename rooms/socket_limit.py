"""A cap on the sockets one user holds open at once, on every process.

Each open socket holds one of the user's `MAX_SOCKETS_PER_USER` slots: a cache
key `rooms:socket:<user id>:<slot>` whose value is the socket's channel name.
A socket's slot expires after SLOT_TTL_SECONDS unless its process refreshes it,
which one task per event loop does: the slots of a process that crashed free
themselves, never leak.

On Redis (the cache of a multi-process deployment) the claim is one Lua script:
it takes the user's first free slot (SET NX EX, key by key) and says which, in
one round trip, atomically, shared by every server process. The release is one
script too (delete only if the slot still holds this socket's name). The socket
runs both on its event loop's own asyncio Redis client: no thread hop. The
values are stored as Django's Redis cache stores them, so the cache API reads
and refreshes the same keys. Any other cache (the embedded default's
local memory) takes the slots with the cache's atomic add(), in a thread.
"""

import asyncio
import logging

import redis
import redis.asyncio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisSerializer
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from rooms.app_settings import app_settings

logger = logging.getLogger(__name__)

SLOT_REFRESH_SECONDS = 45
SLOT_TTL_SECONDS = 3 * SLOT_REFRESH_SECONDS

# KEYS: the user's slot keys, in order; ARGV: the socket's value, the TTL.
# Returns the 1-based index of the slot taken, 0 when all are held.
CLAIM_SCRIPT = """
for index, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'NX', 'EX', ARGV[2]) then
    return index
  end
end
return 0
"""
# KEYS: one slot; ARGV: the socket's value. An expired slot may already belong
# to another socket: only our own is deleted.
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
# The OPTIONS that Django's Redis cache consumes itself; the rest go to redis-py.
_DJANGO_ONLY_OPTIONS = {"pool_class", "parser_class", "serializer"}

# channel name -> slot key, for the sockets of this process.
_local_slots: dict[str, str] = {}
_refreshers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


# One cache object for the process. `django.core.cache.cache` is one per
# thread and async context: each socket's claim made its own, and with it a new
# Redis connection (a TCP connect and handshake per socket open). Django's Redis
# and local-memory backends are thread-safe (a pool; a lock).
_cache = None
# The Redis clients of the scripts: one blocking (thread-safe, for the sync
# calls), one asyncio client per event loop (an asyncio client is bound to its loop).
_sync_redis = None
_async_redis: dict[asyncio.AbstractEventLoop, tuple] = {}
_serializer = None
_uses_redis: bool | None = None


def _slots():
    global _cache
    if _cache is None:
        _cache = caches.create_connection(DEFAULT_CACHE_ALIAS)
    return _cache


def _redis_config() -> tuple[str, dict] | None:
    """The default cache's Redis server and client options, or None if not Redis."""
    config = settings.CACHES[DEFAULT_CACHE_ALIAS]
    if config.get("BACKEND") != _REDIS_BACKEND:
        return None
    location = config["LOCATION"]
    if isinstance(location, str):
        location = location.replace(";", ",").split(",")
    # Django's Redis cache writes to the first server.
    options = {
        key: value
        for key, value in config.get("OPTIONS", {}).items()
        if key not in _DJANGO_ONLY_OPTIONS
    }
    return location[0].strip(), options


def _value(channel_name: str) -> bytes:
    """The channel name as the cache stores it (its serializer, as Django builds it)."""
    global _serializer
    if _serializer is None:
        configured = settings.CACHES[DEFAULT_CACHE_ALIAS].get("OPTIONS", {}).get("serializer")
        if isinstance(configured, str):
            configured = import_string(configured)
        _serializer = configured() if callable(configured) else configured or RedisSerializer()
    return _serializer.dumps(channel_name)


def _sync_client():
    global _sync_redis
    if _sync_redis is None:
        url, options = _redis_config()
        client = redis.Redis.from_url(url, **options)
        _sync_redis = (
            client,
            client.register_script(CLAIM_SCRIPT),
            client.register_script(RELEASE_SCRIPT),
        )
    return _sync_redis


def _async_client():
    loop = asyncio.get_running_loop()
    found = _async_redis.get(loop)
    if found is None:
        for other in [other for other in _async_redis if other.is_closed()]:
            del _async_redis[other]
        url, options = _redis_config()
        client = redis.asyncio.Redis.from_url(url, **options)
        found = (
            client,
            client.register_script(CLAIM_SCRIPT),
            client.register_script(RELEASE_SCRIPT),
        )
        _async_redis[loop] = found
    return found


def _forget_cache(*, setting, **kwargs) -> None:
    global _cache, _sync_redis, _uses_redis, _serializer
    if setting == "CACHES":
        _cache = None
        _sync_redis = None
        _serializer = None
        _async_redis.clear()
        _uses_redis = None


setting_changed.connect(_forget_cache, dispatch_uid="rooms.socket_limit.cache")


def _on_redis() -> bool:
    global _uses_redis
    if _uses_redis is None:
        _uses_redis = _redis_config() is not None
    return _uses_redis


def max_sockets_per_user() -> int:
    return app_settings.MAX_SOCKETS_PER_USER


def _slot_keys(user_id: int, cap: int) -> list[str]:
    return [f"rooms:socket:{user_id}:{slot}" for slot in range(cap)]


def _script_args(user_id: int, cap: int, channel_name: str) -> tuple[list[str], list[str], list]:
    keys = _slot_keys(user_id, cap)
    stored = [_slots().make_and_validate_key(key) for key in keys]
    return keys, stored, [_value(channel_name), SLOT_TTL_SECONDS]


def claim_slot(user_id: int, channel_name: str) -> bool:
    """Takes a free slot for this socket; False when the user has none left."""
    cap = max_sockets_per_user()
    if cap <= 0:
        return True  # no cap
    if _on_redis():
        keys, stored, args = _script_args(user_id, cap, channel_name)
        taken = _sync_client()[1](keys=stored, args=args)
        if taken:
            _local_slots[channel_name] = keys[taken - 1]
        return bool(taken)
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
    if key is None:
        return
    if _on_redis():
        stored = _slots().make_and_validate_key(key)
        _sync_client()[2](keys=[stored], args=[_value(channel_name)])
    # Only our own: an expired slot may already belong to another socket.
    elif _slots().get(key) == channel_name:
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


async def _claim_on_loop(user_id: int, channel_name: str) -> bool:
    cap = max_sockets_per_user()
    if cap <= 0:
        return True  # no cap
    keys, stored, args = _script_args(user_id, cap, channel_name)
    taken = await _async_client()[1](keys=stored, args=args)
    if taken:
        _local_slots[channel_name] = keys[taken - 1]
    return bool(taken)


async def claim(user_id: int, channel_name: str) -> bool:
    """Called by a socket on connect (Redis on the loop, other caches in a thread)."""
    try:
        if _on_redis():
            claimed = await _claim_on_loop(user_id, channel_name)
        else:
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
    if channel_name not in _local_slots:
        return
    if not _on_redis():
        await sync_to_async(release_slot, thread_sensitive=False)(channel_name)
        return
    key = _local_slots.pop(channel_name)
    try:
        await _async_client()[2](
            keys=[_slots().make_and_validate_key(key)], args=[_value(channel_name)]
        )
    except Exception:
        # The slot expires by itself within SLOT_TTL_SECONDS.
        logger.exception("could not release the socket slot %s", key)
