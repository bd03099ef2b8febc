"""The conversation features in real browsers, on a phone (360 px) and a
desktop (1280 px): reply, mention, edit, delete, react, typing, search and
ignore, by keyboard where the feature is used that way, axe-core clean.

Everything in the database is set up before the browser starts; after that
the test only looks at what the pages show.
"""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.axe import blocking, describe, run_axe
from tests.browser.conftest import csp_violations
from tests.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def sessions(transactional_db, make_user, asgi_server) -> dict[str, str]:
    from rooms import actions
    from rooms.models import RoomKind

    room = actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="general", name="Général")
    result = {}
    users = {name: make_user(name) for name in ("alice", "bob", "carol")}
    actions.do_post_message(room, "On va au cinéma ce soir ?", actor=users["carol"])
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        result[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return result


def open_as(new_context, server, session: str, viewport: dict, path="/rooms/general/"):
    context = new_context(viewport=viewport)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}]
    )
    page = context.new_page()
    page.dialogs = []
    page.accept_dialogs = True

    def answer(dialog):
        page.dialogs.append(dialog.message)
        dialog.accept() if page.accept_dialogs else dialog.dismiss()

    page.on("dialog", answer)
    page.csp_violations = csp_violations(page)
    page.goto(server.url + path)
    expect(page.locator("#chat-status")).to_have_text("Connecté")
    return page


def send(page, text: str) -> None:
    page.locator("#composer-body").fill(text)
    page.locator("#composer-body").press("Enter")


