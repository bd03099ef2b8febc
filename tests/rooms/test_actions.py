"""The actions: state, refusals and the events they send once committed."""

import pytest
from django.db import transaction
from django.db.models import Q

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import RefusalCode, Refused
from rooms import actions, queries
from rooms.models import (
    Block,
    ContactRequest,
    ContactRequestStatus,
    Ignore,
    InvitationStatus,
    Mention,
    Message,
    Room,
    RoomKind,
    RoomMembership,
    RoomRole,
    room_group,
    user_group,
)
from tests.conftest import otp_verified

pytestmark = pytest.mark.django_db


def test_post_message_stores_and_broadcasts_after_commit(
    make_user, public_room, listen, django_capture_on_commit_callbacks
):
    alice = make_user("alice")
    events = listen(room_group(public_room.id))
    with django_capture_on_commit_callbacks() as callbacks:
        result = actions.do_post_message(public_room, " salut\x00 ", actor=alice, client_id="c1")
        assert events() == []  # nothing before the commit
    assert result.created
    assert result.message.body == "salut"
    for callback in callbacks:
        callback()
    [event] = events()
    assert event["type"] == "room.message"
    assert event["message"] == {
        "id": result.message.id,
        "room": "general",
        "author": "alice",
        "body": "salut",
        "created": result.message.created.isoformat(),
        "client_id": "c1",
        "edited": None,
        "reply_to": None,
        "mentions": [],
        "reactions": {},
    }


def test_post_message_is_idempotent_per_author_room_and_client_id(
    make_user, public_room, make_room, django_capture_on_commit_callbacks
):
    alice, bob = make_user(), make_user()
    first = actions.do_post_message(public_room, "un", actor=alice, client_id="x")
    with django_capture_on_commit_callbacks() as callbacks:
        again = actions.do_post_message(public_room, "autre texte", actor=alice, client_id="x")
    assert not again.created and again.message.pk == first.message.pk
    assert callbacks == []
    assert actions.do_post_message(public_room, "un", actor=bob, client_id="x").created
    assert actions.do_post_message(make_room(), "un", actor=alice, client_id="x").created
    assert actions.do_post_message(public_room, "sans id", actor=alice).message.client_id is None
    assert actions.do_post_message(public_room, "sans id", actor=alice).created
    assert Message.objects.count() == 5


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "invalid"),
        (" \x00 ", "invalid"),
        (None, "invalid"),
        (["a"], "invalid"),
        ("x" * 2001, "too_long"),
    ],
)
def test_post_message_refuses_bad_bodies(make_user, public_room, body, code):
    with pytest.raises(Refused) as refused:
        actions.do_post_message(public_room, body, actor=make_user())
    assert refused.value.code == code
    assert not Message.objects.exists()


def test_post_message_refuses_an_archived_room(make_user, make_staff, public_room):
    admin = otp_verified(make_staff("admin"))
    actions.do_archive_room(public_room, actor=admin, reason="fermeture")
    with pytest.raises(Refused):
        actions.do_post_message(public_room, "allô", actor=make_user())


def test_delete_message_is_soft_and_needs_a_reason_from_staff(
    make_user, make_staff, public_room, listen, django_capture_on_commit_callbacks
):
    alice, moderator, stranger = make_user(), otp_verified(make_staff()), make_user()
    message = actions.do_post_message(public_room, "hop", actor=alice).message
    with pytest.raises(Refused):
        actions.do_delete_message(message, actor=stranger, reason="non")
    with pytest.raises(Refused):
        actions.do_delete_message(message, actor=moderator, reason=" ")
    events = listen(room_group(public_room.id))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_delete_message(message, actor=moderator, reason="insulte")
    message.refresh_from_db()
    assert message.deleted_by == moderator and message.deletion_reason == "insulte"
    assert message.deleted_at is not None and message.body == "hop"
    assert events() == [{"type": "room.message_deleted", "id": message.id}]
    entry = AuditEntry.objects.get(event=AuditEvent.ROOM_MESSAGE_DELETED)
    assert (entry.actor_id, entry.target_id, entry.reason) == (
        moderator.pk,
        str(message.pk),
        "insulte",
    )


