"""Per-process copies of policy state that posts read and rarely changes
(a user's sanctions, the filter rules), invalidated through the channel layer.

Every post used to read them from the database, a query each (docs/performance.md,
"Issue 20"). Here each process keeps what it read, and drops it:

- on commit of any change, in the process that made it (at once) and in every
  other process, by a `policy.invalidate` event on the `policy` group of the
  channel layer, which each server process listens to (`listen`);
- after `TTL_SECONDS` whatever happens, the safety net for an event that the
  layer lost (Redis restarting).

A process uses its copies only while it listens to the group: a process that
never opened a socket (a management command, a test without a socket) or
whose subscription broke reads the database every time. A load that raced
with an invalidation is not kept (the generation counter), so a stale answer
never outlives the event that announced the change. What remains is the
layer's delay between the commit and the event reaching another process
(milliseconds on one host): a post there may still pass in that window, as a
post whose transaction had begun before the sanction committed always could.

Owners register their caches (moderation/policy_hooks.py) and call
`changed(name, key)` from a model signal; rooms knows none of them.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)

GROUP = "policy"
EVENT = "policy.invalidate"
TTL_SECONDS = 10.0
# A cache holding more keys than this starts afresh (users who posted lately).
MAX_KEYS = 20_000
_ALL = "*"


class ProcessCache:
    """Values by key, shared by the threads of one process."""

    def __init__(self, name: str, ttl: float = TTL_SECONDS) -> None:
        self.name = name
        self.ttl = ttl
        self._entries: dict = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key, load: Callable[[], object]):
        if not is_live():
            return load()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
            generation = self._generation
        value = load()
        with self._lock:
            # An invalidation during the load: what was read may be older than it.
            if self._generation == generation:
                if len(self._entries) >= MAX_KEYS:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl, value)
        return value

    def invalidate(self, key=_ALL) -> None:
        with self._lock:
            self._generation += 1
            if key == _ALL:
                self._entries.clear()
            else:
                self._entries.pop(key, None)


_caches: dict[str, ProcessCache] = {}


def register(name: str, ttl: float = TTL_SECONDS) -> ProcessCache:
    cache = _caches.get(name)
    if cache is None:
        cache = _caches[name] = ProcessCache(name, ttl)
    return cache


def invalidate_locally(name: str, key=_ALL) -> None:
    cache = _caches.get(name)
    if cache is not None:
        cache.invalidate(key)


def invalidate_everywhere(name: str, key=_ALL) -> None:
    """This process at once, the others through the layer."""
    from rooms import notify  # notify imports the layer machinery; keep this module light

    invalidate_locally(name, key)
    notify.send_to_group(GROUP, {"type": EVENT, "cache": name, "key": key})


def changed(name: str, key=_ALL) -> None:
    """A write to what cache `name` holds (under `key`, or all of it). Dropped
    here now, so that the writing transaction's own reads see it, and again
    everywhere once it commits."""
    invalidate_locally(name, key)
    transaction.on_commit(partial(invalidate_everywhere, name, key))


def clear_all() -> None:
    for cache in _caches.values():
        cache.invalidate()


# --- the subscription, one per event loop (server process) -----------------------------------


class _Listener:
    def __init__(self, layer) -> None:
        self.layer = layer
        self.subscribed = False
        self.task: asyncio.Task | None = None
        self.loop = asyncio.get_running_loop()

    def live(self) -> bool:
        return (
            self.subscribed
            and self.task is not None
            and not self.task.done()
            and not self.loop.is_closed()
        )

    async def run(self) -> None:
        while True:
            try:
                channel = await self.layer.new_channel("rooms.policy.")
                await self.layer.group_add(GROUP, channel)
                # Whatever was kept before listening may have missed an event.
                clear_all()
                self.subscribed = True
                while True:
                    event = await self.layer.receive(channel)
                    if event.get("type") == EVENT and event.get("cache") in _caches:
                        invalidate_locally(event["cache"], event.get("key", _ALL))
            except asyncio.CancelledError:
                self.subscribed = False
                raise
            except Exception:
                # Events may have been missed: read the database until subscribed again.
                self.subscribed = False
                clear_all()
                logger.exception("policy cache: lost the channel layer, reading the database")
                await asyncio.sleep(1)


_listeners: dict[asyncio.AbstractEventLoop, _Listener] = {}


async def listen(layer) -> None:
    """Subscribes this event loop (this server process) to the invalidations,
    once; the caches are used from the moment the subscription holds."""
    if layer is None:
        return
    loop = asyncio.get_running_loop()
    listener = _listeners.get(loop)
    running = listener is not None and listener.task is not None and not listener.task.done()
    if running and listener.layer is layer:
        return
    for other in [other for other in _listeners if other.is_closed()]:
        del _listeners[other]
    if listener is not None and listener.task is not None:
        listener.task.cancel()
    listener = _listeners[loop] = _Listener(layer)
    listener.task = loop.create_task(listener.run())
    # Subscribed before the first socket's first post, in the common case.
    for _ in range(100):
        if listener.subscribed or listener.task.done():
            break
        await asyncio.sleep(0.01)


def is_live() -> bool:
    """Any listening event loop in this process (daphne runs one)."""
    return any(listener.live() for listener in list(_listeners.values()))
