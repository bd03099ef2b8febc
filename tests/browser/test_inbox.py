"""The inbox in real browsers, against the live daphne (issue 18 item 2): the
conversations list follows new messages live (latest message, unread count,
order), a time reads the same in a room and in the list (the reader's zone,
not the server's), the navigation's counts follow on pages without a socket of
their own and on the room page, and a contact request turns accepted live on
its sender's page.

Everything in the database is set up before the browser starts (Django refuses
synchronous queries while Playwright's event loop runs); afterwards the people
act through their pages only.
"""

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Far from the server's zone (settings.TIME_ZONE), so that a time rendered in
# the server's zone would not match.
READER_ZONE = "America/Vancouver"


@dataclass
class People:
    sessions: dict[str, str]


@pytest.fixture
def people(transactional_db, make_user, asgi_server) -> People:
    from rooms import actions
    from rooms.models import RoomKind

    actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="general", name="Général")
    users = {name: make_user(name) for name in ("alice", "bob", "carol", "dora")}
    # Bob already talks with Alice and with Carol (requests accepted).
    for friend in ("alice", "carol"):
        room = actions.do_open_direct_room(users["bob"], actor=users[friend])
        actions.do_post_message(room, f"Salut, c'est {friend}", actor=users[friend])
        actions.do_accept_contact_request(room.contact_request, actor=users["bob"])
        actions.do_mark_room_read(room, actor=users["bob"])
    sessions = {}
    for name, user in users.items():
        actions.do_mark_notifications_read(actor=user)  # a clean slate
        client = Client()
        client.force_login(user)
        sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return People(sessions)


def open_as(new_context, server, people: People, name: str, path: str, **options):
    context = new_context(timezone_id=READER_ZONE, **options)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": people.sessions[name], "url": server.url}]
    )
    page = context.new_page()
    page.csp_violations = csp_violations(page)
    page.goto(server.url + path)
    return page


def connected(page) -> None:
    expect(page.locator("#chat-status")).to_have_text("Connecté")


def send(page, text: str) -> None:
    page.locator("#composer-body").fill(text)
    page.locator("#composer-body").press("Enter")
    expect(page.locator("#messages .message-body").last).to_have_text(text)


def test_the_list_follows_new_messages_live_with_the_rooms_times(people, asgi_server, new_context):
    bob = open_as(new_context, asgi_server, people, "bob", "/conversations/")
    rows = bob.locator("#conversation-list > li")
    expect(rows).to_have_count(2)
    alice_row = rows.filter(has_text="alice")
    expect(alice_row.locator(".unread")).to_be_hidden()

    alice = open_as(new_context, asgi_server, people, "alice", "/dm/bob/")
    connected(alice)
    send(alice, "Tu as vu le <b>match</b> ?")
    expect(alice_row.locator(".conversation-last")).to_have_text(
        "alice : Tu as vu le <b>match</b> ?"
    )
    expect(alice_row.locator(".unread")).to_have_text("1 non lu")
    expect(rows.first).to_contain_text("alice")

    carol = open_as(new_context, asgi_server, people, "carol", "/dm/bob/")
    connected(carol)
    send(carol, "Coucou")
    expect(rows.first).to_contain_text("Coucou")  # the latest activity first
    expect(rows.nth(1)).to_contain_text("alice")
    # The navigation counts both, in the link's name too.
    expect(
        bob.get_by_role("link", name=re.compile(r"^Conversations.*2 messages non lus"))
    ).to_be_visible()

    # One time zone and one format: the list and the room show the same time,
    # the reader's (not the server's), and the same full date on hover.
    listed = alice_row.locator(".conversation-time")
    listed_text, listed_title = listed.text_content(), listed.get_attribute("title")
    room = bob.context.new_page()
    room.csp_violations = csp_violations(room)
    room.goto(asgi_server.url + "/dm/alice/")
    shown = room.locator("#messages .message-time").last
    expect(shown).to_have_text(listed_text)
    assert shown.get_attribute("title") == listed_title
    expected = room.evaluate(
        """(iso) => new Intl.DateTimeFormat("fr", {hour: "2-digit", minute: "2-digit",
               timeZone: "America/Vancouver"}).format(new Date(iso))""",
        shown.get_attribute("datetime"),
    )
    assert listed_text == expected
    # Served by the page itself (not the live update), the time is the same too.
    bob.reload()
    expect(
        bob.locator("#conversation-list > li", has_text="carol").locator(".conversation-time")
    ).to_be_visible()
    expect(
        bob.locator("#conversation-list > li", has_text="alice").locator(".conversation-time")
    ).to_have_text(listed_text)
    # Reading the conversation clears its count, in the list and the navigation.
    expect(
        bob.locator("#conversation-list > li", has_text="alice").locator(".unread")
    ).to_be_hidden()
    expect(
        bob.get_by_role("link", name=re.compile(r"^Conversations.*1 message non lu\)"))
    ).to_be_visible()
    assert bob.csp_violations == [] and room.csp_violations == []


