"""Many signed-in sockets opening into one room: the server's CPU per socket
opened and the bytes the room's sockets receive meanwhile (issue 20, presence).

    .venv/bin/python bench/open_room.py --users var/bench/users300.json --sockets 300 \
        [--root /tmp/before] [--concurrency 50]

`--users`: the JSON of `manage.py bench_users --count N --rooms 1` on the bench
database (bench/run.py makes it; docs/performance.md, "Issue 20, second steps").
One daphne process of `--root`'s code (this interpreter) on the bench database and
Redis db 15 as bench/run.py's, then `--sockets` sockets into the room, `--concurrency`
at a time; each reads everything it is sent until the room goes quiet. Every join
changes the online set, so with the whole list in every presence frame the bytes
grow with the square of the room; with deltas, linearly.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import process_cpu_seconds
from bench.run import (
    BIN,
    HOST,
    Settings,
    clear_stale_presence,
    flush_own_redis_db,
    free_port,
    real_app_env,
    wait_listening,
)


async def open_all(url: str, origin: str, cookies: list[str], concurrency: int, pid: int) -> dict:
    """Opens them all, waits for quiet; the server's CPU seconds until then ("cpu")."""
    cpu = process_cpu_seconds(pid)
    limit = asyncio.Semaphore(concurrency)
    received = {"bytes": 0, "frames": 0, "presence": 0, "presence.delta": 0}
    last_frame = [time.monotonic()]
    sockets = []

    async def read(ws) -> None:
        async for text in ws:
            received["bytes"] += len(text)
            received["frames"] += 1
            kind = json.loads(text).get("type")
            if kind in received:
                received[kind] += 1
            last_frame[0] = time.monotonic()

    async def open_one(cookie: str) -> None:
        async with limit:
            ws = await connect(
                url,
                origin=origin,
                additional_headers=[("Cookie", cookie)],
                compression=None,
                ping_interval=None,
                open_timeout=120,
                max_queue=None,
            )
        sockets.append((ws, asyncio.get_running_loop().create_task(read(ws))))

    await asyncio.gather(*(open_one(cookie) for cookie in cookies))
    # Quiet: nothing received for 2 s (the last joins' presence has arrived).
    while time.monotonic() - last_frame[0] < 2:
        await asyncio.sleep(0.2)
    received["cpu"] = process_cpu_seconds(pid) - cpu
    for ws, task in sockets:
        task.cancel()
        await ws.close()
    return received


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--users", required=True)
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatsite_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    args = parser.parse_args()
    data = json.loads(Path(args.users).read_text())
    cookies = [user["cookie"] for user in data["users"][: args.sockets]]
    if len(cookies) < args.sockets:
        raise SystemExit(f"{args.users} has {len(cookies)} users, not {args.sockets}")
    settings = Settings(
        users=len(cookies),
        rooms=1,
        scale=1,
        database_url=args.database_url,
        redis_url=args.redis_url,
        out_dir=Path(args.users).resolve().parent,
        room_slugs=data["rooms"][:1],
    )
    flush_own_redis_db(settings.redis_url)
    clear_stale_presence(settings)
    port = free_port()
    env = {**real_app_env(settings), "SITE_URL": f"http://{HOST}:{port}"}
    command = [str(BIN / "daphne"), "-v", "0", "-b", HOST, "-p", str(port)]
    server = subprocess.Popen(
        [*command, "chatsite.asgi:application"], env=env, cwd=args.root, stderr=subprocess.DEVNULL
    )
    try:
        wait_listening(port, server)
        load = os.getloadavg()[0]
        started = time.monotonic()
        url = f"ws://{HOST}:{port}/ws/rooms/{settings.room_slugs[0]}/"
        origin = f"http://{HOST}:{port}"
        received = asyncio.run(open_all(url, origin, cookies, args.concurrency, server.pid))
        seconds = time.monotonic() - started - 2  # the quiet wait
        cpu = received.pop("cpu")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    result = {
        "root": args.root,
        "sockets": len(cookies),
        "server_cpu_ms_per_socket": round(cpu / len(cookies) * 1e3, 2),
        "seconds_to_quiet": round(seconds, 1),
        "bytes_received": received.pop("bytes"),
        "frames": received,
        "loadavg_1min": load,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
