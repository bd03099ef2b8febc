"""`make ux-budget`: a Lighthouse-style budget of Chatsite's main pages (docs/ux.md).

    .venv/bin/python bench/ux_budget.py               # every page, 3 runs each
    .venv/bin/python bench/ux_budget.py --runs 5 --pages room,home

What it does: a scratch SQLite database in a temporary folder (migrated, then filled
by tests/browser/site_pages.py: two members chatting in a room, a direct
conversation, a report in the queue), one daphne process serving it with DEBUG on
(Django serves the static files, uncompressed: the weights are an upper bound of
what a gzip-ing proxy sends), and headless Chromium at 360 x 780 with a cold cache
for every run. For each page it reports:

- weight: bytes of HTML, CSS, script and the rest (Resource Timing's encoded body
  sizes) and the number of requests (the document and its subresources; the
  WebSocket is not a request);
- timings, median of the runs: DOMContentLoaded, load, first contentful paint, and a
  time-to-interactive estimate after Lighthouse's definition (the end of the last
  long task, at least FCP and DOMContentLoaded, when no long task follows);
- for the room page, "chat ready": the moment the composer accepts a message and the
  history is on screen (the socket connected, the messages rendered).

Two profiles: `fast` (no throttling: loopback, this machine's CPU) and `mobile`
(Lighthouse's mobile emulation: 4x slower CPU, 150 ms round trips, 1.6 Mbit/s
down, 750 kbit/s up). Timings depend on the machine and its load; the weights do
not. Results go to stdout as a Markdown table and to var/ux-budget/ as JSON.
Never run in the test suite: only the byte budget is asserted there
(tests/browser/test_design.py).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, start_daphne  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
VIEWPORT = {"width": 360, "height": 780}
BUDGET_CSS_AND_SCRIPT = 100 * 1024

# (name, visitor, path)
PAGES = [
    ("home", "anonymous", "/"),
    ("signup", "anonymous", "/accounts/signup/"),
    ("login", "anonymous", "/accounts/login/"),
    ("rooms", "member", "/rooms/"),
    ("room", "member", "/rooms/general/"),
    ("dm", "member", "/dm/dominique/"),
    ("conversations", "member", "/conversations/"),
    ("decisions", "member", "/decisions/"),
    ("moderation-queue", "staff", "/admin/moderation/report/"),
]

PROFILES = {
    "fast": None,
    # Lighthouse's "Slow 4G" mobile preset (simulated there, applied here).
    "mobile": {"cpu": 4, "latency": 150, "download": 1.6e6 / 8, "upload": 750e3 / 8},
}

# Long tasks and paints are observed from the first byte of every document.
OBSERVER_JS = """
window.__ux = {longTasks: []};
try {
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      window.__ux.longTasks.push([entry.startTime, entry.startTime + entry.duration]);
    }
  }).observe({type: "longtask", buffered: true});
} catch (error) {}
"""

MEASURE_JS = """() => {
  const navigation = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const resources = performance.getEntriesByType("resource");
  const kind = entry => {
    const path = new URL(entry.name).pathname;
    if (/\\.css$/.test(path)) return "css";
    if (/\\.js$/.test(path)) return "script";
    return "other";
  };
  const bytes = {html: navigation.encodedBodySize, css: 0, script: 0, other: 0};
  for (const entry of resources) bytes[kind(entry)] += entry.encodedBodySize;
  const fcp = paint ? paint.startTime : navigation.domContentLoadedEventEnd;
  const lastLongTask = Math.max(0, ...window.__ux.longTasks.map(task => task[1]));
  return {
    bytes,
    requests: 1 + resources.length,
    domContentLoaded: navigation.domContentLoadedEventEnd,
    load: navigation.loadEventEnd,
    firstContentfulPaint: fcp,
    timeToInteractive: Math.max(fcp, navigation.domContentLoadedEventEnd, lastLongTask),
    longTasks: window.__ux.longTasks.length,
  };
}"""


def prepare_site(env: dict[str, str]) -> dict:
    """Migrates the scratch database and fills it; returns the sessions (JSON)."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = (
        "import django, json, dataclasses; django.setup();"
        "from tests.browser.site_pages import populate_site;"
        "print(json.dumps(dataclasses.asdict(populate_site())))"
    )
    output = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(
    browser, origin: str, path: str, session: str | None, profile: dict | None, page_name: str
):
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    if session:
        # Django's default SESSION_COOKIE_NAME (the settings do not change it); set on
        # the origin, so that the room's WebSocket (/ws/...) carries it too.
        context.add_cookies([{"name": "sessionid", "value": session, "url": origin}])
    context.add_init_script(OBSERVER_JS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if profile:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile["cpu"]})
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": profile["latency"],
                "downloadThroughput": profile["download"],
                "uploadThroughput": profile["upload"],
            },
        )
    page.goto(origin + path, wait_until="load", timeout=60_000)
    result = {}
    if page_name in {"room", "dm"}:
        # Chat ready: the history on screen and the composer enabled (socket open).
        page.locator("#messages li").first.wait_for(timeout=60_000)
        page.wait_for_function("!document.querySelector('#composer-body').disabled", timeout=60_000)
        result["chatReady"] = page.evaluate("performance.now()")
    page.wait_for_timeout(500)  # a quiet window after load, for late long tasks
    result.update(page.evaluate(MEASURE_JS))
    context.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", default=",".join(name for name, _, _ in PAGES))
    parser.add_argument("--profiles", default="fast,mobile")
    args = parser.parse_args()
    chosen = set(args.pages.split(","))
    profiles = args.profiles.split(",")

    with tempfile.TemporaryDirectory(prefix="ux-budget-") as folder:
        folder = Path(folder)
        port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"REDIS_URL", "EMAIL_URL", "DATABASE_URL"}
        }
        env.update(
            DEBUG="1",
            DATABASE_URL=f"sqlite:///{folder / 'ux.sqlite3'}",
            SITE_URL=f"http://127.0.0.1:{port}",
            ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
            CHATSITE_VAR_DIR=str(folder / "var"),
            EMAIL_FILE_PATH=str(folder / "mail"),
            DJANGO_SETTINGS_MODULE="chatsite.settings",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
        )
        site = prepare_site(env)
        sessions = {
            "anonymous": None,
            "member": site["member_session"],
            "staff": site["staff_session"],
        }
        server = start_daphne(env, folder / "daphne.log", port=port)
        from playwright.sync_api import sync_playwright

        rows = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                for name, visitor, path in PAGES:
                    if name not in chosen:
                        continue
                    for profile in profiles:
                        runs = [
                            measure(
                                browser,
                                server.url,
                                path,
                                sessions[visitor],
                                PROFILES[profile],
                                name,
                            )
                            for _ in range(args.runs)
                        ]
                        rows.append(summarise(name, path, profile, runs))
                browser.close()
        finally:
            server.stop()

    print_table(rows)
    out = ROOT / "var" / "ux-budget"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"results-{stamp}.json").write_text(json.dumps(rows, indent=2))
    print(f"\nResults: var/ux-budget/results-{stamp}.json")
    over = [row for row in rows if row["css_and_script"] > BUDGET_CSS_AND_SCRIPT]
    for row in over:
        print(f"over budget: {row['page']} ships {row['css_and_script']} bytes of CSS and script")
    return 0


