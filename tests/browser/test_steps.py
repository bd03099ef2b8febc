"""Issue 18, items 4 to 6 in real browsers, on a phone (360 px) and a desktop
(1280 px), axe-core clean: blocking that keeps its promises, no chosen default in
the report and moderation dialogs, and the shorter way in (one-line navigation on
phones, whole room cards, icons).

Everything in the database is set up before the browser starts; after that the
tests only look at what the pages show.
"""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.axe import blocking, describe, run_axe
from tests.browser.conftest import csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}


def session_for(user, *, otp: bool = False) -> str:
    from tests.conftest import staff_client

    client = staff_client(user, otp_verified=True) if otp else Client()
    if not otp:
        client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def people(transactional_db, make_user, make_staff, asgi_server) -> dict[str, str]:
    """alice and bob talk in public and in private; a moderator; a newcomer."""
    from django.utils import timezone

    from rooms import actions
    from rooms.models import ContactRequest, RoomKind

    room = actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="general", name="Général")
    alice, bob, newcomer = make_user("alice"), make_user("bob"), make_user("nouveau")
    actions.do_post_message(room, "Bonjour le salon", actor=bob)
    actions.do_post_message(room, "Qui vient au concert ?", actor=alice)
    direct = actions.do_open_direct_room(alice, actor=bob)
    actions.do_accept_contact_request(ContactRequest.objects.get(room=direct), actor=alice)
    actions.do_post_message(direct, "Notre échange privé", actor=bob)
    moderator = make_staff("moderator")
    moderator.age_verified_at = timezone.now()
    moderator.save(update_fields=["age_verified_at"])
    return {
        "alice": session_for(alice),
        "bob": session_for(bob),
        "nouveau": session_for(newcomer),
        "moderator": session_for(moderator, otp=True),
    }


def tab(context):
    """A page that accepts confirmations (noted) and collects CSP violations."""
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.accept()))
    page.csp_violations = csp_violations(page)
    return page


def open_as(new_context, server, session: str, viewport: dict, path="/rooms/general/", ready=True):
    context = new_context(viewport=viewport)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}]
    )
    page = tab(context)
    page.goto(server.url + path)
    if ready:
        expect(page.locator("#chat-status")).to_have_text("Connecté")
    return page


def message(page, text: str):
    return page.locator("#messages li.message", has_text=text)


