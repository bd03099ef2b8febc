"""What raid mode costs a post: CPU per post with its checks and without (issue 19 item 3).

    .venv/bin/python bench/raid_post_path.py [--posts 300] [--rounds 5]

Makes (or reuses) the PostgreSQL database `chatsite_bench_raid`, with a public
room and ten established members, then times `do_post_message` as the socket
calls it (bench/cpu.py's `post_cpu`: the calling thread's CPU per post, the
process subscribed to the policy invalidations as a server is), in alternating
rounds: raid mode's checks registered (this checkout as it runs), then
unregistered (the post path before raid mode), then registered with a
site-wide raid mode on (its slow mode at 0 so that the same members may post
on; established members: nothing held). Also counts the statements of one post
in each case: none of them may read the raid modes once cached.
"""

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatsite_bench_raid")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("MESSAGE_RATE_LIMIT", "off")
    os.environ.setdefault("RAID_SLOW_MODE_SECONDS", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()


def _prepare() -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from rooms import actions
    from rooms.models import Room

    call_command("migrate", verbosity=0)
    if not Room.objects.filter(slug="bench-1").exists():
        actions.do_create_room(actor=None, kind="public", slug="bench-1", name="Bench 1")
    User = get_user_model()
    for number in range(10):
        name = f"bench_{number}"
        if not User.objects.filter(username=name).exists():
            User.objects.create_user(name, f"{name}@bench.example", "bench-password-123")
    User.objects.filter(username__startswith="bench_").update(
        date_joined=timezone.now() - timedelta(days=90)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _setup()
    _prepare()
    from bench.cpu import post_cpu
    from moderation import actions, raid
    from moderation.models import RaidMode
    from rooms import policy

    def unregister() -> None:
        policy.unregister_check(raid.hold_recent_accounts_first_messages)
        policy.unregister_source(raid.raised_slow_mode)

    def register() -> None:
        policy.register_post_check(
            raid.hold_recent_accounts_first_messages, screens_text=True, new_messages_only=True
        )
        policy.register_slow_mode_source(raid.raised_slow_mode)

    RaidMode.objects.all().delete()
    cases = {"with raid checks, off": [], "without raid checks": [], "with raid mode on": []}
    statements = {}
    for _ in range(args.rounds):
        register()
        result = post_cpu(args.posts, 1)
        cases["with raid checks, off"] += result["cpu_ms_per_post"]
        statements["with raid checks, off"] = result["statements_per_post"]
        unregister()
        result = post_cpu(args.posts, 1)
        cases["without raid checks"] += result["cpu_ms_per_post"]
        statements["without raid checks"] = result["statements_per_post"]
        register()
        on = actions.do_start_raid_mode(actor=None, reason="bench", duration_minutes=60)
        result = post_cpu(args.posts, 1)
        cases["with raid mode on"] += result["cpu_ms_per_post"]
        statements["with raid mode on"] = result["statements_per_post"]
        on.delete()
    summary = {
        name: {
            "cpu_ms_per_post": sorted(values),
            "median": sorted(values)[len(values) // 2],
            "statements": len(statements[name]),
            "raid_statements": [s for s in statements[name] if "raidmode" in s],
        }
        for name, values in cases.items()
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
