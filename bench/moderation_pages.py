"""The moderators' pages at coco's scale: `make bench-moderation`.

    .venv/bin/python bench/moderation_pages.py                   # 5,000 members, 14 days
    .venv/bin/python bench/moderation_pages.py --days 30 --samples 100

Builds, in a bench database of its own (chatsite_bench_moderation, rebuilt each
run), --members members and 200 reports an hour (--reports-per-hour) over --days
days, as a busy site has them: targets drawn with a long tail (a few accounts draw
most reports), reporters at random, the categories' usual mix; reports older than
a day decided (about a third with a sanction and its statement of reasons, the
rest dismissed), the last day's still open; safety signals, held messages and
moderators' notes on the accounts most reported. Then it serves the real app with
daphne (DEBUG=0), signs a moderator in through /admin/login/ with password and
TOTP code, states the reasons the pages ask, and times --samples GETs of each page
over HTTP: the queue (/admin/moderation/report/), the back office's landing page
(/admin/) and the case file of the most reported account. The query count of each
page is measured in-process (Django's test client on the same database and
settings, the same OTP-verified session state). Prints p50/p95 and the counts, and
appends one JSON line to var/bench/moderation-pages-<time>.jsonl.
"""

import argparse
import http.cookiejar
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    BENCH_SECRET_KEY,
    HOST,
    check_postgres,
    daphne,
    ensure_database,
)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/chatsite_bench_moderation"
MODERATOR = "bench_modo"
MODERATOR_PASSWORD = "bench-moderator-password-1234"  # noqa: S105 - a bench database's
REASON = "Banc d'essai : mesure des pages de modération."
# What members report, roughly as often as they do (spam and harassment first).
CATEGORY_WEIGHTS = {
    "spam": 30,
    "harassment": 25,
    "sexual_content": 12,
    "hate": 10,
    "scam": 8,
    "threat": 5,
    "other": 6,
    "illegal_other": 3,
    "child_safety": 1,
}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def app_env(database_url: str, out_dir: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="chatsite.settings",
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=BENCH_SECRET_KEY,
        ALLOWED_HOSTS=f"{HOST},testserver",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        ACCOUNT_RATE_LIMITS="off",
        LOG_LEVEL="WARNING",
        DJANGO_LOG_LEVEL="WARNING",
        CHATSITE_VAR_DIR=str(out_dir / "var"),
    )
    return env


def setup_django(env: dict) -> None:
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        check=True,
        cwd=ROOT,
        env=env,
    )
    # DEBUG=0 serves hashed static files: the admin's pages need their manifest.
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        check=True,
        cwd=ROOT,
        env=env,
    )
    import django

    django.setup()


# --- the data ----------------------------------------------------------------------------------


