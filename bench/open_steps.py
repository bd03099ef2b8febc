"""CPU time of each step of a room socket's open, one step at a time (issue 20).

    .venv/bin/python bench/open_steps.py --users var/bench/users.json [--root /tmp/before]

The steps that run on a database thread (the handshake's session read, the
access check with the handshake's account and session, the connection record,
the online set, the member count, the restriction, the presence entry alone and
`_enter_room` as a whole) are timed with the calling thread's CPU
(`time.thread_time`); the socket limit's claim and release, which the socket
awaits, Channels' handshake middleware (AuthMiddlewareStack) and one bare hop
to the database thread, with the process's CPU. Each step runs for every socket of `--users`
(make bench's users.json; sessions, rooms), three rounds, median round kept.
Settings as bench/cpu.py (its `_setup`: the bench database, Redis db 15).
"""

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--users", required=True)
    parser.add_argument("--sockets", type=int, default=40)
    args = parser.parse_args()
    root = Path(args.root).resolve()
    users_file = Path(args.users).resolve()
    sys.path.insert(0, str(root / "bench"))
    import cpu  # this checkout's or --root's

    cpu._setup(root)
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import ConnectionKind
    from accounts.records import record_connection
    from rooms import actions, consumers, queries, socket_limit
    from rooms.models import Room

    data = json.loads(users_file.read_text())
    name = data["cookie_name"] + "="
    sockets = []
    for number, user in enumerate(data["users"][: args.sockets]):
        key = user["cookie"].split(name, 1)[1].split(";", 1)[0]
        user_id = int(SessionStore(key)["_auth_user_id"])
        sockets.append((user_id, data["rooms"][number % len(data["rooms"])], key))
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[s[0] for s in sockets])}
    rooms = {r.slug: r for r in Room.objects.filter(slug__in=data["rooms"])}

    def scope(number: int) -> dict:
        user_id, _slug, key = sockets[number]
        session = SessionStore(key)
        session.load()
        return {"user": users[user_id], "session": session, "client": ["127.0.0.1", 5000]}

    scopes = [scope(number) for number in range(len(sockets))]
    result = {}

    def median(values: list[float]) -> float:
        return round(sorted(values)[len(values) // 2], 3)

    def timed(label: str, step, undo=None) -> None:
        step(0)
        if undo:
            undo(0)
        rounds = []
        for _ in range(3):
            spent = 0.0
            for number in range(len(sockets)):
                started = time.thread_time()
                step(number)
                spent += time.thread_time() - started
                if undo:
                    undo(number)
            rounds.append(spent / len(sockets) * 1e3)
        result[label] = median(rounds)

    def user_room(number: int):
        user_id, slug, _key = sockets[number]
        return users[user_id], rooms[slug]

    def leave(number: int) -> None:
        user, room = user_room(number)
        actions.do_leave_room(room, f"bench-steps-{number}", actor=user)

    timed("session_read", lambda n: SessionStore(sockets[n][2]).load())
    timed("check_access", lambda n: consumers._check_access(*sockets[n], scopes[n]))
    timed(
        "connection_record",
        lambda n: record_connection(
            user_room(n)[0], ConnectionKind.WEBSOCKET, ip_address="127.0.0.1", port=5000
        ),
    )
    timed("online_usernames", lambda n: queries.online_usernames(user_room(n)[1]))
    timed("member_count", lambda n: queries.member_count(user_room(n)[1]))
    timed("restriction", lambda n: consumers._restriction(*user_room(n)))
    timed(
        "presence_entry (first socket)",
        lambda n: actions.do_enter_room(user_room(n)[1], f"bench-steps-{n}", actor=user_room(n)[0]),
        leave,
    )
    timed(
        "enter_room (record, entry, restriction)",
        lambda n: consumers._enter_room(
            user_room(n)[1], user_room(n)[0], f"bench-steps-{n}", scopes[n]
        ),
        leave,
    )
    timed(
        "presence_leave (last socket)",
        lambda n: leave(n),
        lambda n: actions.do_enter_room(user_room(n)[1], f"bench-steps-{n}", actor=user_room(n)[0]),
    )

    async def socket_limit_cpu() -> float:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        channels = [await layer.new_channel("specific.") for _ in sockets]
        rounds = []
        for _ in range(4):
            started = time.process_time()
            for number, (user_id, _slug, _key) in enumerate(sockets):
                await socket_limit.claim(user_id, channels[number])
                await socket_limit.release(channels[number])
            rounds.append((time.process_time() - started) / len(sockets) * 1e3)
        return median(rounds[1:])

    result["socket_limit claim+release (process CPU)"] = asyncio.run(socket_limit_cpu())

    async def handshake_auth_cpu() -> dict:
        # Channels' AuthMiddlewareStack alone (cookies, session, account: what
        # chatsite/asgi.py runs before the consumer), and one bare hop to the
        # database thread, for what a merged read would save.
        from channels.auth import AuthMiddlewareStack
        from channels.db import database_sync_to_async

        async def inner(scope, receive, send):
            assert scope["user"].pk  # resolved, signed in

        stack = AuthMiddlewareStack(inner)
        cookie = f"{data['cookie_name']}=".encode()
        scopes = [
            {"type": "websocket", "headers": [(b"cookie", cookie + key.encode())]}
            for _user_id, _slug, key in sockets
        ]
        hop = database_sync_to_async(lambda: None)
        middleware, hops = [], []
        for _ in range(4):
            started = time.process_time()
            for one in scopes:
                await stack(dict(one), None, None)
            middleware.append((time.process_time() - started) / len(scopes) * 1e3)
            started = time.process_time()
            for _one in scopes:
                await hop()
            hops.append((time.process_time() - started) / len(scopes) * 1e3)
        return {
            "handshake auth middleware (process CPU)": median(middleware[1:]),
            "one database_sync_to_async hop (process CPU)": median(hops[1:]),
        }

    result.update(asyncio.run(handshake_auth_cpu()))
    for number in range(len(sockets)):
        leave(number)
    result["root"] = str(root)
    result["loadavg_1min"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