def test_authors_hide_their_own_messages_without_an_audit_entry(make_user, public_room):
    alice = make_user()
    message = actions.do_post_message(public_room, "oups", actor=alice).message
    actions.do_delete_message(message, actor=alice)
    message.refresh_from_db()
    assert message.deleted_by == alice
    assert not AuditEntry.objects.filter(event=AuditEvent.ROOM_MESSAGE_DELETED).exists()


def test_archive_room_needs_room_staff_and_a_reason(
    make_user, make_staff, public_room, listen, django_capture_on_commit_callbacks
):
    admin = otp_verified(make_staff("admin"))
    with pytest.raises(Refused):
        actions.do_archive_room(public_room, actor=make_user(), reason="non")
    # Staff without their second factor have no staff powers.
    with pytest.raises(Refused):
        actions.do_archive_room(public_room, actor=make_staff("admin"), reason="non")
    with pytest.raises(Refused):
        actions.do_archive_room(public_room, actor=admin, reason="")
    events = listen(room_group(public_room.id))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_archive_room(public_room, actor=admin, reason="doublon")
    public_room.refresh_from_db()
    assert public_room.is_archived and public_room.archived_at is not None
    assert events() == [{"type": "room.close", "code": 4404}]
    entry = AuditEntry.objects.get(event=AuditEvent.ROOM_ARCHIVED)
    assert (entry.actor_id, entry.target_id, entry.reason) == (
        admin.pk,
        str(public_room.pk),
        "doublon",
    )


def test_create_room_is_recorded_and_slugs_are_unique(make_user):
    owner = make_user()
    room = actions.do_create_room(actor=owner, kind=RoomKind.PRIVATE, slug="club", name="Club")
    entry = AuditEntry.objects.get(event=AuditEvent.ROOM_CREATED)
    assert (entry.actor_id, entry.target_id) == (owner.pk, str(room.pk))
    with pytest.raises(Refused):
        actions.do_create_room(actor=owner, kind=RoomKind.PUBLIC, slug="club", name="Autre")
    with pytest.raises(Refused):
        actions.do_create_room(actor=owner, kind=RoomKind.DIRECT, slug="dm", name="x")
    with pytest.raises(Refused):
        actions.do_create_room(actor=owner, kind=RoomKind.PUBLIC, slug="new", name="Nouveau")


def test_open_direct_room_creates_one_room_per_pair_with_a_request(make_user):
    alice, bob = make_user(), make_user()
    room = actions.do_open_direct_room(bob, actor=alice)
    assert room.kind == RoomKind.DIRECT
    assert set(room.memberships.values_list("user_id", flat=True)) == {alice.pk, bob.pk}
    request = ContactRequest.objects.get(room=room)
    assert (request.sender, request.recipient, request.status) == (alice, bob, "pending")
    assert actions.do_open_direct_room(bob, actor=alice) == room
    # Bob opening it gets the same room, to answer the request.
    assert actions.do_open_direct_room(alice, actor=bob) == room
    assert Room.objects.filter(kind=RoomKind.DIRECT).count() == 1


def test_open_direct_room_refusals(make_user):
    alice, bob = make_user(), make_user()
    with pytest.raises(Refused):
        actions.do_open_direct_room(alice, actor=alice)
    actions.do_block_user(alice, actor=bob)
    with pytest.raises(Refused) as refused:
        actions.do_open_direct_room(bob, actor=alice)
    assert refused.value.code == "blocked"
    carol = make_user(direct_messages_from="nobody")
    with pytest.raises(Refused):
        actions.do_open_direct_room(carol, actor=alice)
    dave = make_user(direct_messages_from="contacts")
    with pytest.raises(Refused):
        actions.do_open_direct_room(dave, actor=alice)
    assert not Room.objects.filter(kind=RoomKind.DIRECT).exists()


