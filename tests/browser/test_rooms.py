"""Two people chat in real browsers: a public room, then a direct room.

Everything in the database is set up before the browser starts (Django
refuses synchronous queries while Playwright's event loop runs); after that
the test only looks at what the pages show.
"""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations
from tests.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = "<img src=x onerror=alert(1)>"


@dataclass
class Person:
    username: str
    session: str


@pytest.fixture
def people(transactional_db, make_user, asgi_server) -> dict[str, Person]:
    from rooms import actions
    from rooms.models import RoomKind

    actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="general", name="Général")
    result = {}
    for name in ("alice", "bob"):
        user = make_user(name)
        client = Client()
        client.force_login(user)
        result[name] = Person(name, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return result


def open_as(new_context, server, person: Person, path: str):
    context = new_context()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": person.session, "url": server.url}]
    )
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.csp_violations = csp_violations(page)
    page.goto(server.url + path)
    return page


def connected(page) -> None:
    expect(page.locator("#chat-status")).to_have_text("Connecté")


def send(page, text: str) -> None:
    page.locator("#composer-body").fill(text)
    page.locator("#composer-body").press("Enter")


def bodies(page):
    return page.locator("#messages .message-body")


def test_two_people_chat_in_a_public_room(people, asgi_server, new_context):
    alice = open_as(new_context, asgi_server, people["alice"], "/rooms/general/")
    bob = open_as(new_context, asgi_server, people["bob"], "/rooms/general/")
    connected(alice)
    connected(bob)
    expect(alice.locator("#presence li")).to_have_text(["alice", "bob"])

    send(alice, "Bonjour Bob")
    expect(bodies(bob)).to_have_text(["Bonjour Bob"])
    send(bob, XSS)
    expect(bodies(alice)).to_have_text(["Bonjour Bob", XSS])
    # Shown as text: no element was made of it, no script ran.
    assert alice.locator("#messages img").count() == 0
    assert alice.dialogs == [] and bob.dialogs == []
    assert alice.csp_violations == [] and bob.csp_violations == []

    # Bob's socket closes; what Alice says meanwhile reaches him once he is back.
    bob.evaluate("window.chatsiteChat.disconnect()")
    expect(bob.locator("#chat-status")).to_have_text("Déconnecté")
    send(alice, "Tu es parti ?")
    send(alice, "Je continue sans toi")
    expect(bodies(alice)).to_have_count(4)
    bob.evaluate("window.chatsiteChat.connect()")
    connected(bob)
    expect(bodies(bob)).to_have_text(["Bonjour Bob", XSS, "Tu es parti ?", "Je continue sans toi"])
    send(bob, "Me revoilà")
    expect(bodies(alice)).to_have_count(5)
    expect(bodies(bob)).to_have_count(5)  # nothing twice

    # A reload shows the same history, from the API this time.
    bob.reload()
    connected(bob)
    expect(bodies(bob)).to_have_count(5)
    expect(bodies(bob).nth(1)).to_have_text(XSS)


def test_two_people_chat_in_a_direct_room(people, asgi_server, new_context):
    # No conversation yet: the page offers to start one, with a POST.
    alice = open_as(new_context, asgi_server, people["alice"], "/dm/bob/")
    alice.get_by_role("button", name="Démarrer la conversation").click()
    alice.wait_for_url("**/dm/bob/")
    connected(alice)
    send(alice, "Salut, c'est Alice")
    expect(bodies(alice)).to_have_text(["Salut, c'est Alice"])

    # Bob sees a contact request, with the first message, and accepts it.
    bob = open_as(new_context, asgi_server, people["bob"], "/conversations/")
    request = bob.locator(".request")
    expect(request).to_contain_text("alice")
    expect(request.locator(".request-message")).to_have_text("Salut, c'est Alice")
    request.get_by_role("button", name="Accepter").click()
    bob.wait_for_url("**/dm/alice/")
    connected(bob)
    expect(bodies(bob)).to_have_text(["Salut, c'est Alice"])

    send(bob, f"Enchanté ! {XSS}")
    expect(bodies(alice)).to_have_text(["Salut, c'est Alice", f"Enchanté ! {XSS}"])
    assert alice.locator("#messages img").count() == 0
    send(alice, "On continue ici")
    expect(bodies(bob)).to_have_count(3)
    assert alice.dialogs == [] and bob.dialogs == []


@pytest.fixture
def conversation(people):
    """Alice and Bob already talk in a direct room (request accepted)."""
    from django.contrib.auth import get_user_model

    from rooms import actions
    from rooms.models import ContactRequest

    users = get_user_model().objects
    alice, bob = users.get(username="alice"), users.get(username="bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    actions.do_accept_contact_request(ContactRequest.objects.get(room=room), actor=bob)
    return room


def test_unread_counts_update_live_and_survive_a_reload(
    people, conversation, asgi_server, new_context
):
    bob = open_as(new_context, asgi_server, people["bob"], "/conversations/")
    row = bob.locator("#conversation-list li", has_text="alice")
    expect(row.locator(".unread")).to_be_hidden()
    alice = open_as(new_context, asgi_server, people["alice"], "/dm/bob/")
    connected(alice)
    send(alice, "Tu as vu ?")
    expect(row.locator(".unread")).to_have_text("1 non lu")
    send(alice, "Réponds !")
    expect(row.locator(".unread")).to_have_text("2 non lus")
    bob.reload()
    expect(bob.locator("#conversation-list li", has_text="alice").locator(".unread")).to_have_text(
        "2 non lus"
    )
    # Reading the conversation clears the count.
    bob.locator("#conversation-list a", has_text="alice").click()
    expect(bodies(bob)).to_have_text(["Tu as vu ?", "Réponds !"])
    bob.goto(asgi_server.url + "/conversations/")
    expect(bob.locator("#conversation-list li", has_text="alice").locator(".unread")).to_be_hidden()


def test_a_message_whose_notification_was_lost_is_repaired_from_the_history(
    people, asgi_server, new_context
):
    """The layer is a notifier, the database the truth: a message stored without
    its live frame (a notification lost between processes) still shows up."""
    from django.contrib.auth import get_user_model

    from rooms.models import Message, Room

    alice = open_as(new_context, asgi_server, people["alice"], "/rooms/general/")
    bob = open_as(new_context, asgi_server, people["bob"], "/rooms/general/")
    connected(alice)
    connected(bob)

    def store_silently() -> None:
        # Straight into the database: no frame is ever sent for it.
        room = Room.objects.get(slug="general")
        bob_user = get_user_model().objects.get(username="bob")
        Message.objects.create(room=room, author=bob_user, body="parti sans prévenir")

    # Outside Playwright's event loop, where Django allows a synchronous query.
    in_thread(store_silently)
    send(bob, "et celui-ci arrive en direct")
    expect(bodies(alice)).to_have_text(
        ["parti sans prévenir", "et celui-ci arrive en direct"], timeout=15_000
    )
