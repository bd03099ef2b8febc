"""The one write path of a message.

Every write to a Message goes through the helpers here: posting, the author's
edit and deletion, moderation's release of a held message, its removals and the
reversal of a removal on appeal. They are not durable: each runs inside its
caller's transaction (the caller checks who may do it and writes its own audit
row), records the content operation (who, when, through which connection), and
tells the room's sockets only once that transaction commits. A new message
and its content operation are written by raw statements (post_sql.py), the
rest through the ORM.
"""

from datetime import datetime
from functools import cached_property, partial

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.trail import record
from core import metrics
from rooms import notify, policy, queries
from rooms.actions.notifications import notify_member
from rooms.actions.post_sql import insert_message_and_operation
from rooms.models import (
    ContactRequest,
    ContactRequestStatus,
    ContentOperation,
    ContentOperationKind,
    Mention,
    Message,
    NotificationKind,
    Room,
    RoomKind,
    RoomMembership,
)
from rooms.text import mentioned_names, message_json, reply_json


def locked_message(message_id: int) -> Message:
    """The message, its row locked until the caller's transaction ends (two
    moderators hiding or restoring it at once then act one after the other)."""
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("room", "author")
        .get(pk=message_id)
    )


def record_content_operation(
    kind: ContentOperationKind,
    message: Message,
    *,
    actor,
    at,
    via: Carrier | None,
    staff_member=None,
) -> None:
    """The legal trace of a write (rooms.models.ContentOperation): one insert,
    in the write's transaction. `via`: the connection that carried it; None
    when nothing did (a command, a filter). `staff_member`: a staff action (a
    moderator's removal, a held message's release), `via` being then that staff
    member's request, not the author's connection."""
    ContentOperation.objects.create(
        content_id=message.pk,
        room_id=message.room_id,
        kind=kind,
        at=at,
        actor=actor,
        staff_member=staff_member,
        **(via.as_fields() if via is not None else {}),
    )


class StoredMessage:
    """A message just inserted by `insert_message`: its JSON at once, its model
    instance only when something asks for it (a socket's plain post never does)."""

    def __init__(self, *, id, room, author, body, client_id, reply_to, mentions, created):
        self.id = id
        self.room = room
        self.author = author
        self.body = body
        self.client_id = client_id
        self.reply_to = reply_to
        self.mentions = mentions
        self.created = created
        # message_json's fields, built from the inserted values (docs/protocol.md).
        self.payload = {
            "id": id,
            "room": room.slug,
            "author": author.username,
            "body": body,
            "created": created.isoformat(),
            "client_id": client_id,
            "edited": None,
            "reply_to": reply_json(reply_to),
            "mentions": list(mentions),
            "reactions": {},
        }

    @cached_property
    def message(self) -> Message:
        message = Message(
            id=self.id,
            room=self.room,
            author=self.author,
            body=self.body,
            client_id=self.client_id,
            reply_to=self.reply_to,
            mentions=self.mentions,
            created=self.created,
        )
        message._state.adding = False
        message._state.db = connection.alias
        return message


def insert_message(
    room: Room,
    author,
    body: str,
    *,
    client_id: str | None = None,
    reply_to: Message | None = None,
    via: Carrier | None = None,
    posted_at: datetime | None = None,
    staff_member=None,
) -> StoredMessage:
    """Stores a message that the caller has checked (`policy.can_post`) in `room`,
    whose row the caller holds locked (ids then commit in order).

    On commit the room's sockets get it (`message.new`) and the other members'
    conversation pages are told. In a direct room whose first-contact request is
    not accepted, only the first message of the request reaches its recipient.
    `reply_to`: the original it answers, checked by the caller (same room,
    visible). Its @mentions are stored with it and told to those they reach.
    Its JSON (docs/protocol.md) is built once, from the inserted values.
    `via`: the connection that carried the post (its content operation).
    `posted_at`: the message's time when it is not now (the demo's past
    conversations); its content operation carries the same time.
    `staff_member`: who published it for its author (a held message released),
    `via` being then their request.
    """
    mentions = queries.existing_usernames(mentioned_names(body)) if "@" in body else []
    created = posted_at or timezone.now()
    # The message and its content operation (the legal trace of its creation,
    # with the connection that carried it): one statement on PostgreSQL.
    message_id = insert_message_and_operation(
        room_id=room.pk,
        author_id=author.pk,
        body=body,
        created=created,
        client_id=client_id,
        reply_to_id=reply_to.pk if reply_to is not None else None,
        mentions=mentions,
        carrier_fields=via.as_fields() if via is not None else {},
        staff_member_id=staff_member.pk if staff_member is not None else None,
    )
    stored = StoredMessage(
        id=message_id,
        room=room,
        author=author,
        body=body,
        client_id=client_id,
        reply_to=reply_to,
        mentions=mentions,
        created=created,
    )
    payload = stored.payload
    if mentions:
        _record_mentions(stored.message, mentions, payload)
    notify_ids = []
    if room.kind != RoomKind.PUBLIC:
        message = stored.message
        RoomMembership.objects.filter(room=room, user=author).update(
            last_read_message_id=message.id
        )
        notify_ids = list(
            RoomMembership.objects.filter(room=room)
            .exclude(user=author)
            .values_list("user_id", flat=True)
        )
        request = ContactRequest.objects.filter(room=room, sender=author).first()
        if request is not None and not request.is_accepted:
            first = not Message.objects.filter(room=room, author=author, id__lt=message.id).exists()
            show_request = first and request.status == ContactRequestStatus.PENDING
            notify_ids = [request.recipient_id] if show_request else []
            if show_request:
                notify_member(
                    request.recipient_id,
                    NotificationKind.CONTACT_REQUEST,
                    actor=author,
                    room=room,
                    message=message,
                )
    transaction.on_commit(partial(metrics.message_stored, room.kind))
    transaction.on_commit(partial(notify.message_posted, room.id, payload, notify_ids))
    return stored