def message(page, text: str):
    return page.locator("#messages li.message", has_text=text)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_reply_mention_edit_delete_react_typing(sessions, asgi_server, new_context, size):
    viewport = VIEWPORTS[size]
    alice = open_as(new_context, asgi_server, sessions["alice"], viewport)
    bob = open_as(new_context, asgi_server, sessions["bob"], viewport)

    # Typing: bob sees "alice écrit…" while she types.
    alice.locator("#composer-body").press_sequentially("Salut")
    expect(bob.locator("#typing")).to_have_text("alice écrit…")
    alice.locator("#composer-body").press("Enter")
    expect(message(bob, "Salut")).to_be_visible()
    expect(bob.locator("#typing")).to_have_text("")

    # Reply with a mention, by keyboard: the reply button, then @ autocompletion.
    message(bob, "Salut").get_by_role("button", name="Répondre à alice").click()
    expect(bob.locator("#reply-bar")).to_contain_text("En réponse à alice")
    bob.locator("#composer-body").press_sequentially("@al")
    expect(bob.locator("#mention-suggestions li")).to_have_text(["alice"])
    bob.locator("#composer-body").press("Enter")  # completes, does not send
    expect(bob.locator("#composer-body")).to_have_value("@alice ")
    bob.locator("#composer-body").press_sequentially("ça va ?")
    bob.locator("#composer-body").press("Enter")
    reply = message(alice, "ça va ?")
    expect(reply.locator(".reply-quote")).to_contain_text("alice Salut")
    expect(reply).to_have_class("message mentions-me")
    expect(reply.locator(".mention.me")).to_have_text("@alice")

    # React: alice adds 👍 to bob's reply; both see the count, and who reacted.
    reply.get_by_role("button", name="Réagir", exact=True).click()
    alice.get_by_role("button", name="Réagir avec 👍").click()
    bob_reply = message(bob, "ça va ?")
    expect(bob_reply.locator("button.reaction")).to_have_text("👍 1")
    bob_reply.locator("button.reaction").hover()
    expect(bob_reply.locator(".reactors")).to_have_text("👍 alice")
    expect(reply.locator("button.reaction")).to_have_attribute("aria-pressed", "true")

    # Edit: bob fixes his message; alice sees the new text marked "modifié".
    bob_reply.get_by_role("button", name="Modifier votre message").click()
    editor = bob_reply.locator("textarea")
    editor.fill("@alice ça va bien ?")
    editor.press("Enter")
    edited = message(alice, "ça va bien ?")
    expect(edited.locator(".edited")).to_be_visible()
    expect(edited.locator(".edited")).to_have_text("modifié")

    # Delete: alice deletes her first message (after confirming); the reply's
    # quote says it is gone, on both sides.
    message(alice, "Salut").get_by_role("button", name="Supprimer votre message").click()
    expect(bob.locator("#messages .message.deleted")).to_have_count(1)
    expect(message(bob, "ça va bien ?").locator(".reply-quote")).to_contain_text("Message supprimé")

    # The page stays axe-clean, and fits the screen.
    violations = blocking(run_axe(bob))
    assert not violations, describe(violations, where=f"{size}: ")
    assert bob.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert not alice.csp_violations and not bob.csp_violations


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_search_links_and_ignore(sessions, asgi_server, new_context, size):
    viewport = VIEWPORTS[size]
    alice = open_as(new_context, asgi_server, sessions["alice"], viewport)
    carol = open_as(new_context, asgi_server, sessions["carol"], viewport)

    # Search, accents ignored, the match highlighted.
    alice.locator(".chat-search summary").click()
    alice.locator("#search-q").fill("cinema")
    alice.locator("#search-q").press("Enter")
    expect(alice.locator("#search-results mark")).to_have_text(["cinéma"])

    # Links: clickable, safe rel, a warning before leaving the site.
    send(carol, "Regardez https://example.org/page.")
    link = message(alice, "Regardez").locator("a")
    expect(link).to_have_attribute("href", "https://example.org/page")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener noreferrer")
    # Leaving the site asks first; dismissed, nothing opens.
    alice.accept_dialogs = False
    link.click()
    expect(alice.locator("#composer-body")).to_be_visible()
    assert alice.dialogs == ["Vous quittez Chatsite pour example.org. Continuer ?"]
    assert len(alice.context.pages) == 1
    alice.accept_dialogs = True

    # Ignore carol from her profile card: her messages fold to a placeholder.
    # (Her two messages are grouped: the first one carries her name.)
    alice.locator("#messages .message-author", has_text="carol").first.click()
    alice.locator("#profile-card-ignore").click()
    expect(alice.locator("#profile-card-ignore")).to_have_text("Ne plus ignorer")
    alice.locator("#profile-card-close").click()
    placeholder = message(alice, "Regardez").locator(".reveal")
    expect(placeholder).to_have_text("Message de carol (personne ignorée) : afficher")
    expect(message(alice, "Regardez").locator(".message-body")).to_be_hidden()
    placeholder.click()
    expect(message(alice, "Regardez").locator(".message-body")).to_be_visible()

    # Her typing and mentions no longer reach alice.
    carol.locator("#composer-body").press_sequentially("@alice coucou")
    carol.locator("#composer-body").press("Enter")
    expect(message(alice, "coucou").locator(".reveal")).to_be_visible()
    expect(alice.locator("#typing")).to_have_text("")

    # The profile page lists her, and unignores her.
    profile = alice.context.new_page()
    profile.goto(asgi_server.url + "/accounts/profile/")
    expect(profile.locator("#ignored-list li")).to_have_text(["carol Ne plus ignorer"])
    profile.get_by_role("button", name="Ne plus ignorer carol").click()
    expect(profile.locator("#ignored-list li")).to_have_text(["Personne."])
    # The room, open in the other tab, shows her messages again at once.
    expect(message(alice, "coucou").locator(".reveal")).to_have_count(0)
    expect(message(alice, "coucou").locator(".message-body")).to_be_visible()
    violations = blocking(run_axe(profile))
    assert not violations, describe(violations, where=f"{size} profile: ")
    violations = blocking(run_axe(alice))
    assert not violations, describe(violations, where=f"{size}: ")
    assert alice.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_reply_jumps_to_an_original_not_loaded_yet_and_the_pill_brings_back(
    sessions, asgi_server, new_context, size
):
    """A reply to a message older than the first history page: its quote loads
    the history back to the original and focuses it; scrolled up there, a new
    message shows the "nouveaux messages" pill, which goes back to the latest."""
    from django.contrib.auth import get_user_model

    from rooms import actions
    from rooms.models import Message, Room

    def setup():
        room = Room.objects.get(slug="general")
        carol = get_user_model().objects.get(username="carol")
        original = Message.objects.get(room=room, body="On va au cinéma ce soir ?")
        # Filler straight into the table: the sender's rate limit is not the point here.
        Message.objects.bulk_create(
            Message(room=room, author=carol, body=f"bavardage {n}") for n in range(80)
        )
        bob = get_user_model().objects.get(username="bob")
        actions.do_post_message(room, "Oui, à 20 h !", actor=bob, reply_to=original.pk)
        return original.pk

    # Outside Playwright's event loop, where Django allows a synchronous query.
    original_id = in_thread(setup)

    viewport = VIEWPORTS[size]
    alice = open_as(new_context, asgi_server, sessions["alice"], viewport)
    original = alice.locator(f'#messages li[data-id="{original_id}"]')
    expect(message(alice, "Oui, à 20 h !")).to_be_visible()
    expect(original).to_have_count(0)  # older than the first page of history

    message(alice, "Oui, à 20 h !").locator(".reply-quote").click()
    expect(original).to_be_in_viewport()
    expect(original).to_be_focused()
    expect(alice.locator("#new-messages-pill")).to_be_hidden()

    # Scrolled far up: a live message shows the pill instead of moving the view.
    bob = open_as(new_context, asgi_server, sessions["bob"], viewport)
    send(bob, "Je réserve les places")
    pill = alice.locator("#new-messages-pill")
    expect(pill).to_be_visible()
    expect(original).to_be_in_viewport()
    pill.click()
    expect(message(alice, "Je réserve les places")).to_be_in_viewport()
    expect(pill).to_be_hidden()
    expect(alice.locator("#composer-body")).to_be_focused()
    assert not alice.csp_violations and not bob.csp_violations