def summarise(name: str, path: str, profile: str, runs: list[dict]) -> dict:
    def median(key):
        values = [run[key] for run in runs if key in run]
        return round(statistics.median(values)) if values else None

    first = runs[0]
    return {
        "page": name,
        "path": path,
        "profile": profile,
        "runs": len(runs),
        "html": first["bytes"]["html"],
        "css": first["bytes"]["css"],
        "script": first["bytes"]["script"],
        "other": first["bytes"]["other"],
        "css_and_script": first["bytes"]["css"] + first["bytes"]["script"],
        "requests": first["requests"],
        "dom_content_loaded_ms": median("domContentLoaded"),
        "load_ms": median("load"),
        "fcp_ms": median("firstContentfulPaint"),
        "tti_ms": median("timeToInteractive"),
        "chat_ready_ms": median("chatReady"),
        "long_tasks": max(run["longTasks"] for run in runs),
    }


def print_table(rows: list[dict]) -> None:
    def kb(value):
        return f"{value / 1024:.1f}"

    print(
        "| page | profile | HTML KB | CSS KB | JS KB | other KB | requests "
        "| DCL ms | load ms | FCP ms | TTI ms | chat ready ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        chat_ready = row["chat_ready_ms"] if row["chat_ready_ms"] is not None else "—"
        print(
            f"| {row['page']} | {row['profile']} | {kb(row['html'])} | {kb(row['css'])} "
            f"| {kb(row['script'])} | {kb(row['other'])} | {row['requests']} "
            f"| {row['dom_content_loaded_ms']} | {row['load_ms']} | {row['fcp_ms']} "
            f"| {row['tti_ms']} | {chat_ready} |"
        )


if __name__ == "__main__":
    sys.exit(main())
