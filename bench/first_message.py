"""Clicks and seconds from the landing page to a first message sent (docs/ux.md).

    .venv/bin/python bench/first_message.py                      # this checkout
    .venv/bin/python bench/first_message.py --root /tmp/before   # another checkout (before)

A newcomer's path in headless Chromium, as a person would take it: the home page,
"Créer un compte", the sign-up form, the link of the confirmation mail (opened in
the same browser), the age check through the demonstration issuer (DEBUG), then
either the whole welcome tour or straight to the rooms ("Passer" on the tour, or
"Salons" in the navigation where there is no "Passer"), a room of the demo data, and
a first message sent with Enter. Each run is a new person on a fresh server.

Counted: clicks (a link, a button, Enter to send, the link in the mail), form
fields typed, pages loaded; seconds from the landing page to the message shown in
the list. The script waits for nothing but the pages: the seconds are the site's
own share of the path (no reading or typing time), so compare them before and
after on the same machine. The path adapts to what the site shows (a "Confirmer"
page after the mail link, a tour), so that the same script measures both.

The server: daphne on a scratch SQLite database (migrated, `seed_demo`), DEBUG on,
mail written as files, run from `--root` (default: this checkout) with this
interpreter. Output: a Markdown table on stdout.
"""

import argparse
import email
import email.policy
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, healthz  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
PASSWORD = "Un mot de passe solide 42!"  # noqa: S105 (a scratch account)


class Walk:
    """One newcomer's walk, counting what they do."""

    def __init__(self, page, origin: str, mail_dir: Path):
        self.page, self.origin, self.mail_dir = page, origin, mail_dir
        self.clicks = self.fields = 0
        self.pages = 0
        page.on("framenavigated", lambda frame: self._navigated(frame))

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.pages += 1

    def click(self, locator) -> None:
        self.clicks += 1
        locator.click()

    def fill(self, locator, value: str) -> None:
        self.fields += 1
        locator.fill(value)

    def mail_link(self) -> str:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for path in sorted(self.mail_dir.glob("*.log")):
                raw = path.read_text().split("\n" + "-" * 79)[0]
                message = email.message_from_string(raw, policy=email.policy.default)
                body = message.get_body(preferencelist=("plain",)).get_content()
                match = re.search(r"https?://\S+/accounts/confirm-email/[^/\s]+/", body)
                if match:
                    return match.group(0)
            time.sleep(0.05)
        raise RuntimeError("no confirmation mail")


def walk(browser, origin: str, mail_dir: Path, viewport: str, tour: bool, number: int) -> dict:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="fr-FR")
    context.set_default_timeout(15_000)
    page = context.new_page()
    path = Walk(page, origin, mail_dir)
    started = time.monotonic()
    page.goto(origin + "/")
    path.click(page.locator("main").get_by_role("link", name="Créer un compte").first)
    page.wait_for_url("**/accounts/signup/")
    form = page.locator("main form")
    path.fill(form.get_by_label("Adresse e-mail"), f"newcomer{number}-{viewport}@example.org")
    path.fill(form.get_by_label("Pseudonyme"), f"Nouveau{number}{viewport[0]}")
    path.fill(form.locator("[name=password1]"), PASSWORD)
    path.fill(form.locator("[name=password2]"), PASSWORD)
    path.fill(form.get_by_label("Date de naissance"), "1994-05-17")
    path.click(form.get_by_role("button", name="Créer mon compte"))
    page.wait_for_url("**/accounts/confirm-email/")
    # The person opens the mail and clicks its link (in the same browser).
    link = path.mail_link()
    path.clicks += 1
    page.goto(link)
    confirm = page.get_by_role("button", name="Confirmer mon adresse")
    if confirm.count():
        path.click(confirm)
    page.wait_for_url("**/accounts/age/")
    path.click(page.locator("#start-attestation"))
    page.wait_for_url("**/accounts/age/demo-issuer/**")
    path.click(page.get_by_role("button", name="Oui, j'ai 18 ans ou plus"))
    page.wait_for_url("**/accounts/tour/**")
    if tour:
        while True:
            following = page.get_by_role("link", name="Suivant", exact=True)
            if not following.count():
                break
            path.click(following)
            page.wait_for_load_state()
        path.click(page.get_by_role("link", name="Aller aux salons").first)
    else:
        # The tour's own "Passer" where there is one, else the navigation's "Salons".
        skip = page.locator("main").get_by_role("link", name="Passer la visite")
        if skip.count():
            path.click(skip)
        else:
            path.click(page.locator(".site-nav").get_by_role("link", name="Salons"))
    page.wait_for_url("**/rooms/")
    # The first room of the list, clicked where a thumb lands: the card's middle.
    card = page.locator("#room-directory > li").first
    box = card.bounding_box()
    if box["y"] + box["height"] * 0.7 > VIEWPORTS[viewport]["height"]:
        # Below the fold: the person scrolls (not a click) to bring it up.
        card.evaluate("card => card.scrollIntoView({block: 'center'})")
        box = card.bounding_box()
    path.clicks += 1
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.7)
    page.wait_for_url("**/rooms/*/")
    from playwright.sync_api import expect

    expect(page.locator("#chat-status")).to_have_text("Connecté")
    path.fill(page.locator("#composer-body"), "Bonjour à toutes et à tous !")
    path.clicks += 1
    page.locator("#composer-body").press("Enter")
    expect(page.locator("#messages .message.mine", has_text="Bonjour à toutes")).to_have_count(1)
    seconds = time.monotonic() - started
    context.close()
    return {"clicks": path.clicks, "fields": path.fields, "pages": path.pages, "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    root = args.root.resolve()

    with tempfile.TemporaryDirectory(prefix="first-message-") as folder:
        folder = Path(folder)
        port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"REDIS_URL", "EMAIL_URL", "DATABASE_URL"}
        }
        env.update(
            DEBUG="1",
            DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
            SITE_URL=f"http://127.0.0.1:{port}",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            CHATSITE_VAR_DIR=str(folder / "var"),
            EMAIL_FILE_PATH=str(folder / "mail"),
            DJANGO_SETTINGS_MODULE="chatsite.settings",
            ACCOUNT_RATE_LIMITS="off",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
        )
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
            subprocess.run([*manage, *command], cwd=root, env=env, check=True, capture_output=True)
        log = (folder / "daphne.log").open("w")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "chatsite.asgi:application",
            ],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        origin = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while healthz(origin) != 200:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "daphne.log").read_text())
                time.sleep(0.1)
            from playwright.sync_api import sync_playwright

            rows = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
                )
                number = 0
                for viewport in VIEWPORTS:
                    for tour in (True, False):
                        runs = []
                        for _ in range(args.runs):
                            number += 1
                            mail_dir = folder / "mail"
                            for old in mail_dir.glob("*.log"):
                                old.unlink()
                            runs.append(walk(browser, origin, mail_dir, viewport, tour, number))
                        rows.append((viewport, tour, runs))
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
            log.close()

    label = args.label or str(root)
    print(f"\nFrom the landing page to a first message sent: {label}\n")
    print("| viewport | tour | clicks | fields typed | pages | seconds (median of runs) |")
    print("|---|---|---:|---:|---:|---:|")
    for viewport, tour, runs in rows:
        first = runs[0]
        seconds = statistics.median(run["seconds"] for run in runs)
        print(
            f"| {viewport} | {'whole tour' if tour else 'skipped'} | {first['clicks']} | "
            f"{first['fields']} | {first['pages']} | {seconds:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
