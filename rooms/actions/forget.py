"""Forgetting a person and expired records, called by compliance (account
deletion, retention purge): rooms removes its own rows, with its own audit entries."""

from functools import partial

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.events import AuditEvent
from audit.trail import record, user_model_label
from rooms import notify, queries
from rooms.actions.presence_intervals import close_member_presence_intervals
from rooms.models import (
    Block,
    ContactRequest,
    ContactRequestStatus,
    ContentOperation,
    Ignore,
    Mention,
    Message,
    MessageVersion,
    Notification,
    Room,
    RoomInvitation,
    RoomMembership,
    RoomPresence,
)


@transaction.atomic
def do_forget_member(user, *, actor) -> dict[str, int]:
    """Removes what was only this person's own state in rooms, when their account closes.

    Memberships, invitations received, blocks and ignores both ways, the
    mentions waiting for them, open presences go;
    contact requests still pending either way are ignored (the other person
    stops seeing them). Messages stay in their conversations under the
    anonymised account (docs/compliance.md): the retention purge, not this,
    forgets deleted ones. Atomic but not durable: compliance calls it inside
    its deletion's transaction.
    """
    present_in = set(RoomPresence.objects.filter(user=user).values_list("room_id", flat=True))
    # Their presence intervals stay, under the anonymised account, their year
    # (PresenceInterval); those still open end now.
    close_member_presence_intervals(user, timezone.now())
    forgotten = {
        "memberships": RoomMembership.objects.filter(user=user).delete()[0],
        "invitations": RoomInvitation.objects.filter(invitee=user).delete()[0],
        "blocks": (
            Block.objects.filter(blocker=user).delete()[0]
            + Block.objects.filter(blocked=user).delete()[0]
        ),
        "ignores": (
            Ignore.objects.filter(ignorer=user).delete()[0]
            + Ignore.objects.filter(ignored=user).delete()[0]
        ),
        "mentions": Mention.objects.filter(user=user).delete()[0],
        "presences": RoomPresence.objects.filter(user=user).delete()[0],
        "notifications": Notification.objects.filter(Q(user=user) | Q(actor=user)).delete()[0],
        "contact_requests_ignored": (
            ContactRequest.objects.filter(status=ContactRequestStatus.PENDING)
            .filter(Q(sender=user) | Q(recipient=user))
            .update(status=ContactRequestStatus.IGNORED, decided_at=timezone.now())
        ),
    }
    record(
        AuditEvent.ROOMS_MEMBER_FORGOTTEN,
        actor=actor,
        target_type=user_model_label(),
        target_id=user.pk,
        details=forgotten,
    )
    for room_id in present_in:
        room = Room(pk=room_id)
        online, members = queries.online_usernames(room), queries.member_count(room)
        transaction.on_commit(partial(notify.presence_changed, room_id, online, members))
    return forgotten


def _deleted_messages(message_ids) -> QuerySet:
    # Only a deleted message is ever forgotten, whatever ids the caller passes.
    return Message.objects.filter(pk__in=list(message_ids), deleted_at__isnull=False)


@transaction.atomic
def do_forget_deleted_message_texts(message_ids, *, actor, reason: str) -> int:
    """Empties the text of deleted messages (their grace period is over); the rows stay
    as the content operation records. Returns how many texts went."""
    messages = _deleted_messages(message_ids).exclude(body="")
    ids = sorted(messages.values_list("pk", flat=True))
    emptied = Message.objects.filter(pk__in=ids).update(body="")
    # Earlier texts of an edited message go with its last one.
    MessageVersion.objects.filter(message_id__in=ids).update(body="")
    if emptied:
        record(
            AuditEvent.DELETED_MESSAGE_TEXTS_FORGOTTEN,
            actor=actor,
            target_type="rooms.message",
            reason=reason,
            details={"messages": emptied, "first_id": ids[0], "last_id": ids[-1]},
        )
    return emptied


@transaction.atomic
def do_forget_deleted_messages(message_ids, *, actor, reason: str) -> int:
    """Deletes the rows of deleted messages (the content operation records' period is
    over). Returns how many rows went."""
    ids = sorted(_deleted_messages(message_ids).values_list("pk", flat=True))
    # Rows of this model only: anything that cascades with a message is not a record.
    removed = Message.objects.filter(pk__in=ids).delete()[1].get(Message._meta.label, 0)
    if removed:
        record(
            AuditEvent.DELETED_MESSAGES_FORGOTTEN,
            actor=actor,
            target_type="rooms.message",
            reason=reason,
            details={"messages": removed, "first_id": ids[0], "last_id": ids[-1]},
        )
    return removed


@transaction.atomic
def do_forget_content_operations(operation_ids, *, actor, reason: str) -> int:
    """Deletes content operation records whose retention period is over; returns how many."""
    ids = sorted(
        ContentOperation.objects.filter(pk__in=list(operation_ids)).values_list("pk", flat=True)
    )
    deleted = ContentOperation.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        record(
            AuditEvent.CONTENT_OPERATIONS_FORGOTTEN,
            actor=actor,
            target_type="rooms.contentoperation",
            reason=reason,
            details={"operations": deleted, "first_id": ids[0], "last_id": ids[-1]},
        )
    return deleted
