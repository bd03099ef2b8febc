"""CPU time of the trust levels' checks on the post path (docs/performance.md, "Trust levels").

    .venv/bin/python bench/trust_checks.py [--calls 2000] [--rounds 5]

Run after `make bench` (its database and users; bench_users makes them established
members, level 3). `policy.can_post` for a bench user in a bench room, the calling
thread's CPU per call, with the process subscribed to the policy invalidations as a
server is, the trust gates on and off in alternate rounds (same process, same
caches: the difference is the checks' own cost); then the same for members of
level 0 (the same accounts seen as a minute old) in the same busy room, where they
have posted before: the level and the busy-room check run in full. Also the
statements one call makes once the caches are warm.
"""

import argparse
import asyncio
import os
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatsite_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()


def measure(calls: int, rounds: int) -> dict:
    from channels.layers import get_channel_layer
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from moderation import trust
    from rooms import policy, policy_cache
    from rooms.models import Room

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(policy_cache.listen(get_channel_layer()), loop).result()
    room = Room.objects.get(slug="bench-1")
    users = list(get_user_model().objects.filter(username__startswith="bench_")[:10])
    # A level-0 member: the same accounts, seen as joined a minute ago (not saved).
    newcomers = list(get_user_model().objects.filter(username__startswith="bench_")[10:20])
    for user in newcomers:
        user.date_joined = timezone.now() - timedelta(minutes=1)

    def run(members, where, gates: bool) -> float:
        with override_settings(TRUST_GATES=gates):
            for number in range(30):
                policy.can_post(
                    members[number % len(members)], where, "bonjour", account_checked=True
                )
            started = time.thread_time()
            for number in range(calls):
                policy.can_post(
                    members[number % len(members)], where, f"bonjour {number}", account_checked=True
                )
            return (time.thread_time() - started) / calls * 1e6

    result = {"levels": sorted({trust.level_of(user) for user in users})}
    for label, members, where in (
        ("confirmed", users, room),
        ("new_first_message_in_busy_room", newcomers, room),
    ):
        on, off = [], []
        for _ in range(rounds):
            off.append(round(run(members, where, False), 1))
            on.append(round(run(members, where, True), 1))
        with override_settings(TRUST_GATES=True), CaptureQueriesContext(connection) as captured:
            policy.can_post(members[0], where, "bonjour", account_checked=True)
        result[label] = {
            "room": where.slug,
            "us_per_can_post_gates_off": off,
            "us_per_can_post_gates_on": on,
            "statements": [query["sql"][:70] for query in captured],
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _setup()
    import json

    print(json.dumps({**measure(args.calls, args.rounds), "loadavg": os.getloadavg()[0]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
