"""The rooms admin: actions with a reason, and direct conversations behind the
stated-reason gate."""

import pytest
from django.contrib import admin as django_admin
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.events import AuditEvent
from audit.models import AuditEntry
from rooms import actions
from rooms.models import ContactRequest, DirectConversation, Message, Room, RoomKind
from tests.conftest import grant_looks

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("chief", is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.user = user
    return client


@pytest.fixture
def direct_room(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    actions.do_accept_contact_request(ContactRequest.objects.get(room=room), actor=bob)
    actions.do_post_message(room, "<b>mot</b> très privé", actor=alice)
    return room


def test_direct_conversations_need_a_stated_reason(admin_client, direct_room):
    url = f"/admin/rooms/directconversation/{direct_room.pk}/change/"
    listing_url = "/admin/rooms/directconversation/"
    # Who talks with whom is personal too: the list asks for a reason of its own.
    assert admin_client.get(listing_url).status_code == 403
    admin_client.post(listing_url, {"access_reason": "revue des conversations signalées"})
    listing = admin_client.get(listing_url)
    assert listing.status_code == 200
    assert "très privé" not in listing.text
    response = admin_client.get(url)
    assert response.status_code == 403
    assert "très privé" not in response.text
    # The list's look is recorded (model-wide); this conversation's is not, yet.
    assert AuditEntry.objects.filter(
        event=AuditEvent.VIEW_DIRECT_CONVERSATION, target_id=""
    ).exists()
    assert not AuditEntry.objects.filter(target_id=str(direct_room.pk)).exists()

    response = admin_client.post(url, {"access_reason": "signalement 42 pour harcèlement"})
    assert response.status_code == 302
    page = admin_client.get(url).text
    assert "&lt;b&gt;mot&lt;/b&gt; très privé" in page  # shown, as text
    entry = AuditEntry.objects.get(
        event=AuditEvent.VIEW_DIRECT_CONVERSATION, target_id=str(direct_room.pk)
    )
    assert entry.actor_id == admin_client.user.pk
    assert entry.reason == "signalement 42 pour harcèlement"
    members = sorted(direct_room.memberships.values_list("user_id", flat=True))
    assert entry.details["people"] == members
    assert entry.details["rooms"] == [direct_room.pk]


def test_the_message_list_leaves_direct_rooms_out(
    admin_client, direct_room, public_room, make_user
):
    actions.do_post_message(public_room, "message public", actor=make_user())
    page = admin_client.get("/admin/rooms/message/").text
    assert "message public" in page
    assert "très privé" not in page
    grant_looks(admin_client, "rooms.room")
    assert admin_client.get("/admin/rooms/room/").status_code == 200
    assert direct_room.slug not in admin_client.get("/admin/rooms/room/").text
    assert list(DirectConversation.objects.all()) == [direct_room]


def test_removing_messages_from_the_list_is_moderations_with_a_statement(
    admin_client, public_room, make_user
):
    from moderation.models import StatementOfReasons

    message = actions.do_post_message(public_room, "spam spam", actor=make_user()).message
    form = {"action": "bulk_remove", "_selected_action": [message.pk]}
    response = admin_client.post("/admin/rooms/message/", form)
    assert response.status_code == 302
    confirm = response["Location"]
    page = admin_client.get(confirm)
    assert 'name="reason"' in page.text
    message.refresh_from_db()
    assert message.deleted_at is None
    response = admin_client.post(
        confirm, {"ids": str(message.pk), "reason": "publicité", "clause": "R10"}
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.deleted_by == admin_client.user and message.deletion_reason == "publicité"
    assert AuditEntry.objects.get(event=AuditEvent.MESSAGE_REMOVED).reason == "publicité"
    assert StatementOfReasons.objects.get(message=message).clause == "R10"


def test_archiving_and_creating_rooms(admin_client, public_room):
    grant_looks(admin_client, "rooms.room")
    form = {"action": "archive_rooms", "_selected_action": [public_room.pk]}
    admin_client.post("/admin/rooms/room/", {**form, "apply": "1", "reason": "fusion"})
    public_room.refresh_from_db()
    assert public_room.is_archived
    response = admin_client.post(
        "/admin/rooms/room/add/",
        {
            "kind": "public",
            "slug": "cuisine",
            "name": "Cuisine",
            "description": "",
            "theme": "loisirs",
            "slow_mode_seconds": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.text
    room = Room.objects.get(slug="cuisine")
    assert room.created_by == admin_client.user
    assert AuditEntry.objects.filter(event=AuditEvent.ROOM_CREATED, target_id=str(room.pk)).exists()
    response = admin_client.post(
        "/admin/rooms/room/add/",
        {
            "kind": "direct",
            "slug": "x",
            "name": "x",
            "slow_mode_seconds": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # refused by the form
    assert not Room.objects.filter(slug="x").exists()


def test_every_rooms_model_is_registered():
    for model in (Room, Message, DirectConversation):
        assert model in django_admin.site._registry
    assert Message.objects.filter(room__kind=RoomKind.DIRECT).count() == 0


def test_promoting_a_plain_member_of_a_public_room_updates_their_membership(
    admin_client, public_room, make_user
):
    from rooms.models import RoomMembership, RoomRole

    grant_looks(admin_client, "rooms.room")

    regular = make_user("habitue")
    joined, _ = actions.do_join_public_room(public_room, actor=regular)
    form = {
        "name": public_room.name,
        "description": public_room.description,
        "theme": public_room.theme,
        "rules": "",
        "slow_mode_seconds": "0",
        # Plain members of a public room are not listed: the row is a new one.
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(regular.pk),
        "memberships-0-role": RoomRole.MODERATOR,
    }
    response = admin_client.post(f"/admin/rooms/room/{public_room.pk}/change/", form)
    assert response.status_code == 302, response.text
    [membership] = RoomMembership.objects.filter(room=public_room, user=regular)
    assert membership.pk == joined.pk
    assert membership.role == RoomRole.MODERATOR
    assert membership.joined_at == joined.joined_at
