"""The owner of a room names and dismisses its moderators (rooms.actions.do_set_room_moderator,
the members page, the API)."""

import pytest
from django.urls import reverse

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import Refused
from rooms import actions
from rooms.models import Notification, NotificationKind, RoomKind, RoomMembership, RoomRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return make_user("alice"), make_user("bob"), make_user("carol")


@pytest.fixture
def club(make_room, people):
    alice, bob, carol = people
    room = make_room(RoomKind.PRIVATE, owner=alice)
    RoomMembership.objects.create(room=room, user=bob)
    RoomMembership.objects.create(room=room, user=carol)
    return room


def _role(room, user) -> str:
    return RoomMembership.objects.get(room=room, user=user).role


def test_the_owner_names_then_dismisses_a_moderator_audited_and_notified(
    club, people, django_capture_on_commit_callbacks
):
    alice, bob, _carol = people
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_set_room_moderator(club, bob, True, actor=alice)
    assert _role(club, bob) == RoomRole.MODERATOR
    entry = AuditEntry.objects.filter(event=AuditEvent.ROOM_MODERATOR_SET).get()
    assert (entry.actor_id, entry.target_id) == (alice.pk, str(club.pk))
    assert entry.details == {"slug": club.slug, "member": bob.pk, "moderator": True}
    notice = Notification.objects.get(user=bob)
    assert (notice.kind, notice.actor, notice.room) == (
        NotificationKind.ROOM_MODERATOR,
        alice,
        club,
    )
    # Naming twice changes nothing and records nothing.
    actions.do_set_room_moderator(club, bob, True, actor=alice)
    assert AuditEntry.objects.filter(event=AuditEvent.ROOM_MODERATOR_SET).count() == 1
    actions.do_set_room_moderator(club, bob, False, actor=alice)
    assert _role(club, bob) == RoomRole.MEMBER
    last = AuditEntry.objects.filter(event=AuditEvent.ROOM_MODERATOR_SET).latest("pk")
    assert last.details["moderator"] is False
    assert Notification.objects.filter(user=bob).count() == 1  # a dismissal is not notified


def test_a_moderator_or_a_member_cannot_and_the_owner_is_out_of_reach(
    club, people, make_user, make_room
):
    alice, bob, carol = people
    actions.do_set_room_moderator(club, bob, True, actor=alice)
    with pytest.raises(Refused) as refused:
        actions.do_set_room_moderator(club, carol, True, actor=bob)  # a moderator
    assert refused.value.code == "forbidden"
    with pytest.raises(Refused):
        actions.do_set_room_moderator(club, bob, False, actor=carol)  # a member
    with pytest.raises(Refused):
        actions.do_set_room_moderator(club, alice, False, actor=alice)  # the owner herself
    outsider = make_user("dave")
    with pytest.raises(Refused):
        actions.do_set_room_moderator(club, outsider, True, actor=alice)  # not a member
    with pytest.raises(Refused):
        actions.do_set_room_moderator(club, carol, True, actor=outsider)  # not a member either
    assert (_role(club, bob), _role(club, carol), _role(club, alice)) == (
        RoomRole.MODERATOR,
        RoomRole.MEMBER,
        RoomRole.OWNER,
    )
    assert AuditEntry.objects.filter(event=AuditEvent.ROOM_MODERATOR_SET).count() == 1


def test_not_in_a_direct_conversation(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    RoomMembership.objects.filter(room=room, user=alice).update(role=RoomRole.OWNER)
    with pytest.raises(Refused) as refused:
        actions.do_set_room_moderator(room, bob, True, actor=alice)
    assert refused.value.code == "invalid"
    assert _role(room, bob) != RoomRole.MODERATOR


def test_the_members_page_offers_the_buttons_to_the_owner_only(club, people, client_for):
    alice, bob, carol = people
    url = reverse("rooms:members", args=[club.slug])
    owner = client_for(alice)
    page = owner.get(url).content.decode()
    assert page.count("Nommer modérateur") == 2 and "csrfmiddlewaretoken" in page
    assert url in client_for(alice).get(club.get_absolute_url()).content.decode()
    done = owner.post(url, {"username": "bob", "moderator": "1"})
    assert done.status_code == 302 and done["Location"] == url
    assert _role(club, bob) == RoomRole.MODERATOR
    page = owner.get(url).content.decode()
    assert "Retirer de la modération" in page and page.count("Nommer modérateur") == 1
    owner.post(url, {"username": "bob", "moderator": "0"})
    assert _role(club, bob) == RoomRole.MEMBER
    # A member sees the list, no button, and a POST of theirs changes nothing.
    member = client_for(carol)
    page = member.get(url).content.decode()
    assert "bob" in page and "Nommer modérateur" not in page
    assert url not in member.get(club.get_absolute_url()).content.decode()
    member.post(url, {"username": "bob", "moderator": "1"})
    assert _role(club, bob) == RoomRole.MEMBER


def test_the_members_page_escapes_pseudonyms_and_is_for_members(
    club, people, make_user, client_for
):
    alice, *_rest = people
    odd = make_user("x<b>y")
    RoomMembership.objects.create(room=club, user=odd)
    page = client_for(alice).get(reverse("rooms:members", args=[club.slug])).content.decode()
    assert "x<b>y" not in page and "x&lt;b&gt;y" in page
    stranger = client_for(make_user("eve"))
    assert stranger.get(reverse("rooms:members", args=[club.slug])).status_code == 404


def test_the_api_names_and_dismisses(club, people, client_for):
    alice, bob, carol = people
    url = reverse("rooms:api_moderators", args=[club.slug])
    response = client_for(alice).post(
        url, {"username": "bob", "moderator": True}, content_type="application/json"
    )
    assert response.json() == {"room": club.slug, "username": "bob", "role": "moderator"}
    refused = client_for(carol).post(
        url, {"username": "bob", "moderator": False}, content_type="application/json"
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    invalid = client_for(alice).post(
        url, {"username": "bob", "moderator": "yes"}, content_type="application/json"
    )
    assert invalid.status_code == 400
    assert _role(club, bob) == RoomRole.MODERATOR
