"""History paging at a million messages: `make bench-history`.

    .venv/bin/python bench/history.py                       # 1,000,000 messages, 2,000 pages
    .venv/bin/python bench/history.py --messages 200000 --pages 500

Fills one public room of the bench database (chatsite_bench, like `make bench`)
with --messages messages (about 1% of them hidden by moderation, as in real life)
plus as many again spread over other rooms, then times random pages of the history
two ways: `rooms.queries.messages_page` (the ORM query the API and the socket
backfill use) and the whole `GET /api/rooms/<slug>/messages/` request through
Django's handler (middleware, session, access check, JSON). It prints
p50/p95/p99 per kind of page, the query plans (EXPLAIN ANALYZE, BUFFERS), and
appends one JSON line to var/bench/history-<time>.jsonl. The rows are made once
by SQL (generate_series) and kept: a second run reuses them.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import BENCH_SECRET_KEY, check_postgres, ensure_database  # noqa: E402

ROOM_SLUG = "history-1m"
SPARSE_SLUG = "history-sparse"
AUTHOR = "history_author"
PAGE = 50
PAGE_KINDS = (
    "query_before",
    "query_after",
    "query_latest",
    "query_before_sparse",
    "api_before",
    "api_after",
)


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def setup_django(database_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatsite.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": BENCH_SECRET_KEY,
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "LOG_LEVEL": "WARNING",
            "CHATSITE_VAR_DIR": str(ROOT / "var" / "bench" / "var"),
        }
    )
    os.environ.pop("REDIS_URL", None)  # the cache and layer are not what is measured
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        check=True,
        cwd=ROOT,
    )
    import django

    django.setup()


def fill(target: int) -> tuple[object, object]:
    """The room and its author, with `target` messages in the room (made once)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from rooms.models import Message, Room, RoomKind

    user, _ = get_user_model().objects.get_or_create(
        username=AUTHOR,
        defaults={"email": f"{AUTHOR}@bench.invalid", "date_of_birth": "1990-01-01"},
    )
    user.age_verified_at = user.age_verified_at or timezone.now()
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": True}
    )
    room, _ = Room.objects.get_or_create(
        slug=ROOM_SLUG, defaults={"kind": RoomKind.PUBLIC, "name": "Histoire (bench)"}
    )
    others = [
        Room.objects.get_or_create(
            slug=f"history-other-{n}", defaults={"kind": RoomKind.PUBLIC, "name": f"Autre {n}"}
        )[0]
        for n in range(10)
    ]
    have = Message.objects.filter(room=room).count()
    chunk = 200_000
    while have < target:
        count = min(chunk, target - have)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            # The target room's rows interleave with the other rooms' (one in two),
            # as in a busy site, so the room's ids are not one contiguous block.
            cursor.execute(
                """
                INSERT INTO rooms_message (room_id, author_id, body, created, client_id,
                                           deleted_at, deleted_by_id, deletion_reason, mentions)
                SELECT CASE WHEN g %% 2 = 0 THEN %(room)s ELSE (%(others)s)[1 + g %% 10] END,
                       %(author)s,
                       'message ' || g || ' ' || md5(g::text),
                       now() - make_interval(secs => (%(total)s - g)),
                       NULL,
                       CASE WHEN g %% 97 = 0 THEN now() ELSE NULL END,
                       NULL,
                       '',
                       '[]'::jsonb
                FROM generate_series(%(start)s, %(stop)s) AS g
                """,
                {
                    "room": room.pk,
                    "others": [other.pk for other in others],
                    "author": user.pk,
                    "total": 2 * target,
                    "start": 2 * have,
                    "stop": 2 * (have + count) - 1,
                },
            )
        have = Message.objects.filter(room=room).count()
        print(
            f"history: {have:,} messages in {ROOM_SLUG} "
            f"({count * 2:,} rows in {time.perf_counter() - started:.1f} s)",
            flush=True,
        )
    # A quiet room too: one message in a thousand of the others (one in ten for a
    # small run), spread over the whole table, where a page must skip far more
    # foreign rows than it keeps.
    sparse, _ = Room.objects.get_or_create(
        slug=SPARSE_SLUG, defaults={"kind": RoomKind.PUBLIC, "name": "Calme (bench)"}
    )
    if not Message.objects.filter(room=sparse).exists():
        step = 1000 if target >= 100_000 else 10  # a small run still gets a few pages
        with connection.cursor() as cursor:
            # Every step-th row of the other rooms by position, not by `id % step`:
            # after other runs on the same database (make bench) the other rooms'
            # ids may all be odd, and no id would ever be a multiple of 1000.
            cursor.execute(
                """
                UPDATE rooms_message SET room_id = %s
                WHERE id IN (
                    SELECT id FROM (
                        SELECT id, row_number() OVER (ORDER BY id) AS position
                        FROM rooms_message WHERE room_id = ANY(%s)
                    ) AS numbered
                    WHERE position %% %s = 0
                )
                """,
                [sparse.pk, [other.pk for other in others], step],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rooms_message")
    return room, sparse, user


def explain(sql: str, params) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def measure(room, sparse, user, pages: int) -> dict:
    from django.test import Client

    from rooms import queries
    from rooms.models import Message

    def cursors_in(a_room) -> list[int]:
        ids = Message.objects.filter(room=a_room).order_by("id").values_list("id", flat=True)
        lowest, highest = ids.first(), ids.last()
        if lowest is None or lowest == highest:
            raise SystemExit(f"history: room {a_room.slug} has too few messages to page through")
        rng = random.Random(8)
        # Not within a page of the start: every page asked for is a full one.
        return [rng.randint(lowest + 1, highest) for _ in range(pages)]

    cursors = cursors_in(room)

    def timed(call) -> list[float]:
        call(cursors[0])  # warm the connection and the plan
        samples = []
        for cursor_id in cursors:
            started = time.perf_counter()
            page = call(cursor_id)
            samples.append((time.perf_counter() - started) * 1000)
            assert page, "an empty page: the room is not filled"
        return samples

    results = {
        "query_before": percentiles(
            timed(lambda c: queries.messages_page(room, before=c, limit=PAGE))
        ),
        "query_after": percentiles(
            timed(lambda c: queries.messages_page(room, after=c, limit=PAGE))
        ),
        "query_latest": percentiles(timed(lambda c: queries.messages_page(room, limit=PAGE))),
    }
    cursors = cursors_in(sparse)
    results["query_before_sparse"] = percentiles(
        timed(lambda c: queries.messages_page(sparse, before=c, limit=PAGE))
    )
    cursors = cursors_in(room)
    client = Client()
    client.force_login(user)
    url = f"/api/rooms/{ROOM_SLUG}/messages/"

    def api(params: str):
        def call(cursor_id):
            response = client.get(f"{url}?{params.format(cursor_id)}&limit={PAGE}")
            assert response.status_code == 200, response.content[:200]
            return response.json()["messages"]

        return call

    results["api_before"] = percentiles(timed(api("before={}")))
    results["api_after"] = percentiles(timed(api("after={}")))
    return results


def plans(room, sparse) -> dict:
    from rooms import queries
    from rooms.models import Message

    def middle_of(a_room) -> int:
        ids = Message.objects.filter(room=a_room).order_by("id").values_list("id", flat=True)
        return ids[ids.count() // 2]

    middle, sparse_middle = middle_of(room), middle_of(sparse)
    before = queries.visible_messages(room).filter(id__lt=middle).order_by("-id")[:PAGE]
    after = queries.visible_messages(room).filter(id__gt=middle).order_by("id")[:PAGE]
    quiet = queries.visible_messages(sparse).filter(id__lt=sparse_middle).order_by("-id")[:PAGE]
    out = {}
    for name, queryset in (("before", before), ("after", after), ("before_sparse", quiet)):
        sql, params = queryset.query.sql_with_params()
        out[name] = {"sql": sql % tuple(repr(p) for p in params), "plan": explain(sql, params)}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatsite_bench"
        ),
    )
    parser.add_argument("--out-dir", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args(argv)
    if args.messages < PAGE * 4 or args.pages < 10:
        parser.error("--messages must be at least 200 and --pages at least 10")
    problem = check_postgres(args.database_url)
    if problem:
        print(f"bench-history: {problem}", file=sys.stderr)
        return 2
    ensure_database(args.database_url)
    setup_django(args.database_url)
    room, sparse, user = fill(args.messages)

    from rooms.models import Message

    rows = Message.objects.count()
    results = measure(room, sparse, user, args.pages)
    query_plans = plans(room, sparse)
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages_in_room": Message.objects.filter(room=room).count(),
        "messages_in_table": rows,
        "messages_in_sparse_room": Message.objects.filter(room=sparse).count(),
        "page": PAGE,
        "pages": args.pages,
        "loadavg_1min": os.getloadavg()[0],
        **results,
        "plans": query_plans,
    }
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"history-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.jsonl"
    out.write_text(json.dumps(record) + "\n")

    print(
        f"\n{record['messages_in_room']:,} messages in the room, "
        f"{record['messages_in_sparse_room']:,} in the quiet one, {rows:,} in the table; "
        f"{args.pages} random pages of {PAGE}; load average {record['loadavg_1min']:.1f}\n"
    )
    print("| page | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for name in PAGE_KINDS:
        r = results[name]
        print(f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} |")
    for name, plan in query_plans.items():
        print(f"\nEXPLAIN (ANALYZE, BUFFERS), {name}:\n" + "\n".join(plan["plan"]))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
