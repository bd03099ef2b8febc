import pytest

from rooms import actions, queries
from rooms.models import ContactRequest, RoomKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.MESSAGE_RATE_LIMIT = "off"


def test_unread_counts_only_others_messages_after_the_read_mark(make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    actions.do_accept_contact_request(ContactRequest.objects.get(room=room), actor=bob)
    actions.do_post_message(room, "a1", actor=alice)
    actions.do_post_message(room, "b1", actor=bob)  # writing marks what came before as read
    assert [c.unread for c in queries.conversations(bob)] == [0]
    second = actions.do_post_message(room, "a2", actor=alice).message
    actions.do_post_message(room, "a3", actor=alice)
    assert [c.unread for c in queries.conversations(bob)] == [2]
    actions.do_delete_message(second, actor=alice)
    assert [c.unread for c in queries.conversations(bob)] == [1]
    assert [c.unread for c in queries.conversations(alice)] == [0]
    [conversation] = queries.conversations(alice)
    assert (conversation.name, conversation.partner.username) == ("bob", bob.username)


def test_conversations_latest_first_and_held_requests_left_out(make_user, make_room):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    club = make_room(RoomKind.PRIVATE, owner=alice, name="Club")
    with_bob = actions.do_open_direct_room(bob, actor=alice)
    actions.do_post_message(with_bob, "salut", actor=alice)
    actions.do_post_message(club, "réunion", actor=alice)
    assert [c.room for c in queries.conversations(alice)] == [club, with_bob]
    assert queries.conversations(bob) == []  # a request he has not accepted
    [request] = queries.pending_contact_requests(bob)
    assert request.first_message.body == "salut"
    actions.do_open_direct_room(bob, actor=carol)  # no message yet: no request shown
    assert len(queries.pending_contact_requests(bob)) == 1


def test_messages_page_and_backfill(make_user, public_room):
    alice = make_user()
    ids = [actions.do_post_message(public_room, str(i), actor=alice).message.id for i in range(5)]
    assert [m.body for m in queries.messages_page(public_room, limit=2)] == ["3", "4"]
    assert [m.id for m in queries.messages_page(public_room, after=ids[1])] == ids[2:]
    assert [m.body for m in queries.messages_page(public_room, before=ids[4], limit=2)] == [
        "2",
        "3",
    ]


def test_find_user_ignores_letter_case(make_user):
    bob = make_user("Bob")
    assert queries.find_user("bob") == bob
    assert queries.find_user("BOB") == bob
    assert queries.find_user("bobby") is None
    make_user("eve", is_active=False)
    assert queries.find_user("eve") is None