def build(members: int, days: float, per_hour: int, seed: int) -> dict:
    """The site's moderation history, made with bulk inserts (minutes, not hours)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.actions import do_create_staff_account
    from moderation.actions import do_add_moderator_note
    from moderation.models import (
        SEVERITY_DEADLINE,
        HeldMessage,
        HeldStatus,
        Measure,
        Report,
        ReportSource,
        ReportStatus,
        SafetySignal,
        SafetySignalKind,
        Sanction,
        SanctionKind,
        StatementOfReasons,
        severity_for,
    )
    from rooms.models import Room, RoomKind

    rng = random.Random(seed)
    User = get_user_model()
    now = timezone.now()
    started = time.perf_counter()
    password = make_password("bench-member-password")
    User.objects.bulk_create(
        [
            User(
                username=f"membre{n:05d}",
                email=f"membre{n:05d}@bench.invalid",
                password=password,
                date_of_birth="1990-01-01",
                date_joined=now - timedelta(days=days + rng.random() * 365),
                age_verified_at=now - timedelta(days=days),
            )
            for n in range(members)
        ],
        batch_size=2000,
    )
    people = list(User.objects.filter(username__startswith="membre").order_by("pk"))
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in people],
        batch_size=2000,
    )
    rooms = [
        Room.objects.get_or_create(
            slug=f"salon-{n}", defaults={"kind": RoomKind.PUBLIC, "name": f"Salon {n}"}
        )[0]
        for n in range(20)
    ]
    staff = do_create_staff_account(
        MODERATOR,
        email=f"{MODERATOR}@bench.invalid",
        role="moderator",
        password=MODERATOR_PASSWORD,
        actor=None,
    )
    moderator = staff.user
    # A long tail: the k-th most reported account draws about 1/k as many reports.
    target_weights = [1 / (rank + 1) for rank in range(len(people))]
    categories = list(CATEGORY_WEIGHTS)
    category_weights = list(CATEGORY_WEIGHTS.values())
    total = int(per_hour * 24 * days)
    reports = []
    for n in range(total):
        created = now - timedelta(hours=days * 24 * (1 - n / total))
        target = rng.choices(people, target_weights)[0]
        reporter = rng.choice(people)
        category = rng.choices(categories, category_weights)[0]
        severity = severity_for(category)
        decided = created < now - timedelta(hours=24)
        actioned = decided and rng.random() < 0.3
        status = (
            ReportStatus.ACTIONED
            if actioned
            else ReportStatus.DISMISSED
            if decided
            else ReportStatus.OPEN
        )
        reports.append(
            Report(
                category=category,
                details="Signalement de banc d'essai " + "x" * rng.randint(0, 120),
                source=ReportSource.USER,
                reporter=reporter,
                target_user=target,
                room=rng.choice(rooms),
                severity=severity,
                status=status,
                decided_by=moderator if decided else None,
                decided_at=created + timedelta(hours=rng.uniform(0.5, 20)) if decided else None,
                decision="Décision de banc d'essai." if decided else "",
                created=created,
                deadline=created + SEVERITY_DEADLINE[severity],
            )
        )
    Report.objects.bulk_create(reports, batch_size=5000)
    actioned = list(
        Report.objects.filter(status=ReportStatus.ACTIONED).values_list(
            "pk", "target_user_id", "decided_at"
        )
    )
    sanctions = [
        Sanction(
            user_id=user_id,
            kind=rng.choice([SanctionKind.WARN, SanctionKind.MUTE, SanctionKind.KICK]),
            starts_at=decided_at,
            ends_at=decided_at + timedelta(hours=24),
            reason="Sanction de banc d'essai.",
            issued_by=moderator,
            report_id=report_id,
            created=decided_at,
        )
        for report_id, user_id, decided_at in actioned
    ]
    Sanction.objects.bulk_create(sanctions, batch_size=5000)
    StatementOfReasons.objects.bulk_create(
        [
            StatementOfReasons(
                user_id=sanction.user_id,
                measure=Measure(sanction.kind),
                sanction=sanction,
                scope="tout le site",
                starts_at=sanction.starts_at,
                ends_at=sanction.ends_at,
                facts="Faits de banc d'essai.",
                ground="terms_other",
                explanation="Explication de banc d'essai.",
                redress="Recours de banc d'essai.",
                decided_by=moderator,
                report_id=sanction.report_id,
                created=sanction.created,
                appeal_until=sanction.created + timedelta(days=183),
                disclosed_at=sanction.created,
            )
            for sanction in Sanction.objects.filter(issued_by=moderator)
        ],
        batch_size=5000,
    )
    # The most reported accounts also draw filters' and detectors' attention.
    busiest = people[:50]
    SafetySignal.objects.bulk_create(
        [
            SafetySignal(
                kind=rng.choice(SafetySignalKind.values),
                user=rng.choice(busiest),
                room=rng.choice(rooms),
                excerpt="extrait de banc d'essai",
                created=now - timedelta(hours=rng.uniform(0, days * 24)),
            )
            for _ in range(int(days * 20))
        ]
    )
    HeldMessage.objects.bulk_create(
        [
            HeldMessage(
                room=rng.choice(rooms),
                author=rng.choice(busiest),
                body="https://exemple.invalid/banc",
                status=rng.choice(HeldStatus.values),
                created=now - timedelta(hours=rng.uniform(0, days * 24)),
            )
            for _ in range(int(days * 20))
        ]
    )
    for user in busiest[:10]:
        for n in range(5):
            do_add_moderator_note(user, f"Note de banc d'essai {n}.", actor=moderator)
    return {
        "members": len(people),
        "reports": total,
        "open_reports": Report.objects.filter(status=ReportStatus.OPEN).count(),
        "sanctions": len(sanctions),
        "most_reported": people[0].pk,
        "most_reported_reports": Report.objects.filter(target_user=people[0]).count(),
        "build_seconds": round(time.perf_counter() - started, 1),
    }


# --- the measure -------------------------------------------------------------------------------


class Browser:
    """A cookie-keeping HTTP client, as a browser signs in and follows the admin."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        _status, page = self.get(path)
        token = CSRF_INPUT.search(page)
        data = urllib.parse.urlencode(
            {**fields, "csrfmiddlewaretoken": token.group(1) if token else ""}
        ).encode()
        # Our own server's http:// URL, never a user's.
        request = urllib.request.Request(  # noqa: S310
            self.base + path, data=data, headers={"Referer": self.base + path}
        )
        try:
            with self.opener.open(request, timeout=60) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def sign_in(browser: Browser) -> None:
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=MODERATOR)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    status, page = browser.post(
        "/admin/login/?next=/admin/",
        {
            "username": MODERATOR,
            "password": MODERATOR_PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": f"{totp.token():0{device.digits}d}",
        },
    )
    if status != 200 or 'id="site-name"' not in page or "login-form" in page:
        raise SystemExit(f"bench: the moderator could not sign in ({status})")


