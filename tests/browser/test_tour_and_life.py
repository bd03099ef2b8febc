"""Issue 18, item 6, in real browsers at 360 and 1280 px, light and dark: the
three-screen illustrated tour with "Passer" on every screen, and the life the
rooms page and the home page show (people online through real sockets, the
day's messages), axe-core clean.

Everything in the database is set up before the browser starts; after that the
tests only look at what the pages show.
"""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.axe import blocking, describe, run_axe
from tests.browser.conftest import csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}
SIZES_AND_SCHEMES = [(size, scheme) for size in VIEWPORTS for scheme in ("light", "dark")]
TITLES = ["Salons et messages privés", "Bloquer ou ignorer", "Signaler, alerter"]


def session_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def people(transactional_db, make_user, asgi_server) -> dict[str, str]:
    """A newcomer; bob and alice, who talked today in "Général"; a quiet room."""
    from rooms import actions
    from rooms.models import RoomKind

    general = actions.do_create_room(
        actor=None, kind=RoomKind.PUBLIC, slug="general", name="Général", theme="général"
    )
    actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="calme", name="Calme")
    alice, bob = make_user("alice"), make_user("bob")
    actions.do_post_message(general, "Bonjour le salon", actor=bob)
    actions.do_post_message(general, "Bonjour Bob !", actor=alice)
    return {
        "newcomer": session_for(make_user("nouveau")),
        "alice": session_for(alice),
        "bob": session_for(bob),
    }


def open_page(new_context, server, size: str, scheme: str, session: str | None = None):
    context = new_context(viewport=VIEWPORTS[size], color_scheme=scheme)
    if session:
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}]
        )
    page = context.new_page()
    page.csp_violations = csp_violations(page)
    return page


def clean(page, where: str) -> None:
    violations = blocking(run_axe(page))
    assert not violations, describe(violations, where=f"{where}: ")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.csp_violations == []


def luminance(css_colour: str) -> float:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


@pytest.mark.parametrize(("size", "scheme"), SIZES_AND_SCHEMES)
def test_the_tour_is_three_illustrated_screens_that_can_be_skipped_from_each(
    people, asgi_server, new_context, size, scheme
):
    page = open_page(new_context, asgi_server, size, scheme, people["newcomer"])
    for number, title in enumerate(TITLES, start=1):
        page.goto(f"{asgi_server.url}/accounts/tour/{number}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.locator("main")).to_contain_text(f"Visite guidée : {number} sur 3")
        expect(page.locator(".tour-steps [aria-current=step]")).to_have_text(title)
        expect(page.locator(".tour-steps li.done")).to_have_count(number - 1)
        # The picture: drawn with the scheme's own colours, hidden from screen readers.
        picture = page.locator(".tour-picture svg")
        expect(picture).to_be_visible()
        expect(picture).to_have_attribute("aria-hidden", "true")
        background = page.locator(".tour-picture .ill-bg").evaluate("e => getComputedStyle(e).fill")
        assert (luminance(background) < 0.3) == (scheme == "dark"), background
        # "Passer" is on screen without scrolling, and named for where it goes.
        skip = page.get_by_role("link", name="Passer la visite")
        expect(skip).to_be_visible()
        assert in_viewport(page, skip)
        clean(page, f"{size} {scheme} tour {number}")
        skip.click()
        page.wait_for_url(f"{asgi_server.url}/rooms/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Salons")


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_tour_by_keyboard_reaches_passer_before_the_text(
    people, asgi_server, new_context, size
):
    page = open_page(new_context, asgi_server, size, "light", people["newcomer"])
    page.goto(f"{asgi_server.url}/accounts/tour/")
    focused = []
    for _tab in range(20):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.textContent.trim()")
        focused.append(name)
        if name == "Suivant":
            break
    skip = focused.index("Passer la visite")
    assert focused[0] == "Aller au contenu"
    assert skip < focused.index("Salons et messages privés") < focused.index("Suivant")
    # Walked to the end with Enter on "Suivant", then into the rooms.
    for number in (2, 3):
        page.get_by_role("link", name="Suivant", exact=True).focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{asgi_server.url}/accounts/tour/{number}/")
    expect(page.get_by_role("link", name="Suivant", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Aller aux salons").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{asgi_server.url}/rooms/")


@pytest.mark.parametrize(("size", "scheme"), SIZES_AND_SCHEMES)
def test_rooms_and_home_show_who_is_online_now_and_the_day(
    people, asgi_server, new_context, size, scheme
):
    # bob is in "Général" (his socket is his presence); alice opens the room too.
    bob = open_page(new_context, asgi_server, size, scheme, people["bob"])
    bob.goto(asgi_server.url + "/rooms/general/")
    expect(bob.locator("#chat-status")).to_have_text("Connecté")
    alice_room = open_page(new_context, asgi_server, size, scheme, people["alice"])
    alice_room.goto(asgi_server.url + "/rooms/general/")
    expect(alice_room.locator("#chat-status")).to_have_text("Connecté")
    expect(alice_room.locator("#online-count")).to_have_text("2 personnes en ligne")

    # The rooms list, in another tab: the busiest first, the same counts as the room.
    rooms = alice_room.context.new_page()
    rooms.csp_violations = csp_violations(rooms)
    rooms.goto(asgi_server.url + "/rooms/")
    cards = rooms.locator("#room-directory > li")
    expect(cards.first.locator(".card-title")).to_have_text("Général")
    expect(cards.first).to_contain_text("Actif maintenant")
    expect(cards.first).to_contain_text("2 membres · 2 personnes en ligne")
    expect(cards.first).to_contain_text("2 messages aujourd'hui · Dernier message")
    expect(cards.nth(1)).to_contain_text("Pas encore de message")
    expect(cards.nth(1)).not_to_contain_text("en ligne")
    clean(rooms, f"{size} {scheme} rooms with life")
    # The room's own header says the same (its socket made alice a member: reloaded).
    alice_room.reload()
    expect(alice_room.locator("#chat-status")).to_have_text("Connecté")
    expect(alice_room.locator(".chat-counts")).to_contain_text("2 membres · 2 personnes en ligne")

    # An anonymous visitor: figures, no name, no message text, no way into the room.
    visitor = open_page(new_context, asgi_server, size, scheme)
    visitor.goto(asgi_server.url + "/")
    live = visitor.locator(".home-live")
    expect(live.locator(".home-figures")).to_contain_text("2 personnes en ligne")
    expect(live.locator(".home-figures")).to_contain_text("2 messages aujourd'hui")
    expect(live.locator(".home-rooms > li").first).to_contain_text("Général")
    text = visitor.locator("main").inner_text()
    for private in ("alice", "bob", "Bonjour le salon", "Bonjour Bob"):
        assert private not in text
    expect(live.locator('a[href="/rooms/general/"]')).to_have_count(0)
    clean(visitor, f"{size} {scheme} home with life")
