"""Load generator for the rooms WebSocket protocol (docs/performance.md).

Connects N users to R rooms (user i joins room i mod R), then each user sends M
messages, paced (`--mode paced --rate 1`), flat out in a closed loop (the next
message leaves when the previous one came back: `--mode closed`) or all at once
(`--mode burst`). Every message carries a unique client_id and its send time in
its body; each receiving socket checks off what it should get (every message of
its room, its own included), so that a delivery that never arrives before the
drain timeout counts as lost and one that arrives twice as duplicated. Prints
one JSON line on stdout.

    python bench/loadgen.py --url ws://127.0.0.1:8000 --rooms a,b --users 20 \\
        --messages 10 --mode paced --rate 1 --server-pid 1234 --cookies users.json

Only 127.0.0.1 is a valid target: this is a benchmark, not a load-testing tool
for someone else's server. Every phase is bounded in time, the run stops by itself.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import secrets
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

MODES = ("paced", "closed", "burst")
ALLOWED_HOST = "127.0.0.1"


@dataclass
class Config:
    urls: list[str]  # ws://127.0.0.1:PORT of each server process; users are split between them
    rooms: list[str]  # room slugs
    users: int
    messages: int  # per user, an upper bound in every mode
    mode: str = "paced"
    rate: float = 1.0  # messages per second per user (paced)
    duration: float | None = None  # the sending window, seconds; None: until `messages`
    drain_timeout: float = 10.0  # after the last send, how long missing deliveries may take
    cookies: list[str] = field(default_factory=list)  # Cookie header per user (may be empty)
    origin: str | None = None  # default: http://<host:port> of each socket's server
    server_pids: list[int] = field(default_factory=list)
    connect_concurrency: int = 10
    connect_timeout: float = 10.0
    closed_loop_timeout: float = 5.0  # a closed-loop user gives up waiting for its echo
    settle_quiet: float = 0.5  # connections done: wait for this much silence (presence...)
    settle_max: float = 5.0
    label: str = ""

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if not self.urls or not self.rooms or self.users < 1 or self.messages < 0:
            raise ValueError("need at least one url, one room, one user")
        if self.mode == "paced" and self.rate <= 0:
            raise ValueError("paced mode needs a positive --rate")
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme != "ws" or parts.hostname != ALLOWED_HOST:
                raise ValueError(f"only ws://{ALLOWED_HOST} targets are allowed, not {url!r}")
        if self.cookies and len(self.cookies) < self.users:
            raise ValueError(f"{self.users} users but only {len(self.cookies)} cookies")


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    # The smallest value with at least `fraction` of the values at or below it.
    rank = math.ceil(fraction * len(sorted_values) - 1e-9)
    return sorted_values[max(0, min(len(sorted_values), rank) - 1)]


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces and parentheses: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Sent:
    room: int  # index into Config.rooms
    user: int
    sent_ns: int


class Socket:
    """One user's connection and what it has received."""

    def __init__(self, user: int, room: int, ws: ClientConnection) -> None:
        self.user = user
        self.room = room
        self.ws = ws
        self.seen: set[str] = set()
        # Closed loop: the client_id this user waits to see come back.
        self.echo: tuple[str, asyncio.Future] | None = None


