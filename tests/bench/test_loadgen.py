"""The load generator counts exactly: every delivery, every loss, every duplicate.

Run at tiny sizes against the plain `websockets` baseline (in this process, or
as the subprocesses `make bench` starts). No timing is asserted: speed is
measured by `make bench`, never by a test.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.server import broadcast

from bench.baseline_websockets import BroadcastServer
from bench.loadgen import Config, percentile, process_cpu_seconds, run

ROOT = Path(__file__).resolve().parents[2]
USERS, ROOMS, MESSAGES = 4, 2, 3
SENT = USERS * MESSAGES
# Each room holds USERS / ROOMS sockets, each of which gets every message of its room.
DELIVERIES = SENT * (USERS // ROOMS)


async def run_against(server: BroadcastServer, mode: str, **options) -> dict:
    async with server.serve("127.0.0.1", 0) as listening:
        port = listening.sockets[0].getsockname()[1]
        config = Config(
            urls=[f"ws://127.0.0.1:{port}"],
            rooms=["alpha", "beta"],
            users=USERS,
            messages=MESSAGES,
            mode=mode,
            rate=20,
            server_pids=[os.getpid()],
            settle_quiet=0.05,
            **options,
        )
        return await run(config, max_seconds=60)


@pytest.mark.parametrize("mode", ["paced", "closed", "burst"])
async def test_counts_every_delivery_exactly(mode):
    result = await run_against(BroadcastServer(), mode)

    assert result["connected"] == USERS
    assert result["connect_failed"] == 0
    assert result["sent"] == SENT
    assert result["expected_deliveries"] == DELIVERIES
    assert result["delivered"] == DELIVERIES
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["misrouted"] == 0
    assert result["drained"] is True
    assert result["closed_loop_stalls"] == 0
    assert result["unexpected_closes"] == {}
    assert result["server_cpu_s"] >= 0
    assert result["latency_ms"]["p50"] is not None


class DroppingServer(BroadcastServer):
    """Leaves one socket out of every even-numbered message's fan-out."""

    def deliver(self, slug, text):
        members = list(self.rooms.get(slug, ()))
        if json.loads(text)["id"] % 2 == 0:
            members = members[1:]
        broadcast(members, text)


class DuplicatingServer(BroadcastServer):
    """Sends every odd-numbered message twice to its whole room."""

    def deliver(self, slug, text):
        super().deliver(slug, text)
        if json.loads(text)["id"] % 2 == 1:
            super().deliver(slug, text)


async def test_counts_lost_deliveries():
    result = await run_against(DroppingServer(), "burst", drain_timeout=1.0)

    even_ids = SENT // 2
    assert result["sent"] == SENT
    assert result["expected_deliveries"] == DELIVERIES
    assert result["lost"] == even_ids
    assert result["delivered"] == DELIVERIES - even_ids
    assert result["duplicated"] == 0
    assert result["drained"] is False


async def test_counts_duplicated_deliveries():
    result = await run_against(DuplicatingServer(), "burst")

    odd_ids = SENT - SENT // 2
    assert result["delivered"] == DELIVERIES
    assert result["lost"] == 0
    assert result["duplicated"] == odd_ids * (USERS // ROOMS)


def test_refuses_targets_other_than_localhost():
    for url in ("ws://example.org:80", "ws://10.0.0.1:8000", "wss://127.0.0.1:8000"):
        with pytest.raises(ValueError, match=r"only ws://127\.0\.0\.1"):
            Config(urls=[url], rooms=["a"], users=1, messages=1).validate()


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1) == 100
    assert percentile([], 0.5) is None


def test_reads_cpu_time_of_a_process():
    started = process_cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    assert process_cpu_seconds(os.getpid()) > started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_command_line_against_the_baseline_server_process():
    """The two scripts as `make bench` runs them, one JSON line on stdout."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "bench/baseline_websockets.py", "--port", str(port)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        done = subprocess.run(
            [
                sys.executable,
                "bench/loadgen.py",
                f"--url=ws://127.0.0.1:{port}",
                "--rooms=alpha,beta",
                f"--users={USERS}",
                f"--messages={MESSAGES}",
                "--mode=closed",
                f"--server-pid={server.pid}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["sent"] == SENT
    assert result["delivered"] == result["expected_deliveries"] == DELIVERIES
    assert result["lost"] == result["duplicated"] == 0
    assert result["server_cpu_us_per_delivery"] is not None
