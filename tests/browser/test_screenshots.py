"""The README's screenshots, taken from the real pages (phone and desktop).

`make screenshots` runs this with UPDATE_SCREENSHOTS=1 and rewrites
docs/screenshots/*.png; otherwise the images go to the test's temporary folder,
so every test run still renders each page and checks what a screenshot would
show: the page answered, nothing scrolls sideways on a phone, and the image is
not blank.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.site_pages import Site, populate_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
VIEWPORTS = {"360": {"width": 360, "height": 780}, "1280": {"width": 1280, "height": 800}}

# (file name, visitor, path, viewports, colour scheme)
SHOTS = [
    ("home", "anonymous", "/", ("360", "1280"), "light"),
    ("signup", "anonymous", "/accounts/signup/", ("360",), "light"),
    ("rooms", "member", "/rooms/", ("360", "1280"), "light"),
    ("room", "member", "/rooms/general/", ("360", "1280"), "light"),
    ("room-dark", "member", "/rooms/general/", ("360",), "dark"),
    ("moderation-queue", "staff", "/admin/moderation/report/", ("1280",), "light"),
    # docs/moderation.md's pictures: the landing page with its live console, the
    # moderation metrics, a member's trust level.
    ("moderation-console", "staff", "/admin/", ("1280",), "light"),
    ("moderation-metrics", "staff", "/admin/moderation/report/metrics/", ("1280",), "light"),
    ("trust-level", "member", "/trust/", ("360",), "light"),
    # A room under its own raid mode: the banner in its header, the slow mode raised.
    ("raid-room", "member", "/rooms/sport/", ("360",), "light"),
    # A room moderator (second factor verified) with the "Modérer" menu open.
    ("room-moderator-menu", "room moderator", "/rooms/general/", ("1280",), "light"),
]


@pytest.fixture
def asgi_server_env() -> dict[str, str]:
    # The trust page as members meet it, its gates on (they only refuse or hold
    # posts, and the pictures post nothing).
    return {"TRUST_GATES": "on"}


@pytest.fixture
def site(transactional_db, asgi_server) -> Site:
    site = populate_site()
    _moderation_at_work(site)
    return site


def _moderation_at_work(site: Site) -> None:
    """What the moderation pictures show: an urgent report waiting on the landing
    page, a report claimed and decided, for the metrics' delays and workload, and
    a raid mode on the room Sport, and a moderator of the room Général."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from moderation import actions as moderation
    from moderation.models import Report
    from rooms.models import Message, Room, RoomMembership, RoomRole
    from tests.browser.site_pages import MEMBER, OTHER, STAFF, make_verified_adult, session_of

    users = get_user_model().objects
    member, other, staff = (users.get(username=name) for name in (MEMBER, OTHER, STAFF))
    message = Message.objects.filter(author=other, room__slug=site.room_slug).latest("pk")
    moderation.do_file_report(
        actor=member, category="threat", details="Il dit qu'il m'attendra.", message=message
    )
    spam = Report.objects.get(pk=site.member_report_id)
    moderation.do_claim_report(spam, actor=staff)
    moderation.do_dismiss_report(
        spam, actor=staff, reason="Une question sur le match, pas de la publicité."
    )
    moderation.do_start_raid_mode(
        actor=staff,
        reason="Vague d'arrivées de comptes récents.",
        room=Room.objects.get(slug="sport"),
        duration_minutes=120,
    )
    room_moderator = make_verified_adult("alix")
    RoomMembership.objects.create(
        room=Room.objects.get(slug=site.room_slug), user=room_moderator, role=RoomRole.MODERATOR
    )
    TOTPDevice.objects.create(user=room_moderator, name="default", confirmed=True)
    site.ids["room_moderator_session"] = session_of(room_moderator, otp_verified=True)


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


def test_screenshots_of_the_main_pages(site, asgi_server, new_context, screenshot_dir):
    sessions = {
        "anonymous": None,
        "member": site.member_session,
        "staff": site.staff_session,
        "room moderator": site.ids["room_moderator_session"],
    }
    written = []
    for name, visitor, path, viewports, scheme in SHOTS:
        for width in viewports:
            context = new_context(
                viewport=VIEWPORTS[width], color_scheme=scheme, reduced_motion="reduce"
            )
            if sessions[visitor]:
                context.add_cookies(
                    [
                        {
                            "name": settings.SESSION_COOKIE_NAME,
                            "value": sessions[visitor],
                            "url": asgi_server.url,
                        }
                    ]
                )
            page = context.new_page()
            response = page.goto(asgi_server.url + path)
            assert response is not None and response.ok, (path, response and response.status)
            if name.startswith("room-") or name == "room":
                expect(page.locator("#messages li").first).to_be_visible()
                # The composer ready, the list scrolled to the latest message.
                expect(page.locator("#composer-body")).to_be_enabled()
                # Connected, so the header's live counts are in.
                expect(page.locator("#chat-status")).to_have_text("Connecté")
            if name in {"raid-room", "room-moderator-menu"}:
                expect(page.locator("#chat-status")).to_have_text("Connecté")
            if name == "room-moderator-menu":
                page.locator("#messages li .room-moderate-button").last.click()
                expect(page.locator("#room-moderate-dialog .room-moderate-quote")).to_be_visible()
            if width == "360":
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
            # The room scrolls to its composer; the picture starts at the page's top.
            page.evaluate("window.scrollTo(0, 0)")
            target = screenshot_dir / f"{name}-{width}.png"
            page.screenshot(
                path=str(target),
                full_page=name not in {"room", "room-dark", "raid-room", "room-moderator-menu"},
            )
            written.append(target)
            context.close()
    for target in written:
        # A blank or failed render compresses to almost nothing.
        assert target.stat().st_size > 8_000, target
