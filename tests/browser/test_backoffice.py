"""The moderators' back office in a browser: the queue fits a 1280 px screen without
sideways scrolling or clipped columns (and stays usable at 360 px), the landing page
shows the queue, in light and dark; the case file and the moderation measures pass
axe-core's WCAG 2.2 AA rules at both widths, in both schemes."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.axe import describe, run_axe
from tests.browser.site_pages import (
    OTHER,
    ROOM_SLUG,
    STAFF,
    Site,
    make_verified_adult,
    populate_site,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUEUE = "/admin/moderation/report/"
LONG_NAME = "un_pseudonyme_vraiment_tres_long_28"


@pytest.fixture
def site(transactional_db, asgi_server, settings) -> Site:
    """The usual site, and a busy evening's queue: long names, long messages."""
    # Fifteen posts by one author in a row: the sending limit is not what this tests.
    settings.MESSAGE_RATE_LIMIT = "off"
    from moderation import actions as moderation
    from rooms import actions
    from rooms.models import Room

    site = populate_site()
    room = Room.objects.get(slug=ROOM_SLUG)
    author = make_verified_adult(LONG_NAME)
    for number, category in enumerate(["child_safety", "threat", "hate", "scam", "spam"] * 3):
        body = f"Message {number} : " + "ceci est un message assez long pour tester " * 8
        message = actions.do_post_message(room, body, actor=author).message
        reporter = make_verified_adult(f"temoin_{number}")
        moderation.do_file_report(actor=reporter, category=category, message=message)
    site.ids["other"] = OTHER
    return site


def open_as_staff(new_context, server, site, *, width, scheme="light"):
    context = new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": site.staff_session, "url": server.url}]
    )
    return context.new_page()


OVERFLOW = """() => {
  const page = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  const results = document.querySelector('.results');
  const table = document.querySelector('#result_list');
  return {
    page,
    results: results ? results.scrollWidth - results.clientWidth : null,
    table: table
      ? table.getBoundingClientRect().right - results.getBoundingClientRect().right
      : null,
  };
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_queue_fits_1280_px_without_sideways_scrolling(site, asgi_server, new_context, scheme):
    page = open_as_staff(new_context, asgi_server, site, width=1280, scheme=scheme)
    response = page.goto(asgi_server.url + QUEUE)
    assert response is not None and response.ok
    expect(page.locator("#result_list tbody tr")).to_have_count(17)
    measured = page.evaluate(OVERFLOW)
    assert measured["page"] <= 0, measured
    assert measured["results"] <= 0, measured  # the table is not clipped by its box
    assert measured["table"] <= 0, measured
    # Every column's header is on screen, the excerpt wraps inside its cell.
    last = page.locator("#result_list thead th").last.bounding_box()
    assert last["x"] + last["width"] <= 1280
    excerpt = page.locator("#result_list .report-excerpt").first
    expect(excerpt).to_contain_text("ceci est un message")
    assert excerpt.bounding_box()["height"] > 20  # wrapped onto more than one line


def test_the_queue_stays_usable_at_360_px(site, asgi_server, new_context):
    page = open_as_staff(new_context, asgi_server, site, width=360)
    page.goto(asgi_server.url + QUEUE)
    measured = page.evaluate(OVERFLOW)
    assert measured["page"] <= 0, measured  # the page itself never scrolls sideways
    # The rows are reachable: the first report's link is on screen or scrolls into it.
    link = page.locator("#result_list tbody tr th a").first
    link.scroll_into_view_if_needed()
    expect(link).to_be_visible()


def test_the_landing_page_shows_the_queue_first(site, asgi_server, new_context):
    page = open_as_staff(new_context, asgi_server, site, width=1280)
    page.goto(asgi_server.url + "/admin/")
    landing = page.locator(".moderation-landing")
    expect(landing).to_be_visible()
    expect(landing.locator('[data-count="urgent"]')).to_have_text("6")
    urgent = landing.locator("#landing-urgent + ul li")
    expect(urgent.first).to_contain_text("protection des mineurs")
    assert page.title().startswith("(6!) ")  # the live badge's tab title
    assert LONG_NAME not in landing.inner_text()
    page.set_viewport_size({"width": 360, "height": 780})
    assert page.evaluate(OVERFLOW)["page"] <= 0


@pytest.fixture
def case_file(site) -> dict:
    """A full timeline for the long-named author (fifteen reports against them, a
    moderator's note, a mute with its statement, an appeal), and measures to draw:
    one report decided, one claimed and held. The staff session has stated its
    reason for this case file (a look of its own, audit/looks.py) and for the rest."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    from moderation import actions as moderation
    from moderation.models import Report, StatementOfReasons
    from tests.conftest import grant_looks, staff_client

    users = get_user_model().objects
    author, staff = users.get(username=LONG_NAME), users.get(username=STAFF)
    moderation.do_add_moderator_note(
        author, "Quinze signalements en une soirée : à surveiller de près.", actor=staff
    )
    moderation.do_issue_sanction(
        author, actor=staff, kind="mute", duration_minutes=60, reason="Messages répétés."
    )
    statement = StatementOfReasons.objects.filter(user=author).latest("created")
    moderation.do_file_appeal(statement, actor=author, text="Je ne faisais que discuter.")
    first, second = Report.objects.filter(target_user=author).order_by("pk")[:2]
    moderation.do_claim_report(first, actor=staff)
    moderation.do_dismiss_report(first, actor=staff, reason="Une discussion vive, sans plus.")
    moderation.do_claim_report(second, actor=staff)
    client = staff_client(staff, otp_verified=True)
    models = [model._meta.label_lower for model in admin.site._registry]
    grant_looks(client, *models, ("moderation.casefile", author.pk), seconds=3600)
    return {
        "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "path": f"/admin/moderation/casefile/{author.pk}/change/",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [360, 1280])
def test_the_case_file_and_the_measures_pass_axe(
    case_file, asgi_server, new_context, width, scheme
):
    context = new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": case_file["session"],
                "url": asgi_server.url,
            }
        ]
    )
    page = context.new_page()
    failures = []
    for label, path, shown in [
        ("case file", case_file["path"], "à surveiller de près"),
        ("measures", "/admin/moderation/report/metrics/", STAFF),  # the workload names them
    ]:
        response = page.goto(asgi_server.url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        assert page.url == asgi_server.url + path  # the page itself, not a reason form
        expect(page.locator("#content")).to_contain_text(shown)
        found = run_axe(page)
        if found:
            failures.append(describe(found, where=f"{label} {path}: "))
        # What axe cannot see, WCAG's reflow: nothing past a 360 px screen.
        overflow = page.evaluate(OVERFLOW)["page"]
        if overflow > 0:
            failures.append(f"{label} {path}: scrolls sideways by {overflow}px")
    # Every impact, minor included: these pages are ours from end to end.
    assert not failures, f"{width}px {scheme}:\n" + "\n".join(failures)
