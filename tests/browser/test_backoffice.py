"""The moderators' back office in a browser: the queue fits a 1280 px screen without
sideways scrolling or clipped columns (and stays usable at 360 px), the landing page
shows the queue, in light and dark."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.site_pages import OTHER, ROOM_SLUG, Site, make_verified_adult, populate_site

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