class LoadRun:
    def __init__(self, config: Config) -> None:
        config.validate()
        self.config = config
        self.run_id = secrets.token_hex(4)
        self.prefix = f"{self.run_id}-"
        self.sockets: list[Socket] = []
        self.sockets_per_room: Counter[int] = Counter()
        self.sent: dict[str, Sent] = {}
        self.refused: set[str] = set()
        self.errors: Counter[str] = Counter()
        self.expected = 0  # deliveries owed so far (sent x sockets of the room)
        self.delivered = 0  # first receipts of owed deliveries
        self.duplicated = 0
        self.misrouted = 0  # a message of this run arriving in another room
        self.foreign = 0  # message.new frames not from this run (seed data, other clients)
        self.other_frames = 0  # presence and the like
        self.latencies_ns: list[int] = []
        self.connect_ms: list[float] = []
        self.connect_failures: Counter[str] = Counter()
        self.unexpected_closes: Counter[str] = Counter()
        self.refused_at_connect: Counter[str] = Counter()
        self.closed_loop_stalls = 0
        self.send_failures = 0
        self.last_frame_at = time.monotonic()
        self.last_delivery_ns = 0
        self.measuring = False
        self.all_sent = False
        self.done = asyncio.Event()

    # --- connections -----------------------------------------------------------
    def user_target(self, user: int) -> tuple[str, int]:
        rooms, urls = len(self.config.rooms), len(self.config.urls)
        room = user % rooms
        # (user // rooms) rather than user: each room gets users on every server.
        return self.config.urls[(user // rooms) % urls], room

    async def open_socket(self, user: int, limit: asyncio.Semaphore) -> None:
        base, room = self.user_target(user)
        url = f"{base.rstrip('/')}/ws/rooms/{self.config.rooms[room]}/"
        # As a browser would: the Origin of the page served by that same server.
        origin = self.config.origin or f"http://{urlsplit(base).netloc}"
        headers = [("Cookie", self.config.cookies[user])] if self.config.cookies else None
        async with limit:
            started = time.perf_counter()
            try:
                ws = await connect(
                    url,
                    origin=origin,
                    additional_headers=headers,
                    compression=None,
                    open_timeout=self.config.connect_timeout,
                    # The server's pings are answered regardless; ours would only add
                    # traffic and could time out while this process is saturated.
                    ping_interval=None,
                    max_queue=1024,
                    close_timeout=2,
                )
            except (OSError, TimeoutError, WebSocketException) as error:
                self.connect_failures[type(error).__name__] += 1
                return
            self.connect_ms.append((time.perf_counter() - started) * 1000)
        socket = Socket(user, room, ws)
        self.sockets.append(socket)
        self.sockets_per_room[room] += 1

    # --- receiving ---------------------------------------------------------------
    async def receive(self, socket: Socket) -> None:
        try:
            async for raw in socket.ws:
                self.on_frame(socket, raw)
        except ConnectionClosed:
            pass
        if not self.done.is_set():
            # Before the measured window, a close is a refusal (4401, 4403...).
            closes = self.unexpected_closes if self.measuring else self.refused_at_connect
            closes[str(socket.ws.close_code)] += 1
            # Its pending deliveries can never come: they stay counted as lost.
            self.sockets_per_room[socket.room] -= 1
            if socket.echo is not None and not socket.echo[1].done():
                socket.echo[1].set_result(False)

    def on_frame(self, socket: Socket, raw: str | bytes) -> None:
        now = time.monotonic_ns()
        self.last_frame_at = now / 1e9
        try:
            frame = json.loads(raw)
            kind = frame["type"]
        except (ValueError, TypeError, KeyError):
            self.errors["unparsable_frame"] += 1
            return
        if kind == "message.new":
            self.on_message(socket, frame, now)
        elif kind == "error":
            client_id = frame.get("client_id")
            self.errors[str(frame.get("code"))] += 1
            if isinstance(client_id, str) and client_id in self.sent:
                self.on_refused(client_id)
                self.release_echo(socket, client_id)
        else:
            self.other_frames += 1

    def on_message(self, socket: Socket, frame: dict, now: int) -> None:
        client_id = frame.get("client_id")
        sent = self.sent.get(client_id) if isinstance(client_id, str) else None
        if sent is None:
            if isinstance(client_id, str) and client_id.startswith(self.prefix):
                self.errors["unknown_client_id"] += 1
            else:
                self.foreign += 1
            return
        if sent.room != socket.room:
            self.misrouted += 1
            return
        if client_id in socket.seen:
            self.duplicated += 1
            return
        socket.seen.add(client_id)
        self.delivered += 1
        self.last_delivery_ns = now
        # The send time travels in the body ("... t=<monotonic ns>"): latency as delivered.
        body = frame.get("body", "")
        stamp = body.rpartition(" t=")[2] if isinstance(body, str) else ""
        self.latencies_ns.append(now - (int(stamp) if stamp.isdigit() else sent.sent_ns))
        self.release_echo(socket, client_id)
        self.check_done()

    def on_refused(self, client_id: str) -> None:
        if client_id not in self.refused:
            self.refused.add(client_id)
            # A refused message is never broadcast: nobody owes its deliveries.
            self.expected -= self.sockets_per_room[self.sent[client_id].room]
            self.check_done()

    def release_echo(self, socket: Socket, client_id: str) -> None:
        if socket.echo is not None and socket.echo[0] == client_id and not socket.echo[1].done():
            socket.echo[1].set_result(True)

    def check_done(self) -> None:
        if self.all_sent and self.delivered >= self.expected:
            self.done.set()

    # --- sending -------------------------------------------------------------------
    async def send(self, socket: Socket, seq: int) -> str | None:
        client_id = f"{self.run_id}-u{socket.user}-m{seq}"
        sent_ns = time.monotonic_ns()
        # Recorded before the await: the echo may be processed before send() returns.
        self.sent[client_id] = Sent(socket.room, socket.user, sent_ns)
        owed = self.sockets_per_room[socket.room]
        self.expected += owed
        frame = {
            "type": "message.send",
            "body": f"bench {socket.user}/{seq} t={sent_ns}",
            "client_id": client_id,
        }
        try:
            await socket.ws.send(json.dumps(frame))
        except ConnectionClosed:
            del self.sent[client_id]
            self.expected -= owed
            self.send_failures += 1
            return None
        return client_id

    async def user_paced(self, socket: Socket, start: float, deadline: float) -> None:
        interval = 1 / self.config.rate
        # Users start evenly spread over one interval, then keep an absolute schedule
        # (no drift); a late loop sends at once rather than skipping.
        offset = interval * (socket.user / self.config.users)
        for seq in range(self.config.messages):
            when = start + offset + seq * interval
            if when >= deadline:
                return
            delay = when - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if await self.send(socket, seq) is None:
                return

    async def user_closed_loop(self, socket: Socket, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        for seq in range(self.config.messages):
            if time.monotonic() >= deadline:
                return
            echo = loop.create_future()
            client_id = f"{self.run_id}-u{socket.user}-m{seq}"
            socket.echo = (client_id, echo)
            if await self.send(socket, seq) is None:
                return
            try:
                async with asyncio.timeout(self.config.closed_loop_timeout):
                    if not await echo:
                        return  # the socket closed
            except TimeoutError:
                self.closed_loop_stalls += 1
            finally:
                socket.echo = None

    async def user_burst(self, socket: Socket) -> None:
        for seq in range(self.config.messages):
            if await self.send(socket, seq) is None:
                return

    # --- the run -----------------------------------------------------------------------
    async def settle(self) -> None:
        """Lets connection-time traffic (presence, backfill) pass before measuring."""
        limit = time.monotonic() + self.config.settle_max
        while time.monotonic() < limit:
            quiet_for = time.monotonic() - self.last_frame_at
            if quiet_for >= self.config.settle_quiet:
                return
            await asyncio.sleep(self.config.settle_quiet - quiet_for)

    def server_cpu(self) -> float | None:
        if not self.config.server_pids:
            return None
        return sum(process_cpu_seconds(pid) for pid in self.config.server_pids)

    async def run(self) -> dict:
        config = self.config
        limit = asyncio.Semaphore(config.connect_concurrency)
        connect_started = time.monotonic()
        connect_cpu_before = self.server_cpu()
        await asyncio.gather(*(self.open_socket(user, limit) for user in range(config.users)))
        connect_seconds = time.monotonic() - connect_started

        self.sockets.sort(key=lambda s: s.user)
        receivers = [asyncio.create_task(self.receive(socket)) for socket in self.sockets]
        self.last_frame_at = time.monotonic()
        await self.settle()
        # The server's CPU to open every socket, with the presence traffic the
        # joins cause, up to the settled point (idle time costs next to nothing).
        connect_cpu = None if connect_cpu_before is None else self.server_cpu() - connect_cpu_before

        self.measuring = True
        cpu_before, own_before = self.server_cpu(), own_cpu_seconds()
        start = time.monotonic()
        start_ns = time.monotonic_ns()
        deadline = start + config.duration if config.duration else float("inf")
        if config.mode == "paced":
            senders = [self.user_paced(s, start, deadline) for s in self.sockets]
        elif config.mode == "closed":
            senders = [self.user_closed_loop(s, deadline) for s in self.sockets]
        else:
            senders = [self.user_burst(s) for s in self.sockets]
        await asyncio.gather(*senders)
        sent_done = time.monotonic()
        self.all_sent = True
        self.check_done()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(config.drain_timeout):
                await self.done.wait()
        cpu_after, own_after = self.server_cpu(), own_cpu_seconds()
        drained = self.done.is_set()
        self.done.set()  # from here on, closes are ours

        await asyncio.gather(*(s.ws.close() for s in self.sockets), return_exceptions=True)
        for task in receivers:
            task.cancel()
        await asyncio.gather(*receivers, return_exceptions=True)
        return self.report(
            start_ns=start_ns,
            send_seconds=sent_done - start,
            connect_seconds=connect_seconds,
            connect_cpu=connect_cpu,
            server_cpu=None if cpu_before is None else cpu_after - cpu_before,
            own_cpu=own_after - own_before,
            drained=drained,
        )

    def report(
        self,
        *,
        start_ns: int,
        send_seconds: float,
        connect_seconds: float,
        connect_cpu: float | None,
        server_cpu: float | None,
        own_cpu: float,
        drained: bool,
    ) -> dict:
        config = self.config
        sent = len(self.sent) - len(self.refused)
        # The measured window ends with the last delivery (or the last send if none came).
        window = max(send_seconds, (self.last_delivery_ns - start_ns) / 1e9, 1e-9)
        latencies = sorted(ns / 1e6 for ns in self.latencies_ns)
        connect = sorted(self.connect_ms)

        def ms(values: list[float], fraction: float) -> float | None:
            value = percentile(values, fraction)
            return None if value is None else round(value, 2)

        return {
            "label": config.label,
            "mode": config.mode,
            "users": config.users,
            "rooms": len(config.rooms),
            "servers": len(config.urls),
            "messages_per_user": config.messages,
            "rate_per_user": config.rate if config.mode == "paced" else None,
            "duration_s": config.duration,
            "connected": len(self.sockets),
            "connect_failed": sum(self.connect_failures.values()),
            "connect_failures": dict(self.connect_failures),
            "connect_s": round(connect_seconds, 3),
            "connect_ms": {
                "p50": ms(connect, 0.5),
                "p99": ms(connect, 0.99),
                "max": ms(connect, 1),
            },
            "server_cpu_ms_per_connect": round(1e3 * connect_cpu / len(self.sockets), 2)
            if connect_cpu is not None and self.sockets
            else None,
            "sent": sent,
            "refused": len(self.refused),
            "send_failures": self.send_failures,
            "expected_deliveries": self.expected,
            "delivered": self.delivered,
            "lost": self.expected - self.delivered,
            "lost_pct": round(100 * (self.expected - self.delivered) / self.expected, 2)
            if self.expected
            else 0.0,
            "duplicated": self.duplicated,
            "misrouted": self.misrouted,
            "drained": drained,
            "send_window_s": round(send_seconds, 3),
            "window_s": round(window, 3),
            "sends_per_s": round(sent / send_seconds, 1) if send_seconds > 0 else None,
            "offered_deliveries_per_s": round(self.expected / send_seconds, 1)
            if send_seconds > 0
            else None,
            "deliveries_per_s": round(self.delivered / window, 1),
            "latency_ms": {
                "p50": ms(latencies, 0.5),
                "p95": ms(latencies, 0.95),
                "p99": ms(latencies, 0.99),
                "max": ms(latencies, 1),
            },
            "server_cpu_s": None if server_cpu is None else round(server_cpu, 3),
            "server_cpu_us_per_delivery": round(1e6 * server_cpu / self.delivered, 1)
            if server_cpu is not None and self.delivered
            else None,
            "client_cpu_s": round(own_cpu, 3),
            "closed_loop_stalls": self.closed_loop_stalls,
            "errors": dict(self.errors),
            "refused_at_connect": dict(self.refused_at_connect),
            "unexpected_closes": dict(self.unexpected_closes),
            "foreign_messages": self.foreign,
            "other_frames": self.other_frames,
        }


async def run(config: Config, *, max_seconds: float | None = None) -> dict:
    """One bounded run; `max_seconds` defaults to every phase's budget plus a margin."""
    if max_seconds is None:
        sending = config.duration
        if sending is None:
            per_message = 1 / config.rate if config.mode == "paced" else config.closed_loop_timeout
            sending = config.messages * per_message + 1
        max_seconds = (
            config.connect_timeout * (1 + config.users / config.connect_concurrency)
            + config.settle_max
            + sending
            + config.drain_timeout
            + 30
        )
    async with asyncio.timeout(max_seconds):
        return await LoadRun(config).run()


def load_cookies(path: str) -> list[str]:
    """Cookie headers from `manage.py bench_users --out FILE` (or a plain JSON list)."""
    data = json.loads(Path(path).read_text())
    if isinstance(data, list):
        return [str(item) for item in data]
    return [user["cookie"] for user in data["users"]]


def parse_args(argv: list[str] | None = None) -> tuple[Config, float | None]:
    parser = argparse.ArgumentParser(
        description="WebSocket load generator for /ws/rooms/<slug>/ (one JSON line on stdout)."
    )
    parser.add_argument(
        "--url", action="append", required=True, help="ws://127.0.0.1:PORT, repeat per process"
    )
    parser.add_argument("--rooms", required=True, help="comma-separated room slugs")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--messages", type=int, required=True, help="per user (upper bound)")
    parser.add_argument("--mode", choices=MODES, default="paced")
    parser.add_argument("--rate", type=float, default=1.0, help="paced: messages/s per user")
    parser.add_argument("--duration", type=float, help="sending window in seconds")
    parser.add_argument("--drain-timeout", type=float, default=10.0)
    parser.add_argument("--cookies", help="JSON from `manage.py bench_users --out`")
    parser.add_argument("--origin", help="Origin header (default: http://<host:port> of each url)")
    parser.add_argument(
        "--server-pid", type=int, action="append", default=[], help="repeat per process"
    )
    parser.add_argument("--connect-concurrency", type=int, default=10)
    parser.add_argument(
        "--settle-max", type=float, default=5.0, help="max wait for quiet after connecting"
    )
    parser.add_argument("--closed-loop-timeout", type=float, default=5.0)
    parser.add_argument("--max-seconds", type=float, help="hard limit of the whole run")
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    config = Config(
        urls=args.url,
        rooms=[slug for slug in args.rooms.split(",") if slug],
        users=args.users,
        messages=args.messages,
        mode=args.mode,
        rate=args.rate,
        duration=args.duration,
        drain_timeout=args.drain_timeout,
        cookies=load_cookies(args.cookies) if args.cookies else [],
        origin=args.origin,
        server_pids=args.server_pid,
        connect_concurrency=args.connect_concurrency,
        closed_loop_timeout=args.closed_loop_timeout,
        settle_max=args.settle_max,
        label=args.label,
    )
    config.validate()
    return config, args.max_seconds


def main(argv: list[str] | None = None) -> int:
    try:
        config, max_seconds = parse_args(argv)
    except ValueError as error:
        print(f"loadgen: {error}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(run(config, max_seconds=max_seconds))
    except TimeoutError:
        print(json.dumps({"label": config.label, "error": "run exceeded its time limit"}))
        return 1
    result["config"] = {k: v for k, v in asdict(config).items() if k != "cookies"}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