def pages(subject_id: int) -> dict[str, str]:
    from django.urls import reverse

    return {
        "queue": reverse("admin:moderation_report_changelist"),
        "landing": reverse("admin:index"),
        "case_file": reverse("admin:moderation_casefile_change", args=[subject_id]),
    }


def state_reasons(get, post, urls: dict) -> None:
    """Each gated page asks its reason once; the page after it is what is timed."""
    for url in urls.values():
        status, _page = get(url)
        if status == 403:
            from audit.forms import REASON_FIELD

            post(url, {REASON_FIELD: REASON})
        status, _page = get(url)
        if status != 200:
            raise SystemExit(f"bench: {url} answered {status}")


def time_pages(base: str, urls: dict, samples: int) -> dict:
    browser = Browser(base)
    sign_in(browser)
    state_reasons(browser.get, browser.post, urls)
    timings = {}
    for name, url in urls.items():
        measured = []
        for _ in range(samples):
            started = time.perf_counter()
            status, _page = browser.get(url)
            measured.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise SystemExit(f"bench: {url} answered {status}")
        timings[name] = percentiles(measured)
    return timings


def count_queries(urls: dict) -> dict:
    """The same pages through Django's handler in this process, queries captured."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    moderator = get_user_model().objects.get(username=MODERATOR)
    client = Client()
    client.force_login(moderator)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=moderator).persistent_id
    session.save()

    def get(url):
        answer = client.get(url)
        return answer.status_code, ""

    def post(url, fields):
        answer = client.post(url, fields)
        return answer.status_code, ""

    state_reasons(get, post, urls)
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[name] = len(queries.captured_queries)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--reports-per-hour", type=int, default=200)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_MODERATION_DATABASE_URL", DEFAULT_DATABASE)
    )
    parser.add_argument("--out-dir", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args(argv)

    problem = check_postgres(args.database_url)
    if problem:
        raise SystemExit(f"bench: PostgreSQL is needed ({problem})")
    ensure_database(args.database_url, fresh=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    env = app_env(args.database_url, args.out_dir)
    setup_django(env)
    built = build(args.members, args.days, args.reports_per_hour, args.seed)
    print(f"built: {json.dumps(built)}", flush=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    urls = pages(built["most_reported"])
    counts = count_queries(urls)
    server = daphne("chatsite.asgi:application", env, args.out_dir / "moderation-pages-daphne.log")
    try:
        timings = time_pages(f"http://{HOST}:{server.port}", urls, args.samples)
    finally:
        server.stop()
    result = {
        "time": datetime.now(UTC).isoformat(),
        # A shared machine: figures taken under load are slower; this says how busy it was.
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "arguments": {
            "members": args.members,
            "days": args.days,
            "reports_per_hour": args.reports_per_hour,
            "samples": args.samples,
        },
        "data": built,
        "pages": {
            name: {"url": url, "queries": counts[name], **timings[name]}
            for name, url in urls.items()
        },
    }
    print("| page | p50 (ms) | p95 (ms) | queries |")
    print("|---|---|---|---|")
    for name, row in result["pages"].items():
        print(f"| {name} `{row['url']}` | {row['p50_ms']} | {row['p95_ms']} | {row['queries']} |")
    out = args.out_dir / f"moderation-pages-{datetime.now(UTC):%Y%m%dT%H%M%S}.jsonl"
    with out.open("a") as handle:
        handle.write(json.dumps(result) + "\n")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