def test_contacts_policy_allows_an_accepted_conversation(make_user):
    alice, dave = make_user(), make_user()
    room = actions.do_open_direct_room(dave, actor=alice)
    actions.do_accept_contact_request(ContactRequest.objects.get(room=room), actor=dave)
    dave.direct_messages_from = "contacts"
    dave.save()
    assert actions.do_open_direct_room(dave, actor=alice) == room
    assert actions.do_post_message(room, "re", actor=alice).created


def test_held_messages_notify_the_recipient_only_of_the_first(
    make_user, listen, django_capture_on_commit_callbacks
):
    alice, bob = make_user(), make_user()
    room = actions.do_open_direct_room(bob, actor=alice)
    bob_events = listen(user_group(bob.pk))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_post_message(room, "premier", actor=alice)
        actions.do_post_message(room, "second", actor=alice)
    assert bob_events() == [{"type": "user.conversation", "room": room.slug}]
    # Bob cannot write before answering.
    with pytest.raises(Refused):
        actions.do_post_message(room, "hein ?", actor=bob)
    request = ContactRequest.objects.get(room=room)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_accept_contact_request(request, actor=bob)
        actions.do_post_message(room, "troisième", actor=alice)
    assert len(bob_events()) == 2
    assert actions.do_post_message(room, "enfin", actor=bob).created


def test_ignored_request_stays_silent(make_user, listen, django_capture_on_commit_callbacks):
    alice, bob = make_user(), make_user()
    room = actions.do_open_direct_room(bob, actor=alice)
    request = ContactRequest.objects.get(room=room)
    actions.do_ignore_contact_request(request, actor=bob)
    bob_events = listen(user_group(bob.pk))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_post_message(room, "youhou", actor=alice)
    assert bob_events() == []
    with pytest.raises(Refused) as not_found:
        actions.do_accept_contact_request(request, actor=alice)  # only the recipient answers
    assert not_found.value.code == RefusalCode.NOT_FOUND


def test_block_and_unblock(make_user, listen, django_capture_on_commit_callbacks):
    alice, bob = make_user(), make_user()
    room = actions.do_open_direct_room(bob, actor=alice)
    alice_events = listen(user_group(alice.pk))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_block_user(alice, actor=bob)
    assert Block.objects.filter(blocker=bob, blocked=alice).exists()
    assert ContactRequest.objects.get(room=room).status == ContactRequestStatus.BLOCKED
    assert {"type": "user.close", "code": 4403, "room": room.id} in alice_events()
    actions.do_block_user(alice, actor=bob)  # twice is once
    assert Block.objects.count() == 1
    with pytest.raises(Refused):
        actions.do_block_user(bob, actor=bob)
    assert actions.do_unblock_user(alice, actor=bob) is True
    assert actions.do_unblock_user(alice, actor=bob) is False
    assert ContactRequest.objects.get(room=room).status == ContactRequestStatus.IGNORED


def test_invitations(make_user, make_room):
    owner, guest, stranger = make_user(), make_user(), make_user()
    room = make_room(RoomKind.PRIVATE, owner=owner)
    assert RoomMembership.objects.get(room=room, user=owner).role == RoomRole.OWNER
    with pytest.raises(Refused):
        actions.do_invite_to_room(room, guest, actor=stranger)
    invitation = actions.do_invite_to_room(room, guest, actor=owner)
    assert actions.do_invite_to_room(room, guest, actor=owner) == invitation
    with pytest.raises(Refused) as not_found:
        actions.do_answer_invitation(invitation, actor=stranger, accept=True)
    assert not_found.value.code == RefusalCode.NOT_FOUND
    actions.do_answer_invitation(invitation, actor=guest, accept=True)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert RoomMembership.objects.filter(room=room, user=guest, role=RoomRole.MEMBER).exists()
    with pytest.raises(Refused):
        actions.do_invite_to_room(room, guest, actor=owner)


