"""The room page as people use it, on a phone (360 px) and a desktop (1280 px).

Keyboard only: skip to the composer, send with Enter, reach a message's report
button, report it from the dialog. The "new messages" divider and its jump
button, a profile card (no birth date), times in the reader's language, no
sideways scrolling on a phone, the rooms page's search, the service worker
and its cache (the shell, never an API answer), and opt-in notifications of
direct messages.

Everything in the database is set up before the browser starts (Django
refuses synchronous queries while Playwright's event loop runs); the few
checks of the database afterwards run in a thread of their own (`in_thread`).
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations
from tests.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {
    "360px": {"width": 360, "height": 740},
    "1280px": {"width": 1280, "height": 800},
}
TIMEZONE = "Europe/Paris"
READ_BEFORE = 3  # messages Alice had read on her last visit
UNREAD = 60  # then Bob went on: more than a page of history (50) and than the list shows
HISTORY_PAGE = 50  # the room page's first history request (static/js/chat.js HISTORY)
BIRTH_DATE = datetime.date(1987, 6, 5)


@dataclass
class Setup:
    alice: str
    bob: str
    first_unread_id: int
    last_time: datetime.datetime


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def setup(transactional_db, make_user, asgi_server, settings) -> Setup:
    from rooms import actions
    from rooms.models import RoomKind

    settings.MESSAGE_RATE_LIMIT = "off"
    room = actions.do_create_room(
        actor=None,
        kind=RoomKind.PUBLIC,
        slug="general",
        name="Général",
        theme="général",
        description="On discute de tout.",
        rules="Pas de pseudonymes insultants.",
    )
    actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="cinema", name="Cinéma")
    alice = make_user("alice")
    bob = make_user("bob", date_of_birth=BIRTH_DATE)
    for number in range(READ_BEFORE):
        actions.do_post_message(room, f"déjà lu {number}", actor=bob)
    actions.do_join_public_room(room, actor=alice)
    posted = [
        actions.do_post_message(room, f"nouveau {number}", actor=bob).message
        for number in range(UNREAD)
    ]
    return Setup(
        alice=session_of(alice),
        bob=session_of(bob),
        first_unread_id=posted[0].id,
        last_time=posted[-1].created,
    )


def open_page(new_context, server, session: str, path: str, **options):
    options.setdefault("timezone_id", TIMEZONE)
    context = new_context(**options)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}]
    )
    page = context.new_page()
    page.errors = csp_violations(page)  # and the script errors, below
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server.url + path)
    return page


def connected(page) -> None:
    expect(page.locator("#chat-status")).to_have_text("Connecté")


def focused(page, selector: str) -> bool:
    return page.evaluate("(s) => document.activeElement.matches(s)", selector)


def tab_until(page, selector: str, *, key: str = "Tab", limit: int = 15) -> None:
    for _ in range(limit):
        page.keyboard.press(key)
        if focused(page, selector):
            return
    raise AssertionError(f"{selector} not reached with {key} in {limit} presses")


def no_sideways_scroll(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width} px wide"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_keyboard_only_room(setup, asgi_server, new_context, viewport):
    from moderation.models import Report

    page = open_page(
        new_context, asgi_server, setup.alice, "/rooms/general/", viewport=VIEWPORTS[viewport]
    )
    connected(page)
    messages = page.locator("#messages li.message")
    expect(messages).to_have_count(READ_BEFORE + UNREAD)

    # The room's header: theme, counts, its own rules and the site's.
    header = page.locator(".chat-header")
    expect(header).to_contain_text("Général")
    expect(header).to_contain_text("1 membre")
    expect(page.locator(".chat-rules")).to_contain_text("Pas de pseudonymes insultants.")
    expect(page.locator(".chat-rules a")).to_have_attribute("href", "/rules/")

    # "New messages" sits right before the first message Alice has not read;
    # the list opened at the latest message, so a button jumps back to it.
    divider = page.locator("#unread-divider")
    expect(divider).to_have_text("Nouveaux messages")
    after = page.locator("#unread-divider + li.message")
    expect(after).to_have_attribute("data-id", str(setup.first_unread_id))
    jump = page.locator("#jump-unread")
    expect(jump).to_be_visible()
    # Opened at the latest message, the composer in reach without scrolling.
    expect(messages.last).to_be_in_viewport()
    expect(page.locator("#composer-body")).to_be_in_viewport(ratio=1)
    assert not divider.evaluate(
        "(d) => { const b = d.getBoundingClientRect(), a = d.parentNode.getBoundingClientRect();"
        " return b.bottom > a.top && b.top < a.bottom; }"
    )
    jump.focus()
    page.keyboard.press("Enter")
    expect(after).to_be_focused()
    expect(divider).to_be_in_viewport()
    expect(jump).to_be_hidden()

    # Times in the reader's language and time zone: 24-hour clock in French.
    expected = setup.last_time.astimezone(ZoneInfo(TIMEZONE)).strftime("%H:%M")
    expect(messages.last.locator("time")).to_have_text(expected)

    no_sideways_scroll(page)

    # Sending with the keyboard alone, from the top of a fresh page: the skip
    # links, then Enter in the composer.
    page.reload()
    connected(page)
    page.keyboard.press("Tab")
    assert focused(page, ".skip-link[href='#main']")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused(page, "#skip-to-composer")
    page.keyboard.press("Enter")
    expect(page.locator("#composer-body")).to_be_focused()
    page.keyboard.type("Bonjour à tous")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("me voilà")
    page.keyboard.press("Enter")
    expect(page.locator("#messages li.message.mine .message-body")).to_have_text(
        "Bonjour à tous\nme voilà"
    )
    expect(page.locator("#composer-body")).to_have_value("")
    expect(page.locator("#composer-body")).to_be_focused()

    # Reporting with the keyboard alone: back from the composer to Bob's latest
    # message's report button, then the dialog.
    tab_until(page, ".report-button[data-report-message]", key="Shift+Tab")
    reported_id = int(page.evaluate("() => document.activeElement.dataset.reportMessage"))
    page.keyboard.press("Enter")
    dialog = page.locator("#report-dialog")
    expect(dialog).to_be_visible()
    tab_until(page, "#report-category")
    page.keyboard.press("ArrowDown")
    category = page.locator("#report-category").input_value()
    first_option = page.locator("#report-category option").first.get_attribute("value")
    assert category != first_option
    tab_until(page, ".report-send")
    page.keyboard.press("Enter")
    expect(dialog.locator(".report-done")).to_be_visible()
    expect(dialog.locator(".report-done")).to_contain_text("Merci")
    expect(dialog.locator(".report-cancel")).to_be_focused()  # focus stays in the dialog
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    reports = in_thread(
        lambda: list(
            Report.objects.filter(target_message_id=reported_id).values_list(
                "category", "reporter__username"
            )
        )
    )
    assert reports == [(category, "alice")]
    assert page.errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_profile_card(setup, asgi_server, new_context, viewport):
    from rooms.models import Block

    page = open_page(
        new_context, asgi_server, setup.alice, "/rooms/general/", viewport=VIEWPORTS[viewport]
    )
    connected(page)
    author = page.locator("#messages li.message .message-author").last
    expect(author).to_have_text("bob")
    author.focus()
    page.keyboard.press("Enter")
    card = page.locator("#profile-card")
    expect(card).to_be_visible()
    expect(card.locator("h2")).to_have_text("bob")
    expect(card).to_contain_text("Membre depuis le")
    expect(card.locator(".badge.verified")).to_be_visible()
    expect(card.locator("#profile-card-dm")).to_have_attribute("href", "/dm/bob/")
    text = card.inner_text()
    assert "1987" not in text and "juin" not in text and "@" not in text
    no_sideways_scroll(page)
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    expect(author).to_be_focused()  # back where the reader was

    # Blocking from the card, after the browser's confirmation.
    page.keyboard.press("Enter")
    expect(card.locator("#profile-card-block")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    card.locator("#profile-card-block").click()
    expect(card.locator("#profile-card-status")).to_have_text("Vous bloquez cette personne.")
    # The same button now lifts the block (issue 18: unblock from the card).
    expect(card.locator("#profile-card-block")).to_have_text("Débloquer")
    expect(card.locator("#profile-card-dm")).to_be_hidden()
    assert in_thread(
        lambda: Block.objects.filter(blocker__username="alice", blocked__username="bob").exists()
    )
    assert page.errors == []


def test_times_follow_the_readers_language(setup, asgi_server, new_context):
    page = open_page(
        new_context,
        asgi_server,
        setup.alice,
        "/rooms/general/",
        locale="en-US",
        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
    )
    assert page.evaluate("() => document.documentElement.lang") == "en"
    expected = setup.last_time.astimezone(ZoneInfo(TIMEZONE)).strftime("%I:%M %p")
    expect(page.locator("#messages li.message time").last).to_have_text(expected)
    expect(page.locator("#chat-status")).to_have_text("Connected")


def test_rooms_page_finds_rooms_as_you_type(setup, asgi_server, new_context):
    page = open_page(new_context, asgi_server, setup.alice, "/rooms/", viewport=VIEWPORTS["360px"])
    cards = page.locator(".room-card")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="Général")).to_contain_text("1 membre")
    page.locator("#room-search-q").press_sequentially("cinema")  # no accent: still found
    expect(cards.filter(has_text="Cinéma")).to_be_visible()
    expect(cards.filter(has_text="Général")).to_be_hidden()
    expect(page.locator("#room-count")).to_have_text("1 salon")
    no_sideways_scroll(page)
    # The same search without the script: the form's GET, answered by the server.
    page.locator("#room-search-q").press("Enter")
    page.wait_for_url("**/rooms/?q=cinema*")
    expect(cards).to_have_count(1)
    assert page.errors == []


def test_service_worker_caches_the_shell_and_never_messages(setup, asgi_server, new_context):
    page = open_page(new_context, asgi_server, setup.alice, "/rooms/general/")
    connected(page)
    scope = page.evaluate("() => navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == asgi_server.url + "/"
    # Controlled by the worker now: the room's requests go through it.
    page.reload()
    connected(page)
    # The first visit read what it showed: the reload opens at the latest page.
    expect(page.locator("#messages li.message")).to_have_count(HISTORY_PAGE)
    assert page.evaluate("() => Boolean(navigator.serviceWorker.controller)")
    cached = page.evaluate(
        """async () => {
            const names = await caches.keys();
            const urls = [];
            for (const name of names) {
                for (const request of await (await caches.open(name)).keys()) {
                    urls.push(new URL(request.url).pathname);
                }
            }
            return {names, urls};
        }"""
    )
    assert len(cached["names"]) == 1 and cached["names"][0].startswith("chatsite-shell-")
    assert {"/static/css/site.css", "/static/js/chat.js", "/offline/"} <= set(cached["urls"])
    personal = [url for url in cached["urls"] if url.startswith(("/api/", "/rooms/", "/dm/"))]
    assert personal == []
    assert all(url.startswith("/static/") or url == "/offline/" for url in cached["urls"])

    # Offline, a page is the offline page, not the browser's error.
    page.context.set_offline(True)
    page.goto(asgi_server.url + "/rooms/")
    expect(page.locator("h1")).to_have_text("Vous êtes hors ligne")
    page.context.set_offline(False)
    assert page.errors == []


NOTIFICATION_SPY = """
(() => {
    window.shown = [];
    class SpyNotification extends EventTarget {
        constructor(title, options) { super(); window.shown.push({title, options}); }
        close() {}
        static get permission() { return "granted"; }
        static requestPermission() { return Promise.resolve("granted"); }
    }
    window.Notification = SpyNotification;
    Object.defineProperty(document, "hidden", {get: () => window.pretendHidden === true});
})();
"""


@pytest.fixture
def conversation(setup):
    """Alice and Bob already talk in a direct room (request accepted)."""
    from django.contrib.auth import get_user_model

    from rooms import actions
    from rooms.models import ContactRequest

    users = get_user_model().objects
    alice, bob = users.get(username="alice"), users.get(username="bob")
    room = actions.do_open_direct_room(alice, actor=bob)
    actions.do_accept_contact_request(ContactRequest.objects.get(room=room), actor=alice)
    return room


def test_direct_message_notifications_are_opt_in_and_name_only_the_sender(
    setup, conversation, asgi_server, new_context
):
    context = new_context(timezone_id=TIMEZONE, viewport=VIEWPORTS["360px"])
    context.add_init_script(NOTIFICATION_SPY)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": setup.alice, "url": asgi_server.url}]
    )
    alice = context.new_page()
    alice.goto(asgi_server.url + "/dm/bob/")
    connected(alice)
    bob = open_page(new_context, asgi_server, setup.bob, "/dm/alice/")
    connected(bob)

    def bob_says(text: str) -> None:
        bob.locator("#composer-body").fill(text)
        bob.locator("#composer-body").press("Enter")
        expect(alice.locator("#messages .message-body").last).to_have_text(text)

    # Not asked for: nothing, even with the tab hidden.
    alice.evaluate("() => { window.pretendHidden = true; }")
    bob_says("Premier message")
    assert alice.evaluate("() => window.shown.length") == 0

    toggle = alice.locator("[data-notify-toggle]")
    expect(toggle).to_have_text("Activer les notifications")
    toggle.click()
    expect(toggle).to_have_text("Désactiver les notifications")
    assert alice.evaluate("() => localStorage.getItem('chatsite.notifications')") == "on"

    alice.evaluate("() => { window.pretendHidden = false; }")
    bob_says("Tu me vois ?")  # the tab is visible: no notification
    alice.evaluate("() => { window.pretendHidden = true; }")
    bob_says("Mon secret")
    shown = alice.evaluate("() => window.shown")
    assert [entry["title"] for entry in shown] == ["Nouveau message privé de bob"]
    assert "Mon secret" not in str(shown)  # the lock screen shows no message
    # The tab counts what came while away: "Premier message" and "Mon secret".
    assert alice.title() == "(2) bob · Chatsite"

    no_sideways_scroll(alice)

    # On the conversations page, a new direct message shows as its unread
    # count grows: notified there too, the tab hidden.
    alice.goto(asgi_server.url + "/conversations/")
    row = alice.locator("#conversation-list li", has_text="bob")
    expect(row).to_be_visible()
    expect(alice.locator("[data-notify-toggle]")).to_have_text("Désactiver les notifications")
    alice.evaluate("() => { window.pretendHidden = true; }")
    bob.locator("#composer-body").fill("Tu es où ?")
    bob.locator("#composer-body").press("Enter")
    expect(row.locator(".unread")).to_be_visible()
    alice.wait_for_function("() => window.shown.length === 1")
    shown = alice.evaluate("() => window.shown")
    assert [entry["title"] for entry in shown] == ["Nouveau message privé de bob"]
    assert "Tu es où" not in str(shown)

    # And off again: nothing more.
    alice.locator("[data-notify-toggle]").click()
    expect(alice.locator("[data-notify-toggle]")).to_have_text("Activer les notifications")
    bob.locator("#composer-body").fill("Allô ?")
    bob.locator("#composer-body").press("Enter")
    expect(row.locator(".unread")).to_have_text("2 non lus")
    assert alice.evaluate("() => window.shown.length") == 1