def test_a_request_turns_accepted_live_and_the_badges_follow(people, asgi_server, new_context):
    dora = open_as(new_context, asgi_server, people, "dora", "/dm/alice/")
    dora.get_by_role("button", name="Démarrer la conversation").click()
    dora.wait_for_url("**/dm/alice/")
    connected(dora)
    note = dora.locator("#awaiting-note")
    expect(note).to_contain_text("attend une réponse")

    # Alice is on a page with no socket of its own: the badge follows all the same.
    alice = open_as(new_context, asgi_server, people, "alice", "/rooms/")
    conversations = alice.locator(".site-nav [data-inbox-count=conversations]")
    expect(conversations).to_be_hidden()
    send(dora, "Bonjour Alice, on se connaît du club")
    expect(conversations).to_have_text("1")
    expect(
        alice.get_by_role("link", name=re.compile(r"^Conversations \(1 demande de contact\)"))
    ).to_be_visible()
    bell = alice.locator(".site-nav [data-inbox-count=notifications]")
    expect(bell).to_have_text("1")  # "dora souhaite vous écrire"

    alice.get_by_role("link", name=re.compile(r"^Conversations")).click()
    request = alice.locator(".request")
    expect(request.locator(".request-message")).to_have_text("Bonjour Alice, on se connaît du club")
    request.get_by_role("button", name="Accepter").click()
    alice.wait_for_url("**/dm/dora/")

    # Dora's page says so at once, and her notifications count it.
    expect(note).to_have_text("Votre demande de contact est acceptée : vos messages sont remis.")
    dora_bell = dora.get_by_role(
        "link", name=re.compile(r"^Notifications \(1 notification non lue\)")
    )
    expect(dora_bell).to_be_visible()
    dora_bell.click()
    item = dora.locator("#notification-list .notification").first
    expect(item).to_contain_text("alice a accepté votre demande de contact")
    item.get_by_role("button").click()
    dora.wait_for_url("**/dm/alice/")
    expect(dora.locator(".site-nav [data-inbox-count=notifications]")).to_be_hidden()
    assert dora.csp_violations == [] and alice.csp_violations == []


def test_mute_then_leave_a_private_room(people, asgi_server, new_context):
    bob = open_as(new_context, asgi_server, people, "bob", "/rooms/")
    bob.get_by_label("Nom du salon privé").fill("Club lecture")
    bob.get_by_role("button", name="Créer", exact=True).click()
    bob.wait_for_url("**/rooms/club-lecture*/")
    bob.locator(".chat-options summary").click()
    bob.get_by_role("button", name="Mettre en sourdine").click()
    expect(bob.locator(".flash")).to_contain_text("en sourdine")
    bob.locator(".chat-options summary").click()
    bob.get_by_role("link", name="Quitter le salon").click()
    expect(bob.locator("h1")).to_contain_text("Quitter « Club lecture » ?")
    expect(bob.locator("main")).to_contain_text("vous l'archivez")
    bob.get_by_role("button", name="Quitter et archiver").click()
    bob.wait_for_url("**/rooms/")
    expect(bob.locator(".flash")).to_contain_text("Vous avez quitté et archivé « Club lecture ».")
    expect(bob.locator("#main")).not_to_contain_text("Club lecture")