def hide_message(
    message: Message, *, actor, reason: str, via: Carrier | None = None, staff_action: bool = False
) -> bool:
    """Hides a message (soft delete: who, when and why stay on the row) and, on
    commit, tells the room (`message.deleted`). `message` comes from
    `locked_message`. False when it was already hidden. `staff_action`: the
    actor is staff removing it (moderation), `via` their request. No actor: no
    person hid it (moderation's hiding pending review, which its audit entry
    records), so there is no content operation to trace."""
    if message.deleted_at is not None:
        return False
    message.deleted_at = timezone.now()
    message.deleted_by = actor
    message.deletion_reason = reason
    message.save(update_fields=["deleted_at", "deleted_by", "deletion_reason"])
    if actor is not None:
        record_content_operation(
            ContentOperationKind.DELETE,
            message,
            actor=actor,
            at=message.deleted_at,
            via=via,
            staff_member=actor if staff_action else None,
        )
    transaction.on_commit(partial(notify.message_deleted, message.room_id, message.id))
    return True


def restore_message(message: Message, *, actor, reason: str) -> bool:
    """Shows a hidden message again and, on commit, sends it to the room's open
    sockets (`message.new` with its original id: clients place it by id).
    `message` comes from `locked_message`. False when it was not hidden.

    The row forgets who hid it and why, so the restore is written to the audit
    trail here, with who restored it and why.
    """
    if message.deleted_at is None:
        return False
    hidden_by = message.deleted_by_id
    message.deleted_at = None
    message.deleted_by = None
    message.deletion_reason = ""
    message.save(update_fields=["deleted_at", "deleted_by", "deletion_reason"])
    record(
        AuditEvent.ROOM_MESSAGE_RESTORED,
        actor=actor,
        target_type="rooms.message",
        target_id=message.pk,
        reason=reason,
        details={"room": message.room_id, "author": message.author_id, "hidden_by": hidden_by},
    )
    transaction.on_commit(partial(notify.message_restored, message.room_id, message_json(message)))
    return True


def _record_mentions(message: Message, usernames: list[str], payload: dict) -> None:
    """Stores the mentions that reach their person and tells them after commit,
    on every socket of theirs (the conversations page included). None reaches
    the author, someone who blocks or ignores the author (or is blocked by
    them), nor someone who may not read the room."""
    already = set(Mention.objects.filter(message=message).values_list("user_id", flat=True))
    users = get_user_model().objects.filter(username__in=usernames, is_active=True)
    reached = []
    for user in users.exclude(pk=message.author_id).exclude(pk__in=already):
        if message.author_id in queries.hidden_from(user):
            continue
        if not policy.can_join(user, message.room):
            continue
        reached.append(user)
    Mention.objects.bulk_create([Mention(message=message, user=user) for user in reached])
    for user in reached:
        # The mention stays in the room either way; a muted room notifies nothing.
        notify_member(
            user.pk,
            NotificationKind.MENTION,
            actor=message.author,
            room=message.room,
            message=message,
        )
        transaction.on_commit(partial(notify.mentioned, user.pk, message.room.slug, payload))
