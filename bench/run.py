"""`make bench`: the scenarios of issue 8 against the real app and the baselines.

    .venv/bin/python bench/run.py                      # everything, default sizes
    BENCH_SCALE=0.3 .venv/bin/python bench/run.py      # shorter windows, smaller burst
    .venv/bin/python bench/run.py --targets websockets,channels-pubsub --scenarios burst

Targets (one fresh server per scenario, so that one scenario's backlog never
weighs on the next):
- `real`: chatsite under daphne, PostgreSQL (database chatsite_bench) and the
  Redis pub/sub layer of chatsite/services.py (Redis db 15 by default, away from the tests);
- `real-2proc`: two such daphne processes sharing PostgreSQL and Redis, the
  users split between them;
- `real-uvicorn`: the same app, settings and services as `real`, served by uvicorn
  (uvloop, httptools) as `make run SERVER=uvicorn` serves it (scripts/serve);
- `channels-memory`, `channels-redis`, `channels-pubsub`: the tutorial chat
  (bench/baseline_channels) on each layer, channels-redis defaults;
- `websockets`: the plain broadcast server (bench/baseline_websockets.py).

Scenarios (200 users in 10 rooms unless --users/--rooms say otherwise):
- `paced`: 1 message per second per user for 10 s x BENCH_SCALE (4k deliveries/s);
- `closed`: closed loop, flat out, for 8 s x BENCH_SCALE;
- `burst`: 2,000 x BENCH_SCALE messages sent at once.
Every scenario reports the server's CPU per delivery. Results: one JSON line per
run in var/bench/results-<time>.jsonl, and the table on stdout.
"""

import argparse
import contextlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
TARGETS = (
    "real",
    "real-2proc",
    "real-uvicorn",
    "channels-memory",
    "channels-redis",
    "channels-pubsub",
    "websockets",
)
SCENARIOS = ("paced", "closed", "burst")
BASELINE_LAYERS = {
    "channels-memory": "memory",
    "channels-redis": "redis",
    "channels-pubsub": "pubsub",
}
# Not for production, and only ever in this benchmark's own server processes.
BENCH_SECRET_KEY = "bench-only-secret-key-" + "x" * 40


@dataclass
class Settings:
    users: int
    rooms: int
    scale: float
    database_url: str
    redis_url: str
    out_dir: Path
    paced_seconds: float = 10.0
    closed_seconds: float = 8.0
    burst_messages: int = 2000
    rate: float = 1.0
    room_slugs: list[str] = field(default_factory=list)
    cookies_file: Path | None = None
    fresh_database: bool = False


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- services ------------------------------------------------------------------------
def check_postgres(url: str) -> str | None:
    import psycopg

    parts = urlsplit(url)
    admin = url.replace(parts.path, "/postgres", 1) if parts.path else url
    try:
        psycopg.connect(admin, connect_timeout=3).close()
    except psycopg.Error as error:
        return f"PostgreSQL does not answer at {admin}: {error}"
    return None


