"""WCAG 2.2 AA on every page: axe-core in Chromium, phone and desktop, light and dark.

Each test signs in as each kind of visitor (anonymous, a verified member, an
OTP-verified administrator), opens every page of `site_pages()` plus every page
linked from the footer, and runs axe-core's WCAG A/AA rules. Any violation of
impact "serious" or "critical" fails the test, with the rule, the nodes and the
help URL of each, for every page at once (one run shows the whole picture).
"""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.axe import blocking, describe, run_axe
from tests.browser.site_pages import Site, populate_site, site_pages

# Each test runs axe on some forty pages: the suite's 120 s hang guard is too tight
# for that on a shared 2-core machine, so these get a longer one (no speed is asserted).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(600),
]

VIEWPORTS = {
    "360px": {"width": 360, "height": 780},
    "1280px": {"width": 1280, "height": 800},
}
SCHEMES = ["light", "dark"]
# Anonymous pages also checked with an English browser (their translated text and lang).
ENGLISH_TOO = {"home", "signup", "rules", "terms", "privacy", "legal_notice", "authorities"}


@pytest.fixture
def site(transactional_db, asgi_server) -> Site:
    return populate_site()


def open_context(new_context, server, *, viewport, scheme, session=None, **options):
    context = new_context(viewport=VIEWPORTS[viewport], color_scheme=scheme, **options)
    if session:
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}]
        )
    return context


def settle(page, label: str) -> None:
    """Waits for what scripts render after load, so that axe sees the page people see."""
    if label in {"room", "dm"}:
        expect(page.locator("#messages li").first).to_be_visible()


def check(page, server, label: str, path: str, failures: list[str]) -> None:
    response = page.goto(server.url + path)
    # The audited-access pages answer 403 with the form asking for a reason.
    expected = {403} if label.endswith("-reason") else set(range(200, 300))
    if response is None or response.status not in expected:
        failures.append(f"{label} {path}: HTTP {response and response.status}")
        return
    # A redirect (to the login page, say) would check the wrong page.
    if urlsplit(page.url).path != urlsplit(path).path:
        failures.append(f"{label} {path}: redirected to {page.url}")
        return
    settle(page, label)
    found = blocking(run_axe(page))
    if found:
        failures.append(describe(found, where=f"{label} {path}: "))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_page_has_no_serious_accessibility_violation(
    site, asgi_server, new_context, viewport, scheme
):
    pages = site_pages(site)
    sessions = {"anonymous": None, "member": site.member_session, "staff": site.staff_session}
    failures: list[str] = []
    visited: set[str] = set()
    for visitor, entries in pages.items():
        context = open_context(
            new_context, asgi_server, viewport=viewport, scheme=scheme, session=sessions[visitor]
        )
        page = context.new_page()
        for label, path in entries:
            check(page, asgi_server, label, path, failures)
            visited.add(path)
        if visitor == "anonymous":
            # Every reference page linked from the footer (rules, terms, privacy...),
            # whatever its URL name: none is skipped.
            page.goto(asgi_server.url + "/")
            links = page.eval_on_selector_all(
                ".site-footer a[href]", "links => links.map(link => link.href)"
            )
            for href in dict.fromkeys(links):
                url = urlsplit(href)
                if url.netloc != urlsplit(asgi_server.url).netloc or url.path in visited:
                    continue
                check(page, asgi_server, f"footer {url.path}", url.path, failures)
                visited.add(url.path)
            # The reference pages exist in English too: checked in English once.
            english = open_context(
                new_context, asgi_server, viewport=viewport, scheme=scheme, locale="en-GB"
            ).new_page()
            for label, path in entries:
                if label in ENGLISH_TOO:
                    check(english, asgi_server, f"{label} (en)", path, failures)
                    assert english.locator("html").get_attribute("lang") == "en"
            english.context.close()
        if visitor == "member":
            # The report dialog, open, over the room page.
            page.goto(asgi_server.url + pages["member"][1][1])
            settle(page, "room")
            page.locator("#messages .report-button").first.click()
            expect(page.locator("#report-dialog")).to_be_visible()
            found = blocking(run_axe(page))
            if found:
                failures.append(describe(found, where="room, report dialog open: "))
        context.close()
    assert len(visited) >= 20, sorted(visited)
    assert not failures, f"{viewport} {scheme}:\n" + "\n".join(failures)
