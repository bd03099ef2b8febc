"""The live console in a browser: the admin's landing page holds the staff socket,
an urgent report filed through the API appears in its feed with no reload, and
its "Prendre en charge" button claims it over the socket (docs/moderation.md,
"La console en direct")."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.site_pages import ROOM_SLUG, Site, populate_site
from tests.moderation.test_console_live import post_json
from tests.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(transactional_db, asgi_server) -> Site:
    return populate_site()


def reported_message():
    from rooms import actions
    from rooms.models import Room
    from tests.browser.site_pages import make_verified_adult

    room = Room.objects.get(slug=ROOM_SLUG)
    author = make_verified_adult("x_y")
    return actions.do_post_message(room, "quel âge as-tu ?", actor=author).message


def test_an_urgent_report_reaches_the_landing_page_and_is_claimed_there(
    site, asgi_server, new_context
):
    from django.conf import settings

    from moderation.models import Report, ReportStatus

    context = new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": site.staff_session,
                "url": asgi_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(asgi_server.url + "/admin/")
    expect(page.locator(".moderation-badge[data-live]")).to_have_count(1)
    urgent_before = int(page.locator('.moderation-badge [data-count="urgent"]').inner_text())

    # Playwright's loop runs in this thread: the database is asked from another one.
    message = in_thread(reported_message)
    status, body = post_json(
        asgi_server,
        "/api/reports/",
        site.member_session,
        {"message": message.pk, "category": "child_safety", "details": "<script>x</script>"},
    )
    assert status == 201
    line = page.locator(".console-feed li", has_text=f"#{body['id']}")
    expect(line).to_contain_text("protection des mineurs")
    expect(page.locator('.moderation-badge [data-count="urgent"]')).to_have_text(
        str(urgent_before + 1)
    )
    expect(page).to_have_title(re.compile(re.escape(f"({urgent_before + 1}!) ")))
    # Escaped: the report's details never reach the console, and nothing runs.
    assert "<script>" not in page.locator(".console-feed").inner_html()

    line.locator(".console-claim").click()
    claimed = page.locator(".console-feed li", has_text="pris en charge").first
    expect(claimed).to_contain_text(f"#{body['id']}")
    status = in_thread(lambda: Report.objects.get(pk=body["id"]).status)
    assert status == ReportStatus.CLAIMED
