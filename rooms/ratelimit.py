"""The per-user sending limit, MESSAGE_RATE_LIMIT = "BURST/PER_SECOND" or "off".

A token bucket kept in the Django cache (Redis in production, so that every
server process shares it): a user may send BURST messages at once, then
PER_SECOND a second. Stored as the "theoretical arrival time" of GCRA, which is
the same bucket in one number. Two sockets of one user racing may slip one
extra message through (get then set is not atomic); that is acceptable for a
flood guard and keeps the check to two cache calls.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from rooms.app_settings import app_settings

CACHE_KEY = "rooms:send-bucket:{user_id}"


@dataclass(frozen=True)
class RateLimit:
    burst: int
    per_second: float


def parse_rate_limit(value: str) -> RateLimit | None:
    """'5/1' -> RateLimit(5, 1.0); 'off' -> None."""
    value = (value or "").strip().lower()
    if value == "off":
        return None
    try:
        burst_text, rate_text = value.split("/")
        limit = RateLimit(int(burst_text), float(rate_text))
    except ValueError:
        raise ImproperlyConfigured(
            f"MESSAGE_RATE_LIMIT must be 'BURST/PER_SECOND' or 'off', not {value!r}"
        ) from None
    if limit.burst < 1 or limit.per_second <= 0:
        raise ImproperlyConfigured("MESSAGE_RATE_LIMIT needs a burst >= 1 and a rate > 0")
    return limit


def current_limit() -> RateLimit | None:
    return parse_rate_limit(app_settings.MESSAGE_RATE_LIMIT)


def take_token(user_id: int, *, now: float | None = None) -> float:
    """Takes one token: 0 when allowed, else the seconds to wait (nothing taken)."""
    limit = current_limit()
    if limit is None:
        return 0.0
    now = time.time() if now is None else now
    interval = 1.0 / limit.per_second
    key = CACHE_KEY.format(user_id=user_id)
    arrival = max(cache.get(key) or 0.0, now)
    # The bucket is full when arrival == now; each message pushes it one interval on.
    wait = arrival + interval - now - limit.burst * interval
    if wait > 1e-9:
        return wait
    new_arrival = arrival + interval
    cache.set(key, new_arrival, timeout=int(new_arrival - now) + 2)
    return 0.0
