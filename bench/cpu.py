"""CPU time of one post and of one room-socket open, in one process (issue 20).

    .venv/bin/python bench/cpu.py --users var/bench/users.json [--root /tmp/before] [--posts-only]

Run after `make bench` (which makes the bench database, its users and their
sessions, var/bench/users.json). CPU time, not wall time: on a machine shared
with other work it moves far less than the rates of `make bench`, so two
checkouts can be compared in the same hour (`--root`: the other checkout's
code, this interpreter).

- post: `do_post_message` in a public room (`account_checked`, as the socket
  calls it), the calling thread's CPU (`time.thread_time`) per post, with the
  process subscribed to the policy invalidations as a server is (when the
  checkout has rooms/policy_cache.py); and the statements of one post.
- socket_post: the same post as a room socket's post thread stores it
  (`rooms.consumers._post`: the group events collected for the socket to
  publish from its event loop, not sent from the thread), the calling
  thread's CPU per post. `post` above also pays for each event's hop through
  `async_to_sync` from the thread, which a socket's post no longer does
  (`publish` below measures what the loop pays instead).
- recheck: the socket's check of its session, account and room before a post
  (`_recheck_access` with what the previous check left, where the checkout has
  it: one statement when nothing changed; else `_check_access` in full), the
  calling thread's CPU per check, over 20 of the bench's sessions.
- publish: one group send from a post thread through `async_to_sync` against
  the same send awaited on the event loop (what a socket's post now does).
- open: `/ws/rooms/<slug>/` through the ASGI application with the real
  channel layer, handshake to the first frame (the presence that says the
  socket joined), the whole process's CPU (`time.process_time`, every thread,
  the in-process client included) per socket.
- close: the same sockets' closing, until the consumer's disconnect has run
  (presence row and interval written), the whole process's CPU per socket.

Settings come from the environment as for `make bench`'s servers: the script
sets the bench database, Redis db 15 and the bench secret key unless given.
"""

import argparse
import asyncio
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

BENCH_SECRET_KEY = "bench-only-secret-key-" + "x" * 40  # as bench/run.py


def _setup(root: Path) -> None:
    sys.path.insert(0, str(root))
    os.chdir(root)
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatsite_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("MESSAGE_RATE_LIMIT", "off")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()


def post_cpu(posts: int, rounds: int) -> dict:
    from channels.layers import get_channel_layer
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rooms import actions
    from rooms.models import Room

    try:
        from rooms import policy_cache
    except ImportError:  # a checkout from before issue 20
        policy_cache = None
    if policy_cache is not None:
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        listening = policy_cache.listen(get_channel_layer())
        asyncio.run_coroutine_threadsafe(listening, loop).result()
    room = Room.objects.get(slug="bench-1")
    users = list(get_user_model().objects.filter(username__startswith="bench_")[:10])

    def post(number: int) -> None:
        actions.do_post_message(
            room,
            f"cpu {number}",
            actor=users[number % len(users)],
            client_id=uuid.uuid4().hex,
            account_checked=True,
        )

    for number in range(30):
        post(number)  # connections, caches
    with CaptureQueriesContext(connection) as captured:
        post(0)
    socket_post = None
    try:
        from rooms.consumers import _post as socket_post
        from rooms.notify import collected  # noqa: F401 - the socket path of issue 20's second steps
    except ImportError:  # a checkout whose socket publishes from the post thread
        socket_post = None

    def post_as_socket(number: int) -> None:
        socket_post(room, users[number % len(users)], f"cpu {number}", uuid.uuid4().hex)

    per_post, per_socket_post = [], []
    for _ in range(rounds):
        # Alternated within each round, so that both see the same load.
        started = time.thread_time()
        for number in range(posts):
            post(number)
        per_post.append(round((time.thread_time() - started) / posts * 1e3, 3))
        if socket_post is not None:
            started = time.thread_time()
            for number in range(posts):
                post_as_socket(number)
            per_socket_post.append(round((time.thread_time() - started) / posts * 1e3, 3))
    return {
        "statements_per_post": [query["sql"][:60] for query in captured],
        "cpu_ms_per_post": per_post,
        "cpu_ms_per_socket_post": per_socket_post,
    }


