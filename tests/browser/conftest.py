"""Browser tests: the real ASGI app under daphne, driven by Debian's headless Chromium.

`asgi_server` starts daphne in a subprocess against the test database (so the
test and the server see the same rows), with DEBUG on (static files, the demo
age issuer), allauth's rate limits off and e-mail written to a folder of the
test's own. `browser` is one Chromium per test, so that Playwright's event loop is gone
before the database is flushed (Django refuses sync queries while a loop runs);
tests open one context per simulated person with `new_context`.
"""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import database_url, free_port, start_daphne

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser

# `expect` waits until its condition holds; on CI's shared 2-core machine, with a
# daphne and several Chromium pages per test, a page may take more than the
# default 5 s to show what it will show. A longer wait times nothing: it only
# keeps a slow machine from failing a correct page.
EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True, scope="session")
def _patient_expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@dataclass
class LiveServer:
    url: str
    mail_dir: Path
    var_dir: Path
    log_path: Path
    daphne: object = field(default=None, repr=False)
    env: dict = field(default_factory=dict, repr=False)

    def restart(self) -> None:
        """Kills the server (as a crash, or a network drop for its clients) and
        starts it again on the same port."""
        self.daphne.kill()
        self.daphne = start_daphne(
            self.env, self.log_path.with_suffix(".2.log"), port=self.daphne.port, timeout=90
        )

    def mails(self) -> list[str]:
        """Every e-mail the server wrote, oldest first, as raw text."""
        files = sorted(self.mail_dir.glob("*.log"), key=lambda path: path.stat().st_mtime)
        return [path.read_text() for path in files]

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@pytest.fixture
def asgi_server_env() -> dict[str, str]:
    """Extra environment for the server; a test may add to it before `asgi_server`."""
    return {}


@pytest.fixture
def asgi_server(transactional_db, tmp_path, asgi_server_env):
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and (
        database["NAME"] == ":memory:" or "mode=memory" in str(database["NAME"])
    ):
        pytest.skip("an in-memory SQLite test database cannot be shared with a server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    var_dir = tmp_path / "var"
    mail_dir = tmp_path / "mail"
    var_dir.mkdir()
    mail_dir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "EMAIL_URL", "AGE_ATTESTATION_PROVIDER_URL"}
    }
    env.update(
        DEBUG="1",
        DATABASE_URL=database_url(database),
        SITE_URL=url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        ACCOUNT_RATE_LIMITS="off",
        # Minutes-old test accounts: the trust gates only where a test turns them on.
        TRUST_GATES="off",
        EMAIL_FILE_PATH=str(mail_dir),
        CHATSITE_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="chatsite.settings",
    )
    env.update(asgi_server_env)
    log_path = tmp_path / "daphne.log"
    try:
        daphne = start_daphne(env, log_path, port=port, timeout=90)
    except RuntimeError as error:
        pytest.fail(str(error))
    server = LiveServer(
        url=url, mail_dir=mail_dir, var_dir=var_dir, log_path=log_path, daphne=daphne, env=env
    )
    yield server
    server.daphne.stop()


@pytest.fixture
def browser(transactional_db):
    # Depends on the database so that it is torn down first, whatever the order
    # in which a test names its fixtures.
    if not (shutil.which("chromium") or os.path.exists(CHROMIUM)):
        if os.environ.get("CHATSITE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{CHROMIUM} is missing (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser):
    """Opens French-speaking browser contexts (one per simulated person), closed after."""
    contexts = []

    def make(**options):
        options.setdefault("locale", "fr-FR")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def csp_violations(page) -> list[str]:
    """Collects the page's Content-Security-Policy violations (Chromium reports
    them on the console); the returned list grows as they come."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found
