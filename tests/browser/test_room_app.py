"""The room as an app, on a phone (360 px) and a desktop (1280 px), and
moderation's decisions shown where the member is.

- Full height: the title stays visible after load, only the message list
  scrolls (a long history), the composer is pinned in view, an error shows
  next to it in view, and the counts of members and people online agree,
  live.
- A mute imposed by a moderator through the real server (the JSON API, an
  OTP-verified session) while the member's page is open: the banner appears
  with the measure, its end in the reader's time zone and the statement of
  reasons, the composer is disabled with the reason, and comes back when the
  mute ends (the socket's `restriction` frames; docs/protocol.md).
- A room ban: named live, then the reload's refused page shows the decision,
  its end, the statement and the appeal, which the member can read and file.

Everything in the database is set up before the browser starts (Django
refuses synchronous queries while Playwright's event loop runs).
"""

import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.axe import blocking, describe, run_axe
from tests.browser.conftest import csp_violations
from tests.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {
    "360px": {"width": 360, "height": 740},
    "1280px": {"width": 1280, "height": 800},
}
HISTORY = 80  # more than the list shows: it must scroll, not the page
FIRST_PAGE = 50  # what the page reads first (static/js/chat.js HISTORY)
# The reader is not where the server is (Europe/Paris): the end is written in theirs.
READER_TIMEZONE = "America/Montreal"
FILTERED_WORD = "interditissime"
# A mute's shortest duration (the API's minutes): the test waits for its end.
MUTE_MINUTES = 1
MUTE_END_WAIT_MS = (MUTE_MINUTES * 60 + 45) * 1000


@dataclass
class Setup:
    alice: str
    dave: str
    moderator: str


def session_of(user, *, otp_device=None) -> str:
    client = Client()
    client.force_login(user)
    if otp_device is not None:
        from django_otp import DEVICE_ID_SESSION_KEY

        session = client.session
        session[DEVICE_ID_SESSION_KEY] = otp_device.persistent_id
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def setup(transactional_db, make_user, make_staff, asgi_server, settings) -> Setup:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from moderation.models import FilterAction, FilterKind, FilterRule
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
    )
    alice, bob, dave = make_user("alice"), make_user("bob"), make_user("dave")
    actions.do_join_public_room(room, actor=alice)
    for number in range(HISTORY):
        actions.do_post_message(room, f"message {number}", actor=bob)
    FilterRule.objects.create(
        name="mot interdit",
        kind=FilterKind.WORDS,
        pattern=FILTERED_WORD,
        action=FilterAction.BLOCK,
    )
    moderator = make_staff()
    return Setup(
        alice=session_of(alice),
        dave=session_of(dave),
        moderator=session_of(moderator, otp_device=TOTPDevice.objects.get(user=moderator)),
    )


def open_page(new_context, server, session: str, path: str, **options):
    options.setdefault("timezone_id", READER_TIMEZONE)
    context = new_context(**options)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}]
    )
    page = context.new_page()
    page.errors = csp_violations(page)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server.url + path)
    return page


def connected(page) -> None:
    try:
        expect(page.locator("#chat-status")).to_have_text("Connecté")
    except AssertionError:
        raise AssertionError(f"not connected; page errors: {page.errors}") from None


def sanction(new_context, server, setup: Setup, **fields) -> dict:
    """A moderator's decision through the real server: POST /api/moderation/sanctions/."""
    context = new_context()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": setup.moderator, "url": server.url}]
    )
    page = context.new_page()
    page.goto(server.url + "/")  # for the csrftoken cookie
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    answer = context.request.post(
        server.url + "/api/moderation/sanctions/",
        data=json.dumps({"user": "alice", "reason": "Insultes répétées.", **fields}),
        headers={"Content-Type": "application/json", "X-CSRFToken": token, "Origin": server.url},
    )
    assert answer.status == 201, answer.text()
    return answer.json()


def end_in_reader_zone(ends_at: str) -> str:
    """ "jusqu'au 7 déc. à 09:41" as Intl writes it in French, the reader's zone."""
    local = timezone.datetime.fromisoformat(ends_at).astimezone(ZoneInfo(READER_TIMEZONE))
    return f"{local.day} déc. à {local:%H:%M}" if local.month == 12 else f"à {local:%H:%M}"


