"""The inbox (issue 18 item 2): the conversations list with its latest message,
unread counts and order; the navigation's counts; muting and leaving a room;
in-app notifications; the live "request accepted" event."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import Refused
from rooms import actions, queries
from rooms.models import (
    Message,
    Notification,
    NotificationKind,
    Room,
    RoomKind,
    RoomMembership,
    RoomRole,
    user_group,
)
from rooms.protocol import CloseCode

pytestmark = pytest.mark.django_db


def _talking(alice, bob) -> Room:
    """A direct conversation that bob accepted."""
    room = actions.do_open_direct_room(bob, actor=alice)
    actions.do_post_message(room, "Bonjour !", actor=alice)
    actions.do_accept_contact_request(room.contact_request, actor=bob)
    return room


def _private(make_room, owner, *members) -> Room:
    room = make_room(RoomKind.PRIVATE, owner=owner)
    for member in members:
        RoomMembership.objects.create(room=room, user=member)
    return room


# --- the conversations list ---------------------------------------------------------------


def test_the_list_shows_the_latest_visible_message_its_time_and_unread(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    room = _talking(alice, bob)
    actions.do_post_message(room, "  Tu   viens\nce soir ?  ", actor=alice)
    last = actions.do_post_message(room, "Réponds vite", actor=alice).message
    [conversation] = queries.conversations(bob)
    assert conversation.unread == 3  # with the request's "Bonjour !"
    assert conversation.last_message.id == last.id
    assert conversation.last_message.author == "alice"
    assert conversation.last_message.excerpt == "Réponds vite"
    assert conversation.last_message.created == last.created
    # A deleted message is never the excerpt: the one before takes its place.
    actions.do_delete_own_message(last.id, actor=alice)
    [conversation] = queries.conversations(bob)
    assert conversation.last_message.excerpt == "Tu viens ce soir ?"  # on one line
    assert conversation.unread == 2


def test_the_excerpt_is_cut_on_one_line():
    assert queries.excerpt("a\n\nb") == "a b"
    cut = queries.excerpt("x" * 300)
    assert len(cut) == queries.EXCERPT_LENGTH and cut.endswith("…")


def test_the_list_is_ordered_by_latest_activity(make_user, make_room):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    with_bob = _talking(alice, bob)
    with_carol = _talking(carol, alice)
    club = _private(make_room, alice, bob)
    assert queries.conversations(alice)[0].room == club  # joined last, no message yet
    actions.do_post_message(with_bob, "Encore moi", actor=bob)
    assert [c.room for c in queries.conversations(alice)] == [with_bob, club, with_carol]
    actions.do_post_message(with_carol, "Et moi", actor=carol)
    assert [c.room for c in queries.conversations(alice)] == [with_carol, with_bob, club]


def test_the_list_folds_the_text_of_someone_the_reader_blocks_or_ignores(make_user, make_room):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    club = _private(make_room, alice, bob, carol)
    actions.do_post_message(club, "Texte de carol", actor=carol)
    actions.do_ignore_user(carol, actor=alice)
    [conversation] = queries.conversations(alice)
    assert conversation.last_message.folded
    assert conversation.last_message.as_json()["excerpt"] == ""
    [for_bob] = queries.conversations(bob)
    assert not for_bob.last_message.folded
    assert for_bob.last_message.excerpt == "Texte de carol"


def test_a_request_the_reader_sent_shows_as_awaiting_until_accepted(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    actions.do_post_message(room, "Salut", actor=alice)
    [conversation] = queries.conversations(alice)
    assert conversation.awaiting_answer
    assert queries.conversations(bob) == []  # held behind the request
    actions.do_ignore_contact_request(room.contact_request, actor=bob)
    assert queries.conversations(alice)[0].awaiting_answer  # an ignore is not told
    actions.do_accept_contact_request(room.contact_request, actor=bob)
    assert not queries.conversations(alice)[0].awaiting_answer


def test_the_list_takes_two_queries_whatever_its_length(
    make_user, make_room, django_assert_max_num_queries
):
    alice = make_user("alice")
    for index in range(6):
        other = make_user(f"friend{index}")
        room = _talking(other, alice)
        actions.do_post_message(room, f"message {index}", actor=other)
        _private(make_room, alice, other)
    with django_assert_max_num_queries(2):
        found = queries.conversations(alice)
        assert len(found) == 12
        assert all(c.last_message is not None or c.room.kind == RoomKind.PRIVATE for c in found)
        assert {c.partner.username for c in found if c.partner} == {
            f"friend{index}" for index in range(6)
        }


def test_the_api_carries_the_list_fields(make_user, client_for):
    alice, bob = make_user("alice"), make_user("bob")
    room = _talking(alice, bob)
    actions.do_post_message(room, "<b>pas du HTML</b>", actor=alice)
    data = client_for(bob).get(reverse("rooms:api_conversations")).json()
    [conversation] = data["conversations"]
    assert conversation["with"] == "alice" and conversation["unread"] == 2
    assert conversation["muted"] is False and conversation["awaiting_answer"] is False
    assert conversation["last_message"]["excerpt"] == "<b>pas du HTML</b>"
    assert conversation["last_message"]["author"] == "alice"


def test_the_page_escapes_the_excerpt(make_user, client_for):
    alice, bob = make_user("alice"), make_user("bob")
    room = _talking(alice, bob)
    actions.do_post_message(room, "<script>alert(1)</script>", actor=alice)
    for name in ("rooms:conversations", "rooms:conversations_fragment"):
        page = client_for(bob).get(reverse(name)).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)" not in page


# --- the navigation's counts --------------------------------------------------------------


def test_inbox_counts_requests_invitations_unread_and_notifications(
    make_user, make_room, django_assert_max_num_queries
):
    alice, bob, carol, dora = (make_user(name) for name in ("alice", "bob", "carol", "dora"))
    room = _talking(alice, bob)
    actions.do_post_message(room, "Tu es là ?", actor=alice)
    # A request with no message yet shows nowhere; with one, it counts.
    pending = actions.do_open_direct_room(bob, actor=carol)
    assert queries.inbox_counts(bob).requests == 0
    actions.do_post_message(pending, "Bonjour bob", actor=carol)
    club = make_room(RoomKind.PRIVATE, owner=dora)
    actions.do_invite_to_room(club, bob, actor=dora)
    with django_assert_max_num_queries(2):
        counts = queries.inbox_counts(bob)
    assert counts.unread == 2 and counts.unread_direct == {"alice": 2}
    assert (counts.requests, counts.invitations) == (1, 1)
    assert counts.notifications == 3  # alice's and carol's requests, dora's invitation
    assert counts.conversations == 4


def test_the_counts_api_and_every_page_name_the_counts(make_user, client_for):
    alice, bob = make_user("alice"), make_user("bob")
    room = _talking(alice, bob)
    actions.do_post_message(room, "Ça va ?", actor=alice)
    client = client_for(bob)
    assert client.get(reverse("rooms:api_inbox")).json() == {
        "conversations": 2,
        "unread": 2,
        "unread_direct": {"alice": 2},
        "requests": 0,
        "invitations": 0,
        "notifications": 1,  # alice's request, accepted since
    }
    page = client.get(reverse("rooms:list")).content.decode()
    # The pill and, in words, the link's accessible name.
    assert 'data-inbox-count="conversations" aria-hidden="true">2</span>' in page
    assert '<span class="visually-hidden"> (2 messages non lus)</span>' in page
    assert 'id="inbox-strings"' in page


def test_the_counts_api_refuses_the_signed_out():
    response = Client().get(reverse("rooms:api_inbox"))
    assert response.status_code == 401


# --- muting --------------------------------------------------------------------------------


def test_a_muted_room_counts_nothing_and_notifies_nothing(make_user, make_room, listen):
    alice, bob = make_user("alice"), make_user("bob")
    club = _private(make_room, alice, bob)
    actions.do_set_room_muted(club, True, actor=bob)
    assert RoomMembership.objects.get(room=club, user=bob).muted
    actions.do_post_message(club, "@bob tu viens ?", actor=alice)
    [conversation] = queries.conversations(bob)
    assert conversation.muted and conversation.unread == 0
    assert queries.inbox_counts(bob).unread == 0
    assert not Notification.objects.filter(user=bob).exists()  # the mention notifies nothing
    # Unmuted: counted again, and a new mention notifies.
    actions.do_set_room_muted(club, False, actor=bob)
    assert queries.conversations(bob)[0].unread == 1
    actions.do_post_message(club, "@bob alors ?", actor=alice)
    assert Notification.objects.filter(user=bob, kind=NotificationKind.MENTION).count() == 1


def test_a_muted_public_room_shows_no_news_badge(make_user, public_room):
    alice, bob = make_user("alice"), make_user("bob")
    actions.do_join_public_room(public_room, actor=bob)
    actions.do_post_message(public_room, "Nouveau", actor=alice)
    assert queries.room_directory(bob).get(pk=public_room.pk).has_news
    actions.do_set_room_muted(public_room, True, actor=bob)
    assert not queries.room_directory(bob).get(pk=public_room.pk).has_news


def test_mute_api_and_form(make_user, make_room, client_for):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    club = _private(make_room, alice, bob)
    client = client_for(bob)
    url = reverse("rooms:api_mute", args=[club.slug])
    response = client.post(url, {"muted": True}, content_type="application/json")
    assert response.json() == {"room": club.slug, "muted": True}
    assert client.post(url, {"muted": "yes"}, content_type="application/json").status_code == 400
    # Not a member: nothing to mute.
    assert (
        client_for(carol).post(url, {"muted": True}, content_type="application/json").status_code
        == 403
    )
    form = client.post(
        reverse("rooms:mute", args=[club.slug]),
        {"muted": "0", "next": "https://evil.example/"},
    )
    assert form.status_code == 302 and form["Location"] == club.get_absolute_url()
    assert not RoomMembership.objects.get(room=club, user=bob).muted


# --- leaving -------------------------------------------------------------------------------


def test_leaving_a_public_room_closes_its_sockets(
    make_user, public_room, listen, django_capture_on_commit_callbacks
):
    bob = make_user("bob")
    actions.do_join_public_room(public_room, actor=bob)
    events = listen(user_group(bob.pk))
    with pytest.raises(Refused):
        actions.do_leave_membership(Room.objects.create(kind="public", slug="x"), actor=bob)
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.do_leave_membership(public_room, actor=bob) == "left"
    assert not RoomMembership.objects.filter(room=public_room, user=bob).exists()
    assert {"type": "user.close", "code": int(CloseCode.FORBIDDEN), "room": public_room.id} in (
        events()
    )


def test_leaving_a_private_room_as_a_member(make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    club = _private(make_room, alice, bob)
    assert actions.do_leave_membership(club, actor=bob) == "left"
    assert list(club.memberships.values_list("user__username", flat=True)) == ["alice"]


def test_an_owner_hands_over_before_leaving(make_user, make_room):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    club = _private(make_room, alice, bob)
    with pytest.raises(Refused) as refused:
        actions.do_leave_membership(club, actor=alice)
    assert refused.value.code == "invalid"
    with pytest.raises(Refused):  # only a member can take it
        actions.do_leave_membership(club, actor=alice, successor=carol)
    assert actions.do_leave_membership(club, actor=alice, successor=bob) == "handed_over"
    assert RoomMembership.objects.get(room=club, user=bob).role == RoomRole.OWNER
    assert not RoomMembership.objects.filter(room=club, user=alice).exists()
    [entry] = AuditEntry.objects.filter(event=int(AuditEvent.ROOM_OWNERSHIP_TRANSFERRED))
    assert (entry.actor_id, entry.target_id) == (alice.pk, str(club.pk))


def test_an_owner_alone_archives_by_leaving(make_user, make_room):
    alice = make_user("alice")
    club = _private(make_room, alice)
    assert actions.do_leave_membership(club, actor=alice) == "archived"
    club.refresh_from_db()
    assert club.is_archived
    assert AuditEntry.objects.filter(event=int(AuditEvent.ROOM_ARCHIVED)).exists()


def test_a_direct_conversation_is_not_left(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    room = _talking(alice, bob)
    with pytest.raises(Refused):
        actions.do_leave_membership(room, actor=alice)


def test_the_leave_page_confirms_then_leaves(make_user, make_room, client_for):
    alice, bob = make_user("alice"), make_user("bob")
    club = _private(make_room, alice, bob)
    owner = client_for(alice)
    url = reverse("rooms:leave", args=[club.slug])
    page = owner.get(url)
    assert page.status_code == 200
    assert 'name="successor"' in page.content.decode()  # the owner picks who takes it
    assert RoomMembership.objects.filter(room=club, user=alice).exists()  # GET changes nothing
    refused = owner.post(url, {"successor": "nobody"})
    assert refused.status_code == 400
    done = owner.post(url, {"successor": "bob"})
    assert done.status_code == 302 and done["Location"] == reverse("rooms:list")
    assert RoomMembership.objects.get(room=club, user=bob).role == RoomRole.OWNER
    # The API, for bob now alone and owner.
    response = client_for(bob).post(
        reverse("rooms:api_leave", args=[club.slug]), {}, content_type="application/json"
    )
    assert response.json() == {"room": club.slug, "outcome": "archived"}


# --- notifications -------------------------------------------------------------------------


def test_notifications_of_mentions_requests_acceptances_and_invitations(make_user, make_room):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room = actions.do_open_direct_room(bob, actor=alice)
    first = actions.do_post_message(room, "Bonjour bob", actor=alice).message
    actions.do_post_message(room, "Tu es là ?", actor=alice)  # only the first one tells
    actions.do_accept_contact_request(room.contact_request, actor=bob)
    club = _private(make_room, carol, alice)
    actions.do_invite_to_room(club, bob, actor=carol)
    mention = actions.do_post_message(club, "@alice regarde", actor=carol).message
    rows = set(Notification.objects.values_list("user__username", "kind", "actor__username"))
    assert rows == {
        ("bob", "contact_request", "alice"),
        ("alice", "contact_accepted", "bob"),
        ("bob", "invitation", "carol"),
        ("alice", "mention", "carol"),
    }
    assert Notification.objects.get(kind="contact_request").message_id == first.id
    # Listed while the request waits too (its room is not open to bob yet).
    dora = make_user("dora")
    waiting = actions.do_open_direct_room(bob, actor=dora)
    actions.do_post_message(waiting, "Salut bob", actor=dora)
    assert queries.notifications(bob)[0].kind == "contact_request"
    assert Notification.objects.get(kind="mention").message_id == mention.id


def test_the_list_leaves_out_blocked_people_and_deleted_messages(make_user, make_room):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    club = _private(make_room, alice, bob, carol)
    by_bob = actions.do_post_message(club, "@alice un", actor=bob).message
    actions.do_post_message(club, "@alice deux", actor=carol)
    assert [n.actor.username for n in queries.notifications(alice)] == ["carol", "bob"]
    actions.do_delete_own_message(by_bob.id, actor=bob)
    assert [n.actor.username for n in queries.notifications(alice)] == ["carol"]
    assert queries.inbox_counts(alice).notifications == 1  # the count says what the list shows
    actions.do_block_user(carol, actor=alice)
    assert queries.notifications(alice) == []
    assert queries.inbox_counts(alice).notifications == 0
    # And nothing new from a blocked person.
    actions.do_post_message(club, "@alice trois", actor=carol)
    assert Notification.objects.filter(user=alice, actor=carol).count() == 1


def test_opening_a_notification_marks_it_read_and_leads_to_it(make_user, make_room, client_for):
    alice, carol = make_user("alice"), make_user("carol")
    club = _private(make_room, carol, alice)
    message = actions.do_post_message(club, "@alice regarde", actor=carol).message
    notification = Notification.objects.get(user=alice)
    client = client_for(alice)
    page = client.get(reverse("rooms:notifications")).content.decode()
    assert "carol vous a mentionné dans" in page and "regarde" in page
    assert Notification.objects.get(pk=notification.pk).read_at is None  # GET changes nothing
    # Someone else's notification: 404.
    assert (
        client_for(carol)
        .post(reverse("rooms:open_notification", args=[notification.pk]))
        .status_code
        == 404
    )
    response = client.post(reverse("rooms:open_notification", args=[notification.pk]))
    assert response["Location"] == f"{club.get_absolute_url()}#message-{message.id}"
    assert Notification.objects.get(pk=notification.pk).read_at is not None
    assert queries.inbox_counts(alice).notifications == 0


def test_marking_every_notification_read(make_user, make_room, client_for):
    alice, carol = make_user("alice"), make_user("carol")
    club = _private(make_room, carol, alice)
    for text in ("@alice un", "@alice deux", "@alice trois"):
        actions.do_post_message(club, text, actor=carol)
    first, *_later = Notification.objects.filter(user=alice).order_by("id")
    client = client_for(alice)
    api = reverse("rooms:api_notifications")
    listed = client.get(api).json()["notifications"]
    assert [n["kind"] for n in listed] == ["mention"] * 3 and not listed[0]["read"]
    assert listed[0]["message"]["body"] == "@alice trois"
    bad = client.post(api, {"ids": ["1"]}, content_type="application/json")
    assert bad.status_code == 400
    marked = client.post(api, {"ids": [first.pk]}, content_type="application/json")
    assert marked.json() == {"marked_read": 1}
    client.post(reverse("rooms:read_notifications"))
    assert not Notification.objects.filter(user=alice, read_at__isnull=True).exists()


# --- live events -------------------------------------------------------------------------


def test_accepting_tells_the_sender_live(make_user, listen, django_capture_on_commit_callbacks):
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    actions.do_post_message(room, "Salut", actor=alice)
    to_alice = listen(user_group(alice.pk))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_accept_contact_request(room.contact_request, actor=bob)
    assert to_alice() == [{"type": "user.conversation", "room": room.slug, "request": "accepted"}]


def test_the_room_page_offers_mute_and_leave_to_members(make_user, make_room, client_for):
    alice, bob = make_user("alice"), make_user("bob")
    club = _private(make_room, alice, bob)
    page = client_for(bob).get(club.get_absolute_url()).content.decode()
    assert reverse("rooms:mute", args=[club.slug]) in page
    assert reverse("rooms:leave", args=[club.slug]) in page
    assert Message.objects.count() == 0
    body = json.loads(client_for(bob).get(reverse("rooms:api_conversations")).content)[
        "conversations"
    ]
    assert body[0]["last_message"] is None