def clean(page, where: str) -> None:
    violations = blocking(run_axe(page))
    assert not violations, describe(violations, where=f"{where}: ")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.csp_violations == []


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_blocking_keeps_its_promises(people, asgi_server, new_context, size):
    viewport = VIEWPORTS[size]
    alice = open_as(new_context, asgi_server, people["alice"], viewport)
    # bob has his conversation with alice open when she blocks him.
    bob_dm = open_as(new_context, asgi_server, people["bob"], viewport, path="/dm/alice/")
    expect(message(bob_dm, "Notre échange privé")).to_be_visible()

    # alice blocks bob from his card in the public room; the confirmation says what follows.
    alice.locator("#messages .message-author", has_text="bob").first.click()
    alice.locator("#profile-card-block").click()
    expect(alice.locator("#profile-card-status")).to_have_text("Vous bloquez cette personne.")
    assert "ses messages seront repliés dans les salons publics" in alice.dialogs[0]
    assert "Elle n'en est pas prévenue" in alice.dialogs[0]
    expect(alice.locator("#profile-card-block")).to_have_text("Débloquer")
    clean(alice, f"{size} card of someone blocked")
    alice.locator("#profile-card-close").click()
    # ...and, as it said, his messages are folded in the public room.
    placeholder = message(alice, "Bonjour le salon").locator(".reveal")
    expect(placeholder).to_have_text("Message de bob (personne bloquée) : afficher")
    expect(message(alice, "Bonjour le salon").locator(".message-body")).to_be_hidden()

    # bob is not told: his open conversation closes with neutral words, history kept.
    expect(bob_dm.locator("#chat-status")).to_have_text(
        "Cette conversation est fermée : l'historique reste lisible."
    )
    expect(bob_dm.locator("main h1")).not_to_have_text("Accès refusé")
    expect(message(bob_dm, "Notre échange privé")).to_be_visible()
    expect(bob_dm.locator("#composer-body")).to_be_disabled()
    bob_dm.reload()
    expect(bob_dm.locator("#closed-note")).to_have_text(
        "Cette conversation est fermée : l'historique reste lisible."
    )
    expect(message(bob_dm, "Notre échange privé")).to_be_visible()
    expect(bob_dm.locator("#unblock-button")).to_have_count(0)
    clean(bob_dm, f"{size} closed conversation, blocked side")

    # alice keeps her history too, and may lift the block from the conversation.
    alice_dm = tab(alice.context)
    alice_dm.goto(asgi_server.url + "/dm/bob/")
    expect(message(alice_dm, "Notre échange privé")).to_be_visible()
    expect(alice_dm.locator("#closed-note")).to_contain_text("Vous bloquez bob")
    clean(alice_dm, f"{size} closed conversation, blocker side")
    alice_dm.locator("#unblock-button").click()
    expect(alice_dm.locator("#chat-status")).to_have_text("Connecté")
    expect(alice_dm.locator("#block-button")).to_be_visible()

    # The room's tab, reloaded, unfolds him; blocked again from the card, unblocked there.
    alice.reload()
    expect(message(alice, "Bonjour le salon").locator(".reveal")).to_have_count(0)
    alice.locator("#messages .message-author", has_text="bob").first.click()
    alice.locator("#profile-card-block").click()
    expect(message(alice, "Bonjour le salon").locator(".reveal")).to_have_count(1)
    alice.locator("#profile-card-block").click()  # "Débloquer"
    expect(alice.locator("#profile-card-block")).to_have_text("Bloquer")
    expect(alice.locator("#profile-card-status")).to_have_text("")
    expect(message(alice, "Bonjour le salon").locator(".reveal")).to_have_count(0)

    # And from the profile page's list.
    alice.locator("#profile-card-block").click()
    profile = tab(alice.context)
    profile.goto(asgi_server.url + "/accounts/profile/")
    expect(profile.locator("#blocked-list li")).to_have_text(["bob Débloquer"])
    profile.get_by_role("button", name="Débloquer bob").click()
    expect(profile.locator("#blocked-list li")).to_have_text(["Personne."])
    clean(profile, f"{size} profile")


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_report_dialog_starts_blank_and_quotes_the_message(
    people, asgi_server, new_context, size
):
    alice = open_as(new_context, asgi_server, people["alice"], VIEWPORTS[size])
    # The dialog's code comes only when needed (the page budget).
    assert alice.evaluate(
        "!performance.getEntriesByType('resource').some(e => e.name.includes('report-dialog'))"
    )
    message(alice, "Bonjour le salon").locator(".report-button").click()
    dialog = alice.locator("#report-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".report-quote figcaption")).to_have_text("Message de bob :")
    expect(dialog.locator(".report-quote blockquote")).to_have_text("Bonjour le salon")
    expect(dialog.locator("#report-category")).to_have_value("")
    clean(alice, f"{size} report dialog")
    dialog.locator(".report-send").click()
    expect(dialog.locator(".report-error")).to_have_text("Choisissez le motif du signalement.")
    expect(dialog.locator("#report-category")).to_be_focused()
    expect(dialog.locator("#report-category")).to_have_attribute("aria-invalid", "true")
    dialog.locator("#report-category").select_option("spam")
    dialog.locator(".report-send").click()
    expect(dialog.locator(".report-done")).to_be_visible()
    # A profile report has nothing to quote.
    dialog.locator(".report-cancel").click()
    alice.locator("#messages .message-author", has_text="bob").first.click()
    alice.locator("#profile-card-report").click()
    expect(dialog.locator(".report-quote")).to_be_hidden()
    expect(dialog.locator("#report-category")).to_have_value("")


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_moderate_dialog_starts_blank(people, asgi_server, new_context, size):
    page = open_as(new_context, asgi_server, people["moderator"], VIEWPORTS[size])
    message(page, "Bonjour le salon").locator(".moderate-button").click()
    dialog = page.locator("#moderate-dialog")
    expect(dialog.locator("input[name=remove]")).not_to_be_checked()
    expect(dialog.locator("#moderate-kind")).to_have_value("")
    expect(dialog.locator("#moderate-ground")).to_have_value("")
    dialog.locator("#moderate-reason").fill("Hors sujet.")
    dialog.locator(".moderate-send").click()
    expect(dialog.locator(".moderate-error")).to_have_text(
        "Choisissez une mesure : supprimer le message, sanctionner l\u2019auteur, ou les deux."
    )
    dialog.locator("input[name=remove]").check()
    dialog.locator(".moderate-send").click()
    expect(dialog.locator(".moderate-error")).to_have_text(
        "Choisissez le fondement de la décision."
    )
    clean(page, f"{size} moderate dialog")
    dialog.locator("#moderate-ground").select_option("terms_spam")
    dialog.locator(".moderate-send").click()
    expect(dialog.locator(".moderate-done")).to_be_visible()
    expect(page.locator("#messages li.message", has_text="Bonjour le salon")).to_have_count(0)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_a_newcomer_finds_a_short_way_in(people, asgi_server, new_context, size):
    page = open_as(
        new_context, asgi_server, people["nouveau"], VIEWPORTS[size], path="/rooms/", ready=False
    )
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    nav = page.locator(".site-nav")
    expect(nav).not_to_contain_text("Mes décisions")
    expect(nav.get_by_role("link", name="Salons")).to_be_visible()
    links = nav.locator("li:visible")
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}
    assert len(tops) == 1, f"the navigation wraps onto {len(tops)} lines"
    # On that one line by fitting it, not by scrolling inside itself.
    hidden = nav.locator("ul").evaluate("list => list.scrollWidth - list.clientWidth")
    assert hidden <= 0, f"the navigation scrolls inside itself by {hidden}px"
    if size == "phone":
        expect(nav.locator(".logout")).to_be_hidden()
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 110, header
    else:
        expect(nav.get_by_role("button", name="Se déconnecter")).to_be_visible()
    clean(page, f"{size} rooms")
    # The icons exist where browsers look for them.
    for path in ("/favicon.ico", "/apple-touch-icon.png"):
        assert page.request.get(asgi_server.url + path).status == 200
    # The whole card leads into the room, not only its title.
    card = page.locator("#room-directory > li").first
    box = card.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 8)
    page.wait_for_url("**/rooms/general/")
    expect(page.locator("#chat-status")).to_have_text("Connecté")
    assert missing == []