def presence_statements() -> dict:
    """The statements of a person's first socket opening and last one closing in
    a room (do_enter_room, do_leave_room), and of a second tab's."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rooms import actions
    from rooms.models import Room

    room = Room.objects.get(slug="bench-1")
    user = get_user_model().objects.filter(username__startswith="bench_").order_by("pk").last()
    counts = {}
    steps = [
        ("enter", actions.do_enter_room, "bench-cpu-1"),
        ("enter_second_tab", actions.do_enter_room, "bench-cpu-2"),
        ("leave_second_tab", actions.do_leave_room, "bench-cpu-2"),
        ("leave", actions.do_leave_room, "bench-cpu-1"),
    ]
    for name, action, channel in steps:
        with CaptureQueriesContext(connection) as captured:
            action(room, channel, actor=user)
        counts[name] = [query["sql"][:50] for query in captured]
    return {"statements_per_presence_step": counts}


def recheck_cpu(users_file: Path, checks: int, rounds: int) -> dict:
    """The socket's check of its session, account and room before a post
    (`_check_access` without the handshake's scope; `_recheck_access` where the
    checkout has it), the calling thread's CPU per check."""
    from rooms import consumers

    data = json.loads(users_file.read_text())
    name = data["cookie_name"] + "="
    from django.contrib.sessions.models import Session

    sockets = []
    for number, user in enumerate(data["users"][:20]):
        key = user["cookie"].split(name, 1)[1].split(";", 1)[0]
        user_id = Session.objects.get(session_key=key).get_decoded()["_auth_user_id"]
        slug = data["rooms"][number % len(data["rooms"])]
        sockets.append((int(user_id), slug, key))
    recheck = getattr(consumers, "_recheck_access", None)
    last = {}

    def check(number: int) -> None:
        user_id, slug, key = sockets[number % len(sockets)]
        if recheck is None:
            consumers._check_access(user_id, slug, key)
        else:
            slot = number % len(sockets)
            last[slot] = recheck(user_id, slug, key, last.get(slot))[3]

    for number in range(40):
        check(number)
    per_check = []
    for _ in range(rounds):
        started = time.thread_time()
        for number in range(checks):
            check(number)
        per_check.append(round((time.thread_time() - started) / checks * 1e3, 3))
    return {"cpu_ms_per_recheck": per_check, "recheck": "fingerprint" if recheck else "full"}


async def _open_cpu(users_file: Path, sockets: int, rounds: int) -> tuple[list[float], list[float]]:
    from channels.testing import WebsocketCommunicator

    from chatsite.asgi import application

    data = json.loads(users_file.read_text())

    async def open_one(number: int) -> WebsocketCommunicator:
        user = data["users"][number % len(data["users"])]
        slug = data["rooms"][number % len(data["rooms"])]
        headers = [
            (b"origin", b"http://127.0.0.1:8000"),
            (b"host", b"127.0.0.1"),
            (b"cookie", user["cookie"].encode()),
        ]
        communicator = WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)
        connected, _ = await communicator.connect(timeout=30)
        frame = await communicator.receive_json_from(timeout=30)
        if not connected or frame["type"] != "presence":
            raise SystemExit(f"socket {number} refused: {frame}")
        return communicator

    per_open, per_close = [], []
    for _ in range(rounds):
        started = time.process_time()
        opened = [await open_one(number) for number in range(sockets)]
        per_open.append(round((time.process_time() - started) / sockets * 1e3, 2))
        started = time.process_time()
        for communicator in opened:
            await communicator.disconnect()
        per_close.append(round((time.process_time() - started) / sockets * 1e3, 2))
        await asyncio.sleep(0.5)
    return per_open, per_close


async def _publish_cpu(events: int, rounds: int) -> dict:
    """What step 3 of issue 20 saves per event: a group send from a post thread
    through `async_to_sync` (the hop to the event loop and back, as an action's
    on-commit did) against the same send awaited on the loop (as the socket now
    does). The whole process's CPU, both sides of the hop included."""
    from asgiref.sync import async_to_sync, sync_to_async
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    event = {"type": "bench.cpu", "n": 0}

    def from_a_thread() -> None:
        for _ in range(events):
            async_to_sync(layer.group_send)("bench.cpu", event)

    hop, direct = [], []
    for _ in range(rounds):
        started = time.process_time()
        await sync_to_async(from_a_thread, thread_sensitive=False)()
        hop.append(round((time.process_time() - started) / events * 1e3, 3))
        started = time.process_time()
        for _ in range(events):
            await layer.group_send("bench.cpu", event)
        direct.append(round((time.process_time() - started) / events * 1e3, 3))
    return {"cpu_ms_per_publish_via_async_to_sync": hop, "cpu_ms_per_publish_on_loop": direct}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--users", required=True, help="var/bench/users.json of make bench")
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--sockets", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--posts-only",
        action="store_true",
        help="only the post measures and the publish (no recheck, presence, sockets)",
    )
    args = parser.parse_args()
    users_file = Path(args.users).resolve()
    _setup(Path(args.root).resolve())
    result = post_cpu(args.posts, args.rounds)
    if not args.posts_only:
        result.update(recheck_cpu(users_file, args.posts, args.rounds))
        result.update(presence_statements())
        opens, closes = asyncio.run(_open_cpu(users_file, args.sockets, args.rounds))
        result["cpu_ms_per_socket_open"] = opens
        result["cpu_ms_per_socket_close"] = closes
    result.update(asyncio.run(_publish_cpu(args.posts, args.rounds)))
    result["root"] = args.root
    result["loadavg_1min"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
