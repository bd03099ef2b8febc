"""Issue 18, item 4: a block does what its words say (docs/protocol.md, "Blocks").

The blocker keeps the conversation's history and may lift the block from the page;
the blocked person reads only that the conversation is closed; the people one blocks
have their messages folded in public rooms (the room page's configuration)."""

import json

import pytest
from django.test import Client

from moderation.models import Report
from rooms import actions
from rooms.models import ContactRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.MESSAGE_RATE_LIMIT = "off"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def talking(make_user):
    """alice and bob in an accepted conversation with one message each; then bob blocks alice."""
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    actions.do_accept_contact_request(ContactRequest.objects.get(room=room), actor=bob)
    actions.do_post_message(room, "bonjour bob", actor=alice)
    actions.do_post_message(room, "bonjour alice", actor=bob)
    actions.do_block_user(alice, actor=bob)
    return alice, bob, room


def test_both_keep_the_history_of_a_closed_conversation(talking):
    alice, bob, room = talking
    for user in (alice, bob):
        response = client_for(user).get(f"/api/rooms/{room.slug}/messages/")
        assert response.status_code == 200
        assert [m["body"] for m in response.json()["messages"]] == ["bonjour bob", "bonjour alice"]


def test_the_blocker_reads_the_block_and_may_lift_it_from_the_page(talking):
    _alice, bob, _room = talking
    page = client_for(bob).get("/dm/alice/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Vous bloquez alice : la conversation est fermée" in html
    assert 'id="unblock-button"' in html and 'id="block-button"' not in html
    assert " data-closed" in html


def test_the_blocked_person_reads_only_that_the_conversation_is_closed(talking):
    alice, _bob, _room = talking
    page = client_for(alice).get("/dm/bob/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="closed-note">Cette conversation est fermée : l\'historique reste lisible.<' in html
    assert "Vous bloquez bob" not in html and "alice" not in html.split('id="closed-note"')[1][:200]
    assert 'id="unblock-button"' not in html and 'id="block-button"' not in html
    # Her card of him is that of anyone who takes no direct message from her.
    card = client_for(alice).get("/api/users/bob/card/").json()
    assert (card["blocked"], card["can_message"]) == (False, False)


def test_the_blocker_can_still_report_a_message_of_the_closed_conversation(talking):
    alice, bob, room = talking
    message = room.messages.get(author=alice)
    client = client_for(bob)
    client.get("/decisions/")
    response = client.post(
        "/api/reports/",
        json.dumps({"message": message.pk, "category": "harassment"}),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert response.status_code == 201
    assert Report.objects.get().target_message == message


def test_lifting_the_block_opens_the_conversation_again(talking):
    alice, bob, room = talking
    assert actions.do_unblock_user(alice, actor=bob)
    html = client_for(bob).get("/dm/alice/").content.decode()
    assert 'id="block-button"' in html and " data-closed" not in html
    assert actions.do_post_message(room, "on reprend", actor=alice)


def test_the_room_page_folds_the_people_one_blocks(talking, make_room):
    _alice, bob, _room = talking
    room = make_room()
    page = client_for(bob).get(f"/rooms/{room.slug}/")
    config = json.loads(page.context["chat_features"] and json.dumps(page.context["chat_features"]))
    assert config["blocked"] == ["alice"]
    strings = page.context["chat_strings"]
    assert "repliés dans les salons publics" in strings["block_confirm"]
    assert "Elle n'en est pas prévenue" in strings["block_confirm"]