def page_scrolls(page) -> bool:
    return page.evaluate(
        "() => document.scrollingElement.scrollHeight > window.innerHeight + 1"
        " || document.scrollingElement.scrollWidth > window.innerWidth + 1"
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_room_is_a_full_height_chat(setup, asgi_server, new_context, viewport):
    page = open_page(
        new_context, asgi_server, setup.alice, "/rooms/general/", viewport=VIEWPORTS[viewport]
    )
    connected(page)
    messages = page.locator("#messages li.message")
    expect(messages).to_have_count(FIRST_PAGE)

    # The title is visible after load; the page itself never scrolls, the list does.
    expect(page.get_by_role("heading", level=1)).to_have_text("Général")
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport(ratio=1)
    assert not page_scrolls(page)
    assert page.evaluate("() => window.scrollY") == 0
    assert page.locator("#messages").evaluate("(list) => list.scrollHeight > list.clientHeight")
    # Opened at the latest message, the composer whole on screen.
    expect(messages.last).to_be_in_viewport()
    expect(page.locator("#composer-body")).to_be_in_viewport(ratio=1)
    expect(page.locator("#composer button[type=submit]")).to_be_in_viewport(ratio=1)

    # Reading back through the history moves the list only.
    page.locator("#messages").evaluate("(list) => { list.scrollTop = 0; }")
    expect(messages.first).to_be_in_viewport()
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport(ratio=1)
    expect(page.locator("#composer-body")).to_be_in_viewport(ratio=1)

    # A refused message: failed in the list, the reason next to the composer, in view.
    page.locator("#composer-body").fill(f"un mot {FILTERED_WORD} ici")
    page.locator("#composer-body").press("Enter")
    error = page.locator("#composer-error")
    expect(error).to_contain_text("Ce message n'est pas autorisé ici")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_be_in_viewport(ratio=1)
    failed = page.locator("#messages li.pending.failed")
    expect(failed.locator(".message-state")).to_have_text("Non envoyé")
    expect(failed.locator(".retry-button")).to_be_in_viewport()
    assert not page_scrolls(page)

    # Counts that agree, live: a newcomer joins (members + 1) as they come online.
    expect(page.locator(".chat-meta")).to_contain_text("1 membre · 1 personne en ligne")
    newcomer = open_page(
        new_context, asgi_server, setup.dave, "/rooms/general/", viewport=VIEWPORTS[viewport]
    )
    connected(newcomer)
    expect(page.locator(".chat-meta")).to_contain_text("2 membres · 2 personnes en ligne")
    expect(newcomer.locator(".chat-meta")).to_contain_text("2 membres · 2 personnes en ligne")
    newcomer.context.close()
    expect(page.locator(".chat-meta")).to_contain_text("2 membres · 1 personne en ligne")
    assert page.errors == []


@pytest.mark.timeout(MUTE_END_WAIT_MS // 1000 + 180)  # the mute's minute, on a busy machine
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_mute_shows_live_then_the_composer_comes_back(setup, asgi_server, new_context, scheme):
    page = open_page(
        new_context,
        asgi_server,
        setup.alice,
        "/rooms/general/",
        viewport=VIEWPORTS["360px"],
        color_scheme=scheme,
    )
    connected(page)
    banner = page.locator("#restriction")
    expect(banner).to_be_hidden()
    expect(page.locator("#composer-body")).to_be_enabled()

    mute = sanction(new_context, asgi_server, setup, kind="mute", duration_minutes=MUTE_MINUTES)

    # No reload: the socket's frame shows the measure, its end and the decision.
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Mise en sourdine sur tout le site")
    expect(banner).to_contain_text("Vous pouvez lire, pas écrire.")
    expect(banner.locator(".restriction-end")).to_have_text(
        re.compile(r"^jusqu'au .*" + re.escape(end_in_reader_zone(mute["ends_at"])) + "$")
    )
    statement = banner.locator(".restriction-statement")
    expect(statement).to_have_attribute("href", re.compile(r"^/decisions/\d+/$"))
    expect(banner.locator(".restriction-appeal")).to_have_attribute(
        "href", re.compile(r"^/decisions/\d+/#appeal$")
    )
    expect(banner).to_be_in_viewport()
    # The composer says why it is disabled, in view.
    expect(page.locator("#composer-body")).to_be_disabled()
    expect(page.locator("#composer button[type=submit]")).to_be_disabled()
    locked = page.locator("#composer-locked")
    expect(locked).to_contain_text("Mise en sourdine sur tout le site")
    expect(locked).to_be_in_viewport(ratio=1)
    expect(page.locator("#chat-status")).to_have_text("Connecté")  # reading goes on
    assert not page_scrolls(page)

    violations = blocking(run_axe(page))
    assert not violations, describe(violations, where=f"room with a mute ({scheme})")
    if scheme == "dark":
        return  # the end of the mute is the same in both schemes: waited for once

    # The end of the mute: told by the socket (and the page's own timer), no reload.
    expect(banner).to_be_hidden(timeout=MUTE_END_WAIT_MS)
    expect(page.locator("#composer-body")).to_be_enabled()
    expect(locked).to_be_hidden()
    page.locator("#composer-body").fill("Je peux de nouveau écrire")
    page.locator("#composer-body").press("Enter")
    expect(page.locator("#messages li.message.mine:not(.pending) .message-body").last).to_have_text(
        "Je peux de nouveau écrire"
    )
    assert page.errors == []


def lift_all_sanctions_of(username: str) -> None:
    """A moderator lifts the measure while the reader's socket is down: no frame can
    reach it (run outside Playwright's event loop)."""

    def run():
        from accounts.models import User
        from moderation.actions import do_lift_sanction
        from moderation.models import Sanction

        staff = User.objects.filter(is_staff=True).first()
        for found in Sanction.objects.active().filter(user__username=username):
            do_lift_sanction(found, actor=staff, reason="Levée pendant la coupure.")

    in_thread(run)


def test_a_mute_lifted_while_the_socket_was_down_is_gone_after_the_reconnect(
    setup, asgi_server, new_context
):
    page = open_page(
        new_context, asgi_server, setup.alice, "/rooms/general/", viewport=VIEWPORTS["360px"]
    )
    connected(page)
    sanction(new_context, asgi_server, setup, kind="mute", duration_minutes=60)
    banner = page.locator("#restriction")
    expect(banner).to_contain_text("Mise en sourdine sur tout le site")

    # Still in force: the reconnected socket names it again, the banner stays.
    page.evaluate("window.chatsiteChat.disconnect()")
    expect(page.locator("#chat-status")).to_have_text("Déconnecté")
    page.evaluate("window.chatsiteChat.connect()")
    connected(page)
    expect(banner).to_be_visible()
    expect(page.locator("#composer-body")).to_be_disabled()

    # Lifted while disconnected: nothing is named on reconnect, the banner goes.
    page.evaluate("window.chatsiteChat.disconnect()")
    expect(page.locator("#chat-status")).to_have_text("Déconnecté")
    lift_all_sanctions_of("alice")
    page.evaluate("window.chatsiteChat.connect()")
    connected(page)
    expect(banner).to_be_hidden()
    expect(page.locator("#composer-body")).to_be_enabled()
    assert page.errors == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_room_ban_is_named_live_then_the_refused_page_links_the_decision(
    setup, asgi_server, new_context, viewport
):
    page = open_page(
        new_context, asgi_server, setup.alice, "/rooms/general/", viewport=VIEWPORTS[viewport]
    )
    connected(page)
    ban = sanction(new_context, asgi_server, setup, kind="ban", room="general", duration_minutes=60)

    banner = page.locator("#restriction")
    expect(banner).to_contain_text("Bannissement de ce salon")
    expect(page.locator("#chat-status")).to_contain_text("Bannissement de ce salon")
    expect(page.locator("#composer-body")).to_be_disabled()
    expect(banner.locator(".restriction-statement")).to_be_visible()

    # A reload: the refused page, with the decision, its end, the statement and the appeal.
    response = page.reload()
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    refused = page.locator("#restriction")
    expect(refused).to_contain_text("Bannissement de ce salon")
    expect(refused.locator(".restriction-end")).to_contain_text(end_in_reader_zone(ban["ends_at"]))
    appeal = refused.locator(".restriction-appeal")
    expect(appeal).to_be_visible()
    expect(refused.locator(".restriction-statement")).to_be_visible()
    violations = blocking(run_axe(page))
    assert not violations, describe(violations, where="refused page with a ban")

    # The member reads the statement and may appeal it.
    appeal.click()
    expect(page).to_have_url(re.compile(r"/decisions/\d+/#appeal$"))
    expect(page.locator(".statement-measure")).to_have_text("bannissement")
    expect(page.locator("#appeal")).to_be_in_viewport()
    page.locator("textarea[name=text]").fill("Je conteste : ce n'était pas une insulte.")
    page.get_by_role("button", name="Envoyer mon recours").click()
    expect(page.locator(".flash")).to_contain_text("Votre recours est enregistré")
    assert page.errors == []