def test_mark_read_only_moves_forward(make_user, make_room):
    owner = make_user()
    room = make_room(RoomKind.PRIVATE, owner=owner)
    membership = RoomMembership.objects.get(room=room, user=owner)
    actions.do_mark_room_read(room, actor=owner, up_to_id=50)
    actions.do_mark_room_read(room, actor=owner, up_to_id=10)
    membership.refresh_from_db()
    assert membership.last_read_message_id == 50


def test_presence(make_user, public_room, listen, django_capture_on_commit_callbacks):
    alice = make_user("alice")
    events = listen(room_group(public_room.id))
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.do_enter_room(public_room, "chan-1", actor=alice) == ["alice"]
        assert actions.do_enter_room(public_room, "chan-2", actor=alice) == ["alice"]
        assert actions.do_leave_room(public_room, "chan-1", actor=alice) == ["alice"]
        assert actions.do_leave_room(public_room, "chan-2", actor=alice) == []
    # Only changes of the online set are announced.
    assert [event["users"] for event in events()] == [["alice"], []]


def test_presence_of_a_dead_process_expires(make_user, public_room):
    from datetime import timedelta

    from django.utils import timezone

    from rooms.models import RoomPresence
    from rooms.presence import PRESENCE_TTL_SECONDS, refresh_presence

    ghost, alice = make_user("ghost"), make_user("alice")
    actions.do_enter_room(public_room, "dead-process-chan", actor=ghost)
    actions.do_enter_room(public_room, "live-chan", actor=alice)
    assert queries.online_usernames(public_room) == ["alice", "ghost"]
    long_ago = timezone.now() - timedelta(seconds=PRESENCE_TTL_SECONDS + 1)
    RoomPresence.objects.update(seen_at=long_ago)
    assert refresh_presence(["live-chan"]) == 1  # the living process refreshes its own
    assert queries.online_usernames(public_room) == ["alice"]
    actions.do_enter_room(public_room, "another-chan", actor=make_user("bob"))
    assert not RoomPresence.objects.filter(channel_name="dead-process-chan").exists()


def test_hide_and_restore_are_the_one_write_path_of_a_message(
    make_user, make_staff, public_room, listen, django_capture_on_commit_callbacks
):
    author, staff = make_user(), make_staff()
    message = actions.do_post_message(public_room, "à revoir", actor=author).message
    events = listen(room_group(public_room.id))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        locked = actions.locked_message(message.pk)
        assert actions.hide_message(locked, actor=staff, reason="vérification")
        assert not actions.hide_message(locked, actor=staff, reason="encore")
    message.refresh_from_db()
    assert (message.deleted_by, message.deletion_reason) == (staff, "vérification")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        locked = actions.locked_message(message.pk)
        assert actions.restore_message(locked, actor=staff, reason="rien à redire")
        assert not actions.restore_message(locked, actor=staff, reason="encore")
    message.refresh_from_db()
    assert message.deleted_at is None and message.deleted_by is None
    deleted, restored = events()
    assert deleted == {"type": "room.message_deleted", "id": message.id}
    assert restored["restored"] is True and restored["message"]["body"] == "à revoir"
    [row] = AuditEntry.objects.filter(event=int(AuditEvent.ROOM_MESSAGE_RESTORED))
    assert (row.actor_id, row.reason) == (staff.pk, "rien à redire")
    assert row.details == {"room": public_room.id, "author": author.pk, "hidden_by": staff.pk}


# --- forgetting a person (compliance's account deletion and retention purge call these) --------