def check_redis(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        return f"Redis does not answer at {url}: {error}"
    return None


def flush_own_redis_db(url: str) -> None:
    """Empties the benchmark's own Redis database (never db 0, never the server)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    if int(db) == 0:
        raise SystemExit("bench: refusing to flush Redis db 0; give REDIS_URL a db of its own")
    client.flushdb()
    client.close()


def ensure_database(url: str, *, fresh: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(url.replace(parts.path, "/postgres", 1), autocommit=True) as conn:
        if fresh:
            if "bench" not in name:
                raise SystemExit(f"bench: refusing to drop {name!r}: not a bench database")
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def real_app_env(settings: Settings, port: int | None = None) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        # Redis pub/sub channels ignore the database number: two benches on one
        # Redis (two checkouts) need their own prefix, or they hear each other.
        "REDIS_PREFIX": os.environ.get("BENCH_REDIS_PREFIX", "bench"),
        "MESSAGE_RATE_LIMIT": "off",
        "ACCOUNT_RATE_LIMITS": "off",
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "ALLOWED_HOSTS": HOST,
        "CHATSITE_VAR_DIR": str(settings.out_dir / "var"),
        "LOG_LEVEL": "WARNING",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    if port is not None:
        env["SITE_URL"] = f"http://{HOST}:{port}"
    return env


def prepare_real_app(settings: Settings) -> None:
    """Database, migrations, users and rooms: once per `make bench`."""
    ensure_database(settings.database_url, fresh=settings.fresh_database)
    env = real_app_env(settings)
    manage = [sys.executable, str(ROOT / "manage.py")]
    log("bench: migrating chatsite_bench...")
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)
    cookies = settings.out_dir / "users.json"
    subprocess.run(
        [
            *manage,
            "bench_users",
            "--count",
            str(settings.users),
            "--rooms",
            str(settings.rooms),
            "--out",
            str(cookies),
            "--yes-this-is-a-bench-database",
        ],
        env=env,
        cwd=ROOT,
        check=True,
    )
    settings.cookies_file = cookies
    settings.room_slugs = json.loads(cookies.read_text())["rooms"]


def clear_stale_presence(settings: Settings) -> None:
    """A server stopped mid-run may leave presence rows behind; they are not ours to keep."""
    import psycopg

    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(
            "DELETE FROM rooms_roompresence WHERE room_id IN "
            "(SELECT id FROM rooms_room WHERE slug = ANY(%s))",
            [settings.room_slugs],
        )


# --- servers -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"server not listening on {port} after {timeout} s")


class Server:
    """One server process of ours, stopped by its own pid."""

    def __init__(self, command: list[str], env: dict, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.log_file = log_path.open("w")
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        try:
            wait_listening(port, self.process)
        except RuntimeError:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log_file.close()


def daphne(application: str, env: dict, log_path: Path) -> Server:
    port = free_port()
    # -v 0: no access log; it would cost the server a line per connection.
    command = [str(BIN / "daphne"), "-v", "0", "-b", HOST, "-p", str(port), application]
    return Server(command, {**env, "SITE_URL": f"http://{HOST}:{port}"}, port, log_path)


def uvicorn(env: dict, log_path: Path) -> Server:
    port = free_port()
    # The command line of `make run SERVER=uvicorn`, without its access log and its
    # line per socket (as daphne -v 0).
    command = [str(ROOT / "scripts" / "serve"), "uvicorn", HOST, str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    env = {**env, "SITE_URL": f"http://{HOST}:{port}", "CHATSITE_PYTHON": sys.executable}
    return Server(command, env, port, log_path)


def start_servers(target: str, settings: Settings, log_path: Path) -> list[Server]:
    if target == "real-uvicorn":
        flush_own_redis_db(settings.redis_url)
        clear_stale_presence(settings)
        return [uvicorn(real_app_env(settings), log_path)]
    if target in ("real", "real-2proc"):
        flush_own_redis_db(settings.redis_url)
        clear_stale_presence(settings)
        count = 2 if target == "real-2proc" else 1
        servers = []
        for index in range(count):
            path = log_path.with_suffix(f".{index}.log") if count > 1 else log_path
            servers.append(daphne("chatsite.asgi:application", real_app_env(settings), path))
        return servers
    if target in BASELINE_LAYERS:
        flush_own_redis_db(settings.redis_url)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.baseline_channels.settings",
            "BENCH_LAYER": BASELINE_LAYERS[target],
            "BENCH_REDIS_URL": settings.redis_url,
        }
        return [daphne("bench.baseline_channels.asgi:application", env, log_path)]
    port = free_port()
    command = [sys.executable, str(ROOT / "bench" / "baseline_websockets.py"), "--port", str(port)]
    return [Server(command, dict(os.environ), port, log_path)]


# --- scenarios -----------------------------------------------------------------------
def loadgen_args(scenario: str, settings: Settings) -> list[str]:
    if scenario == "paced":
        seconds = settings.paced_seconds * settings.scale
        messages = math.ceil(seconds * settings.rate)
        return [
            "--mode=paced",
            f"--rate={settings.rate}",
            f"--messages={messages}",
            f"--duration={seconds}",
            "--drain-timeout=10",
        ]
    if scenario == "closed":
        seconds = settings.closed_seconds * settings.scale
        # A closed loop must wait for its echo however slow the server is, or it
        # turns into an open loop that overloads it: long timeouts on purpose.
        return [
            "--mode=closed",
            "--messages=1000000",
            f"--duration={seconds}",
            "--closed-loop-timeout=30",
            "--drain-timeout=30",
        ]
    per_user = max(1, round(settings.burst_messages * settings.scale / settings.users))
    return ["--mode=burst", f"--messages={per_user}", "--drain-timeout=30"]


def host_cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


# What the servers' logs say about loss, counted per run.
LOG_PATTERNS = {
    # RedisChannelLayer: "3 of 20 channels over capacity in group chat_x" (INFO).
    "layer_drops": re.compile(r"(\d+) of \d+ channels over capacity"),
    # redis-py's bounded pool and socket timeout (channels_redis #422), one per traceback.
    "redis_too_many_connections": re.compile(r"^redis\.exceptions\.MaxConnectionsError"),
    "redis_timeouts": re.compile(r"^redis\.exceptions\.TimeoutError"),
    "application_exceptions": re.compile(r"Exception inside application"),
}


def summarise_logs(paths: list[Path]) -> dict:
    counts = dict.fromkeys(LOG_PATTERNS, 0)
    for path in paths:
        with path.open(errors="replace") as lines:
            for line in lines:
                for name, pattern in LOG_PATTERNS.items():
                    match = pattern.search(line)
                    if match:
                        counts[name] += int(match.group(1)) if match.groups() else 1
    return {name: count for name, count in counts.items() if count}


def run_scenario(target: str, scenario: str, settings: Settings) -> dict:
    logs = settings.out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{target}-{scenario}.log"
    servers = start_servers(target, settings, log_path)
    try:
        real = target.startswith("real")
        command = [
            sys.executable,
            str(ROOT / "bench" / "loadgen.py"),
            f"--users={settings.users}",
            f"--rooms={','.join(settings.room_slugs)}",
            f"--label={target}/{scenario}",
            # Connection storms are not what is measured here: let them pass.
            "--connect-concurrency=10",
            "--settle-max=15",
            *loadgen_args(scenario, settings),
        ]
        for server in servers:
            command += [f"--url={server.url}", f"--server-pid={server.process.pid}"]
        if real and settings.cookies_file:
            command.append(f"--cookies={settings.cookies_file}")
        busy_before, total_before = host_cpu_busy()
        load_before = os.getloadavg()[0]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ROOT)
        busy_after, total_after = host_cpu_busy()
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"loadgen failed ({done.returncode}): {done.stderr[-2000:]}")
        result = json.loads(lines[-1])
        alive = [server.process.poll() is None for server in servers]
    finally:
        for server in servers:
            server.stop()
    result.update(
        {
            "server_log": summarise_logs([server.log_path for server in servers]),
            "target": target,
            "scenario": scenario,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "servers_alive_after": all(alive),
            # Everyone's CPU over the run: the server, the load generator and
            # whatever else the machine was doing (2 cores shared, see the doc).
            "host_busy_pct": round(
                100 * (busy_after - busy_before) / max(1, total_after - total_before), 1
            ),
            "loadavg_1min_before": round(load_before, 2),
        }
    )
    return result


# --- the table -----------------------------------------------------------------------
def fmt_rate(value) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f}k/s" if value >= 1000 else f"{value:.0f}/s"


def fmt_ms(value) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def cell(result: dict | None, scenario: str) -> str:
    if result is None:
        return "-"
    if "error" in result:
        return "failed"
    lost = f"{result['lost_pct']:g}% lost" if result["lost"] else "0 lost"
    extra = ""
    if result["duplicated"]:
        extra += f", {result['duplicated']} dup"
    if result["unexpected_closes"]:
        extra += f", closed {result['unexpected_closes']}"
    if result.get("refused_at_connect"):
        extra += f", refused {result['refused_at_connect']}"
    if result.get("server_log", {}).get("layer_drops"):
        extra += f", layer dropped {result['server_log']['layer_drops']}"
    if result["connect_failed"]:
        extra += f", {result['connect_failed']} not connected"
    if not result["delivered"]:
        return f"nothing delivered ({result['lost']} owed){extra}"
    if scenario == "paced":
        return (
            f"{fmt_rate(result['deliveries_per_s'])}, {lost}, "
            f"p99 {fmt_ms(result['latency_ms']['p99'])}{extra}"
        )
    if scenario == "closed":
        return f"{fmt_rate(result['deliveries_per_s'])}, {lost}{extra}"
    return f"{lost}, p99 {fmt_ms(result['latency_ms']['p99'])}{extra}"


def cpu_cell(results: dict) -> str:
    """The range over the runs that lost nothing: in a lossy run the server also
    spent CPU on messages that arrived after the window, which inflates the ratio."""
    measured = [
        r
        for r in results.values()
        if r and r.get("server_cpu_us_per_delivery") is not None and r.get("delivered")
    ]
    clean = [r for r in measured if not r["lost"]]
    values = [r["server_cpu_us_per_delivery"] for r in clean or measured]
    if not values:
        return "-"
    low, high = min(values), max(values)
    text = f"{low:.0f} us" if round(low) == round(high) else f"{low:.0f}-{high:.0f} us"
    return text if clean else f"{text} (lossy runs)"


def table(all_results: dict[str, dict[str, dict]], scenarios: list[str]) -> str:
    headers = {
        "paced": "paced 1 msg/s/user",
        "closed": "closed-loop max",
        "burst": "burst",
    }
    rows = [["target", *(headers[s] for s in scenarios), "server CPU/delivery"]]
    for target, results in all_results.items():
        rows.append([target, *(cell(results.get(s), s) for s in scenarios), cpu_cell(results)])
    return markdown(rows)


def ratios(all_results: dict[str, dict[str, dict]]) -> list[str]:
    """The real app's closed-loop rate and CPU per delivery against each baseline."""
    lines = []
    for real in ("real", "real-2proc", "real-uvicorn"):
        mine = all_results.get(real, {}).get("closed")
        if not mine or "error" in mine or not mine["delivered"]:
            continue
        for base in ("channels-pubsub", "channels-memory", "websockets"):
            theirs = all_results.get(base, {}).get("closed")
            if not theirs or "error" in theirs or not theirs["deliveries_per_s"]:
                continue
            rate = mine["deliveries_per_s"] / theirs["deliveries_per_s"]
            text = f"{real} / {base}: closed-loop rate x{rate:.2f}"
            if mine["server_cpu_us_per_delivery"] and theirs["server_cpu_us_per_delivery"]:
                cpu = mine["server_cpu_us_per_delivery"] / theirs["server_cpu_us_per_delivery"]
                text += f", CPU per delivery x{cpu:.2f}"
            lines.append(text)
    one = all_results.get("real", {}).get("closed")
    two = all_results.get("real-2proc", {}).get("closed")
    if one and two and "error" not in one and "error" not in two and one["delivered"]:
        scaling = two["deliveries_per_s"] / one["deliveries_per_s"]
        lines.append(f"real-2proc / real: closed-loop rate x{scaling:.2f}")
    served = all_results.get("real-uvicorn", {}).get("closed")
    if one and served and "error" not in one and "error" not in served and one["delivered"]:
        rate = served["deliveries_per_s"] / one["deliveries_per_s"]
        text = f"real-uvicorn / real: closed-loop rate x{rate:.2f}"
        if one["server_cpu_us_per_delivery"] and served["server_cpu_us_per_delivery"]:
            cpu = served["server_cpu_us_per_delivery"] / one["server_cpu_us_per_delivery"]
            text += f", CPU per delivery x{cpu:.2f}"
        lines.append(text)
    return lines


def details(all_results: dict[str, dict[str, dict]]) -> str:
    """One row per run: the figures behind the summary table."""
    rows = [
        [
            "run",
            "sent",
            "delivered/owed",
            "lost",
            "dup",
            "sends/s",
            "deliveries/s",
            "latency p50/p95/p99 ms",
            "connect p50/p99 ms",
            "server us/delivery",
            "server ms/socket open",
            "client CPU s / window s",
            "host busy",
        ]
    ]
    for target, results in all_results.items():
        for scenario, r in results.items():
            if "error" in r:
                rows.append([f"{target}/{scenario}", "failed", *[""] * 11])
                continue
            lat, con = r["latency_ms"], r["connect_ms"]
            rows.append(
                [
                    f"{target}/{scenario}",
                    str(r["sent"]),
                    f"{r['delivered']}/{r['expected_deliveries']}",
                    str(r["lost"]),
                    str(r["duplicated"]),
                    f"{r['sends_per_s']:.0f}",
                    f"{r['deliveries_per_s']:.0f}",
                    f"{lat['p50']}/{lat['p95']}/{lat['p99']}",
                    f"{con['p50']}/{con['p99']}",
                    str(r["server_cpu_us_per_delivery"]),
                    str(r.get("server_cpu_ms_per_connect")),
                    f"{r['client_cpu_s']}/{r['window_s']}",
                    f"{r['host_busy_pct']}%",
                ]
            )
    return markdown(rows)


def markdown(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def print_report(all_results: dict[str, dict[str, dict]], scenarios: list[str]) -> None:
    print(table(all_results, scenarios))
    for line in ratios(all_results):
        print(line)
    print()
    print(details(all_results))


def report_from_file(path: Path) -> int:
    """Prints the tables of an earlier run from its results file."""
    all_results: dict[str, dict[str, dict]] = {}
    scenarios: list[str] = []
    for line in path.read_text().splitlines():
        result = json.loads(line)
        all_results.setdefault(result["target"], {})[result["scenario"]] = result
        if result["scenario"] not in scenarios:
            scenarios.append(result["scenario"])
    print_report(all_results, [s for s in SCENARIOS if s in scenarios])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Runs the benchmark of issue 8.")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("BENCH_SCALE", "1")),
        help="multiplies windows and the burst size (env BENCH_SCALE)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatsite_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    parser.add_argument("--out-dir", default=str(ROOT / "var" / "bench"))
    parser.add_argument(
        "--fresh-database",
        action="store_true",
        help="drop and recreate the bench database first (after migrations were rewritten)",
    )
    parser.add_argument(
        "--report", metavar="RESULTS.jsonl", help="only print an earlier run's tables"
    )
    args = parser.parse_args(argv)
    if args.report:
        return report_from_file(Path(args.report))
    targets = [t for t in args.targets.split(",") if t]
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = (set(targets) - set(TARGETS)) | (set(scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown target or scenario: {', '.join(sorted(unknown))}")
    if args.scale <= 0 or args.users < 1 or args.rooms < 1:
        parser.error("--scale, --users and --rooms must be positive")
    settings = Settings(
        users=args.users,
        rooms=args.rooms,
        scale=args.scale,
        database_url=args.database_url,
        redis_url=args.redis_url,
        out_dir=Path(args.out_dir),
        fresh_database=args.fresh_database,
    )
    settings.out_dir.mkdir(parents=True, exist_ok=True)

    needs_real = any(t.startswith("real") for t in targets)
    problems = []
    if needs_real:
        problems.append(check_postgres(settings.database_url))
    if needs_real or any(t in ("channels-redis", "channels-pubsub") for t in targets):
        problems.append(check_redis(settings.redis_url))
    problems = [p for p in problems if p]
    if problems:
        for problem in problems:
            log(f"bench: {problem}")
        log("bench: start the services (.ci/run does) or leave those targets out with --targets")
        return 1
    settings.room_slugs = [f"bench-{i}" for i in range(1, settings.rooms + 1)]
    setup_error = None
    if needs_real:
        try:
            prepare_real_app(settings)
        except subprocess.CalledProcessError as error:
            # The baselines can still be measured; the real app's rows say why not.
            setup_error = f"setting up the real app failed: {error}"
            log(f"bench: {setup_error}")

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results_path = settings.out_dir / f"results-{stamp}.jsonl"
    log(f"bench: {len(targets)} targets x {len(scenarios)} scenarios, results in {results_path}")
    all_results: dict[str, dict[str, dict]] = {}
    with results_path.open("a") as out:
        for target in targets:
            all_results[target] = {}
            for scenario in scenarios:
                log(f"bench: {target} / {scenario}...")
                try:
                    if setup_error and target.startswith("real"):
                        raise RuntimeError(setup_error)
                    result = run_scenario(target, scenario, settings)
                except (RuntimeError, subprocess.SubprocessError, json.JSONDecodeError) as error:
                    log(f"bench: {target} / {scenario} failed: {error}")
                    result = {"target": target, "scenario": scenario, "error": str(error)}
                all_results[target][scenario] = result
                out.write(json.dumps(result) + "\n")
                out.flush()
                if "error" not in result:
                    log(
                        "  "
                        + cell(result, scenario)
                        + f"; CPU {result['server_cpu_us_per_delivery']} us/delivery"
                    )

    cores = os.cpu_count()
    print(
        f"\n{args.users} users in {args.rooms} rooms, scale {args.scale:g}, {cores} cores, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print_report(all_results, scenarios)
    print(f"\nresults: {results_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
