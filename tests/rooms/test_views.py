"""The pages: rooms list, room, direct room, conversations."""

import pytest
from django.test import Client

from rooms import actions
from rooms.models import ContactRequest, ContactRequestStatus, RoomKind
from tests.conftest import otp_verified

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(public_room):
    response = Client().get("/rooms/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unverified_accounts_see_what_is_missing(client_for, make_user, public_room):
    response = client_for(make_user(age_verified=False)).get("/rooms/")
    assert response.status_code == 403
    assert b"/accounts/age/" in response.content
    assert client_for(make_user(email_verified=False)).get("/rooms/general/").status_code == 403


def test_rooms_list_and_room_page(client_for, make_user, make_staff, make_room, public_room):
    make_room(slug="old", name="Ancien")
    actions.do_archive_room(
        make_room(slug="gone", name="Disparu"), actor=otp_verified(make_staff()), reason="x"
    )
    client = client_for(make_user())
    page = client.get("/rooms/").content.decode()
    assert "Général" in page and "Ancien" in page and "Disparu" not in page
    response = client.get("/rooms/general/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-room="general"' in content and 'id="messages"' in content
    assert 'aria-live="polite"' in content
    assert '<html lang="fr">' in content
    assert client.get("/rooms/gone/").status_code == 404
    assert client.get("/rooms/nope/").status_code == 404


def test_private_room_page_is_for_members(client_for, make_user, make_room):
    owner = make_user()
    room = make_room(RoomKind.PRIVATE, owner=owner)
    assert client_for(make_user()).get(room.get_absolute_url()).status_code == 403
    assert client_for(owner).get(room.get_absolute_url()).status_code == 200


def test_dm_page_opens_the_room_and_shows_the_request_to_the_recipient(client_for, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    alice_client = client_for(alice)
    response = alice_client.get("/dm/bob/")
    assert response.status_code == 200
    assert b'data-partner="bob"' not in response.content  # a button to start it, no room
    assert b'method="post"' in response.content and b"csrfmiddlewaretoken" in response.content
    assert alice_client.post("/dm/bob/")["Location"] == "/dm/bob/"
    response = alice_client.get("/dm/bob/")
    assert b'data-partner="bob"' in response.content
    room = ContactRequest.objects.get(sender=alice).room
    actions.do_post_message(room, "<img src=x onerror=alert(1)>", actor=alice)
    bob_client = client_for(bob)
    page = bob_client.get("/dm/alice/").content.decode()
    assert "souhaite vous écrire" in page
    assert "compte créé aujourd'hui" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # escaped, never HTML
    assert "<img src=x" not in page
    # A direct room's /rooms/<slug>/ leads to the /dm/ page.
    assert client_for(alice).get(f"/rooms/{room.slug}/")["Location"] == "/dm/bob/"
    request = ContactRequest.objects.get(room=room)
    response = bob_client.post(f"/conversations/requests/{request.pk}/accept/")
    assert response["Location"] == "/dm/alice/"
    request.refresh_from_db()
    assert request.status == ContactRequestStatus.ACCEPTED
    assert b'data-partner="alice"' in bob_client.get("/dm/alice/").content


def test_answering_a_request_block_and_ignore(client_for, make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    client_for(alice).post("/dm/bob/")
    client_for(carol).post("/dm/bob/")
    bob_client = client_for(bob)
    from_alice = ContactRequest.objects.get(sender=alice)
    from_carol = ContactRequest.objects.get(sender=carol)
    assert (
        client_for(carol).post(f"/conversations/requests/{from_alice.pk}/accept/").status_code
        == 404
    )
    bob_client.post(f"/conversations/requests/{from_alice.pk}/block/")
    bob_client.post(f"/conversations/requests/{from_carol.pk}/ignore/")
    from_alice.refresh_from_db()
    from_carol.refresh_from_db()
    assert (from_alice.status, from_carol.status) == ("blocked", "ignored")
    # Closed, not refused: alice reads her own request, and no more (docs/protocol.md).
    closed = client_for(alice).get("/dm/bob/")
    assert closed.status_code == 200 and "Cette conversation est fermée" in closed.content.decode()
    assert bob_client.get(f"/conversations/requests/{from_carol.pk}/accept/").status_code == 405


def test_dm_page_refusals(client_for, make_user):
    make_user("carol", direct_messages_from="nobody")
    client = client_for(make_user("alice"))
    assert client.get("/dm/carol/").status_code == 403
    assert client.post("/dm/carol/").status_code == 403
    assert client.get("/dm/ghost/").status_code == 404
    assert client.post("/dm/ghost/").status_code == 404
    assert client.get("/dm/alice/").status_code == 400  # oneself
    assert client.get("/dm/?username=carol")["Location"] == "/dm/carol/"
    assert client.get("/dm/?username=CAROL")["Location"] == "/dm/carol/"
    # Not a member's name (a "/" cannot even be in one): back to the list, no 500.
    assert client.get("/dm/?username=a/b")["Location"] == "/rooms/"
    assert client.get("/dm/?username=ghost")["Location"] == "/rooms/"
    make_user("Bob")
    assert client.get("/dm/bob/")["Location"] == "/dm/Bob/"


def test_conversations_page(client_for, make_user, make_room):
    import datetime

    from django.utils import timezone

    alice = make_user("alice", date_joined=timezone.now() - datetime.timedelta(days=40))
    bob = make_user("bob")
    room = make_room(RoomKind.PRIVATE, owner=alice, name="Club des cinq")
    actions.do_invite_to_room(room, bob, actor=alice)
    actions.do_post_message(actions.do_open_direct_room(bob, actor=alice), "coucou", actor=alice)
    page = client_for(bob).get("/conversations/").content.decode()
    assert "Club des cinq" in page and "coucou" in page and "alice" in page
    assert "compte créé il y a 40 jours" in page
    invitation = room.invitations.get()
    response = client_for(bob).post(f"/conversations/invitations/{invitation.pk}/accept/")
    assert response["Location"] == room.get_absolute_url()
    assert client_for(bob).get(room.get_absolute_url()).status_code == 200


def test_create_a_private_room_and_invite(client_for, make_user):
    from rooms.models import Room, RoomInvitation

    alice, bob = make_user("alice"), make_user("bob")
    client = client_for(alice)
    response = client.post("/rooms/new/", {"name": "Les amis du jeudi"})
    room = Room.objects.get(kind=RoomKind.PRIVATE)
    assert response["Location"] == room.get_absolute_url()
    assert room.name == "Les amis du jeudi" and room.slug.startswith("les-amis-du-jeudi-")
    page = client.get(room.get_absolute_url()).content.decode()
    assert f'action="/rooms/{room.slug}/invite/"' in page
    client.post(f"/rooms/{room.slug}/invite/", {"username": "BOB"})
    assert RoomInvitation.objects.get(room=room).invitee == bob
    response = client.post(f"/rooms/{room.slug}/invite/", {"username": "personne"}, follow=True)
    assert "Aucun membre ne porte ce pseudonyme." in response.content.decode()
    # Bob is not a member yet: no page, no invitations from him.
    bob_client = client_for(bob)
    assert bob_client.get(room.get_absolute_url()).status_code == 403
    assert bob_client.post(f"/rooms/{room.slug}/invite/", {"username": "alice"}).status_code == 404
    assert client.post("/rooms/new/", {"name": "x"}).status_code == 302
    assert Room.objects.filter(kind=RoomKind.PRIVATE).count() == 1  # too short, refused
    assert client.get("/rooms/new/").status_code == 405


def _row_counts() -> dict[str, int]:
    """Rows of every model of the project's apps and of allauth, by model."""
    from django.apps import apps

    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "rooms", "moderation", "compliance", "audit"}
    }


def test_no_page_changes_anything_on_get(client_for, make_user, make_room, public_room):
    """CSRF by navigation: a GET of any member page, from a link on another
    site, creates no room, no contact request, no membership (issue 15)."""
    alice, bob = make_user("alice"), make_user("bob")
    make_user("carol", direct_messages_from="contacts")
    private = make_room(RoomKind.PRIVATE, owner=bob, name="Club")
    existing = actions.do_open_direct_room(bob, actor=alice)
    actions.do_post_message(existing, "bonjour", actor=alice)
    client = client_for(alice)
    bob_client = client_for(bob)
    client.get("/rooms/")  # the session's own bookkeeping is not what is counted
    before = _row_counts()
    for path in (
        "/dm/carol/",
        "/dm/Carol/",
        "/dm/bob/",
        "/dm/?username=carol",
        "/rooms/general/",
        f"/rooms/{existing.slug}/",
        private.get_absolute_url(),
        "/conversations/",
        f"/api/rooms/{existing.slug}/messages/",
        "/api/rooms/general/messages/",
        "/api/rooms/",
        "/api/conversations/",
    ):
        assert client.get(path).status_code < 500, path
    assert bob_client.get("/dm/alice/").status_code == 200  # the request, held
    assert bob_client.get(f"/api/rooms/{existing.slug}/messages/").status_code == 403
    assert _row_counts() == before
    assert not ContactRequest.objects.filter(sender=alice, recipient__username="carol").exists()
    assert not public_room.memberships.filter(user=alice).exists()


def test_contacts_only_cannot_be_defeated_by_a_link(client_for, make_user):
    """The issue's attack: carol accepts messages from contacts only; an
    attacker makes her browser open /dm/attacker/. Nothing is created, so the
    attacker is no contact of hers and still cannot write to her."""
    carol = make_user("carol", direct_messages_from="contacts")
    attacker = make_user("attacker")
    carol_client = client_for(carol)
    page = carol_client.get("/dm/attacker/")
    assert page.status_code == 200 and "Démarrer la conversation" in page.content.decode()
    assert not ContactRequest.objects.exists()
    response = client_for(attacker).post("/dm/carol/")
    assert response.status_code == 403
    # Her own POST (the button) is what makes a conversation, that she started.
    carol_client.post("/dm/attacker/")
    request = ContactRequest.objects.get()
    assert (request.sender, request.recipient) == (carol, attacker)


def test_direct_room_slug_names_nobody_to_a_non_member(client_for, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    response = client_for(make_user("eve")).get(f"/rooms/{room.slug}/")
    assert response.status_code == 404
    assert b"alice" not in response.content and b"bob" not in response.content


def test_public_room_membership_starts_with_the_socket_not_the_page(
    client_for, make_user, public_room
):
    alice = make_user("alice")
    assert client_for(alice).get("/rooms/general/").status_code == 200
    assert not public_room.memberships.filter(user=alice).exists()
    actions.do_enter_room(public_room, "test.channel", actor=alice)
    membership = public_room.memberships.get(user=alice)
    actions.do_enter_room(public_room, "test.channel2", actor=alice)
    assert public_room.memberships.filter(user=alice).count() == 1
    assert membership.last_read_message_id == 0