def test_forget_member_removes_their_room_state_and_tells_the_rooms(
    make_user, make_room, public_room, listen, django_capture_on_commit_callbacks
):
    from rooms.models import RoomInvitation, RoomPresence

    leaving, bob, carol, owner, dora = (make_user("leaving"), *(make_user() for _ in range(4)))
    actions.do_join_public_room(public_room, actor=leaving)
    private = make_room(RoomKind.PRIVATE, owner=owner)
    actions.do_invite_to_room(private, leaving, actor=owner)
    actions.do_block_user(bob, actor=leaving)
    actions.do_block_user(leaving, actor=carol)
    actions.do_enter_room(public_room, "chan-leaving", actor=leaving)
    actions.do_enter_room(public_room, "chan-bob", actor=bob)
    sent = actions.do_open_direct_room(owner, actor=leaving)  # a pending first contact
    received = actions.do_open_direct_room(leaving, actor=dora)
    message = actions.do_post_message(public_room, "reste", actor=leaving).message
    actions.do_ignore_user(carol, actor=leaving)
    actions.do_ignore_user(leaving, actor=dora)
    actions.do_join_public_room(public_room, actor=owner)  # leaving blocks bob
    actions.do_post_message(public_room, "@leaving bonjour", actor=owner)
    assert Mention.objects.filter(user=leaving).count() == 1
    # The public room and both direct rooms.
    assert RoomMembership.objects.filter(user=leaving).count() == 3
    events = listen(room_group(public_room.id))

    with django_capture_on_commit_callbacks(execute=True):
        forgotten = actions.do_forget_member(leaving, actor=None)

    assert forgotten == {
        "memberships": 3,
        "invitations": 1,
        "blocks": 2,
        "ignores": 2,
        "mentions": 1,
        "presences": 1,
        "notifications": 2,  # the invitation's and the mention's
        "contact_requests_ignored": 2,
    }
    assert not Ignore.objects.filter(Q(ignorer=leaving) | Q(ignored=leaving)).exists()
    assert not Mention.objects.filter(user=leaving).exists()
    assert not RoomMembership.objects.filter(user=leaving).exists()
    assert not RoomInvitation.objects.filter(invitee=leaving).exists()
    assert not Block.objects.filter(blocker=leaving).exists()
    assert not Block.objects.filter(blocked=leaving).exists()
    assert not RoomPresence.objects.filter(user=leaving).exists()
    statuses = ContactRequest.objects.filter(room__in=[sent, received]).values_list(
        "status", flat=True
    )
    assert set(statuses) == {ContactRequestStatus.IGNORED}
    # Their public messages stay where they were.
    assert Message.objects.get(pk=message.pk).body == "reste"
    # The room hears that the online set changed, once committed.
    assert [event["users"] for event in events()] == [[bob.username]]
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.ROOMS_MEMBER_FORGOTTEN)
    assert entry.target_id == str(leaving.pk) and entry.actor_id is None
    assert entry.details == forgotten


def test_forget_deleted_message_texts_then_rows_only_of_deleted_messages(make_user, public_room):
    author = make_user()
    kept = actions.do_post_message(public_room, "visible", actor=author).message
    gone = [actions.do_post_message(public_room, f"m{n}", actor=author).message for n in range(3)]
    for message in gone:
        actions.do_delete_message(message, actor=author)
    ids = [kept.pk, *(m.pk for m in gone)]

    assert actions.do_forget_deleted_message_texts(ids, actor=None, reason="retention") == 3
    bodies = dict(Message.objects.values_list("pk", "body"))
    assert bodies == {kept.pk: "visible", **{m.pk: "" for m in gone}}
    # Twice is once: no text left to forget, no second entry.
    assert actions.do_forget_deleted_message_texts(ids, actor=None, reason="retention") == 0
    (texts,) = AuditEntry.objects.filter(event=AuditEvent.DELETED_MESSAGE_TEXTS_FORGOTTEN)
    assert texts.details == {"messages": 3, "first_id": gone[0].pk, "last_id": gone[-1].pk}
    assert texts.reason == "retention"

    assert actions.do_forget_deleted_messages(ids, actor=None, reason="retention") == 3
    assert list(Message.objects.values_list("pk", flat=True)) == [kept.pk]
    (rows,) = AuditEntry.objects.filter(event=AuditEvent.DELETED_MESSAGES_FORGOTTEN)
    assert rows.details == {"messages": 3, "first_id": gone[0].pk, "last_id": gone[-1].pk}
