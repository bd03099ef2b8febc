"""Posting, editing and deleting messages; read marks; joining a public room."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from rooms import notify, policy, queries
from rooms.actions.common import runs_after_refusal
from rooms.actions.post_sql import lock_room_for_post
from rooms.actions.write_path import (
    StoredMessage,
    _record_mentions,
    hide_message,
    insert_message,
    locked_message,
    record_content_operation,
)
from rooms.models import (
    CLIENT_ID_MAX_LENGTH,
    ContentOperationKind,
    Message,
    MessageVersion,
    Room,
    RoomKind,
    RoomMembership,
)
from rooms.protocol import EDIT_WINDOW_SECONDS, MAX_BODY_LENGTH
from rooms.ratelimit import take_token
from rooms.text import clean_body, mentioned_names, message_json


@dataclass(frozen=True)
class PostResult:
    """A post's outcome: `created` False for a resend (the original returned).
    `message` is the model instance, built on first use for a new message
    (a room socket's post only needs `payload`)."""

    created: bool
    payload: dict
    original: Message | None = None
    stored: StoredMessage | None = None

    @property
    def message(self) -> Message:
        return self.original if self.original is not None else self.stored.message


def validate_client_id(client_id) -> str | None:
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= CLIENT_ID_MAX_LENGTH:
        raise Refused(
            RefusalCode.INVALID,
            _("client_id doit être un texte de 1 à %(max)d caractères.")
            % {"max": CLIENT_ID_MAX_LENGTH},
        )
    if not client_id.isprintable():
        raise Refused(RefusalCode.INVALID, _("client_id contient des caractères invalides."))
    return client_id


def prepare_body(body) -> str:
    """The cleaned body, or a refusal (`invalid` or `too_long`)."""
    if not isinstance(body, str):
        raise Refused(RefusalCode.INVALID, _("Le message doit être un texte."))
    body = clean_body(body)
    if not body:
        raise Refused(RefusalCode.INVALID, _("Le message est vide."))
    if len(body) > MAX_BODY_LENGTH:
        raise Refused(
            RefusalCode.TOO_LONG,
            _("Un message fait au plus %(max)d caractères.") % {"max": MAX_BODY_LENGTH},
        )
    return body


@runs_after_refusal
@transaction.atomic(durable=True)
def do_post_message(
    room: Room,
    body,
    *,
    actor,
    client_id=None,
    account_checked: bool = False,
    reply_to=None,
    via: Carrier | None = None,
    posted_at: datetime | None = None,
) -> PostResult:
    """Stores a message (once per client_id) and, after commit, sends it to the room.

    A resent client_id returns the original message without counting toward
    the rate limit. In a direct room whose first-contact request is not yet
    accepted, the sender's messages are held: stored and shown to the sender,
    but the recipient is not told (only of the first one, as a request).

    `posted_at`: a time in the past, for the demo's conversations only
    (seed_demo; no client can pass it). Nobody is typing then, so the sending
    limit is not taken; the caller posts in time order, as ids are.
    """
    body = prepare_body(body)
    client_id = validate_client_id(client_id)
    # The row lock serialises posts per room: ids commit in order (so a client
    # resuming ?after=<last id> cannot skip a late-committing smaller id), and
    # the slow-mode and client_id checks below cannot race. The look-up of the
    # client_id runs once the lock is held (post_sql.py says why it must).
    room, existing_id = lock_room_for_post(room.pk, actor.pk, client_id)
    if existing_id is not None:
        # A resend: its original, without the checks or a sending-limit token.
        existing = Message.objects.select_related("room", "author").get(pk=existing_id)
        return PostResult(False, message_json(existing), original=existing)
    verdict = policy.can_post(actor, room, body, account_checked=account_checked)
    if not verdict:
        raise Refused.from_verdict(verdict)
    if posted_at is not None and posted_at > timezone.now():
        raise Refused(RefusalCode.INVALID, _("Un message ne peut pas être daté du futur."))
    wait = take_token(actor.pk) if posted_at is None else 0
    if wait:
        raise Refused(
            RefusalCode.RATE_LIMITED,
            _("Vous écrivez trop vite : réessayez dans %(seconds).1f s.") % {"seconds": wait},
        )
    stored = insert_message(
        room,
        actor,
        body,
        client_id=client_id,
        reply_to=_reply_target(room, reply_to),
        via=via,
        posted_at=posted_at,
    )
    return PostResult(True, stored.payload, stored=stored)


# Not durable: the admin calls this inside its own transaction (audit/admin_hooks.py
# makes admin actions atomic), and the on-commit events then wait for that one.
@transaction.atomic
def do_delete_message(
    message: Message, *, actor, reason: str = "", via: Carrier | None = None
) -> Message:
    """Hides a message (soft delete, who and why kept) and tells the room."""
    message = locked_message(message.pk)
    is_author = message.author_id == actor.pk
    if not is_author and not policy.is_room_staff(actor, message.room):
        raise Refused(RefusalCode.FORBIDDEN, _("Vous ne pouvez pas supprimer ce message."))
    if not is_author and not reason.strip():
        raise Refused(RefusalCode.INVALID, _("Indiquez le motif de la suppression."))
    reason = reason.strip() or (AUTHOR_DELETION_REASON if is_author else "")
    if not hide_message(message, actor=actor, reason=reason, via=via):
        return message
    if not is_author:
        record(
            AuditEvent.ROOM_MESSAGE_DELETED,
            actor=actor,
            target_type="rooms.message",
            target_id=message.pk,
            reason=message.deletion_reason,
            details={"room": message.room_id, "author": message.author_id},
        )
    return message


@transaction.atomic(durable=True)
def do_mark_room_read(room: Room, *, actor, up_to_id: int | None = None) -> int:
    """Moves the member's read mark forward (never back); returns the new mark."""
    if up_to_id is None:
        up_to_id = (
            Message.objects.filter(room=room).order_by("-id").values_list("id", flat=True).first()
            or 0
        )
    updated = RoomMembership.objects.filter(
        room=room, user=actor, last_read_message_id__lt=up_to_id
    ).update(last_read_message_id=Greatest("last_read_message_id", Value(up_to_id)))
    # Public rooms are not on the conversations page: nothing there to refresh.
    if updated and room.kind != RoomKind.PUBLIC:
        transaction.on_commit(partial(notify.conversation_changed, actor.pk, room.slug))
    return up_to_id


@transaction.atomic(durable=True)
def do_join_public_room(room: Room, *, actor) -> tuple[RoomMembership, bool]:
    """Makes the user a member of a public room: counted in the room's
    members, with a read mark so that the next visit shows what is new.
    Returns the membership and whether it is new, as get_or_create does."""
    if room.kind != RoomKind.PUBLIC:
        raise Refused(RefusalCode.INVALID, _("Seuls les salons publics se rejoignent ainsi."))
    return _join_public_room(room, actor)


def _join_public_room(room: Room, actor) -> tuple[RoomMembership, bool]:
    # Every socket opening calls this: one read when already a member.
    membership = RoomMembership.objects.filter(room=room, user=actor).first()
    if membership is not None:
        return membership, False
    # A newcomer has missed nothing: the mark starts at the latest message.
    latest = (
        Message.objects.filter(room=room).order_by("-id").values_list("id", flat=True).first() or 0
    )
    return RoomMembership.objects.get_or_create(
        room=room, user=actor, defaults={"last_read_message_id": latest}
    )


def message_id_of(value) -> int:
    """A message id sent by a client, or a refusal (`invalid`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Refused(RefusalCode.INVALID, _("id doit être un identifiant de message."))
    return value


def _reply_target(room: Room, reply_to) -> Message | None:
    """The original a post answers: a visible message of the same room."""
    if reply_to is None:
        return None
    if isinstance(reply_to, bool) or not isinstance(reply_to, int) or reply_to <= 0:
        raise Refused(RefusalCode.INVALID, _("reply_to doit être un identifiant de message."))
    original = (
        Message.objects.filter(pk=reply_to, room=room, deleted_at__isnull=True)
        .select_related("author")
        .first()
    )
    if original is None:
        raise Refused(
            RefusalCode.INVALID, _("Le message auquel vous répondez n'existe pas dans ce salon.")
        )
    return original


def _own_message(message_id, *, actor) -> Message:
    """The actor's own visible message, locked; `invalid` when there is no
    such message (or it is deleted), `forbidden` when it is someone else's."""
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("room", "author", "reply_to", "reply_to__author")
        .filter(pk=message_id_of(message_id), deleted_at__isnull=True)
        .first()
    )
    if message is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Ce message n'existe pas ou plus."))
    if message.author_id != actor.pk:
        raise Refused(
            RefusalCode.FORBIDDEN, _("Seul l'auteur d'un message peut le modifier ou le supprimer.")
        )
    return message


@runs_after_refusal
@transaction.atomic(durable=True)
def do_edit_message(
    message_id: int,
    body,
    *,
    actor,
    account_checked: bool = False,
    via: Carrier | None = None,
) -> Message:
    """The author changes their message's text within EDIT_WINDOW_SECONDS.

    The new text passes the checks of a post (account, room, mute, filters,
    safety signals, length, rate limit; not the slow mode, which is about new
    messages). The text it replaces is kept as a MessageVersion, for
    moderation and legal requests, never shown to members. A filter that would
    hold a post for review refuses the edit instead: the published text stays.
    """
    body = prepare_body(body)
    message = _own_message(message_id, actor=actor)
    if timezone.now() - message.created > timedelta(seconds=EDIT_WINDOW_SECONDS):
        raise Refused(
            RefusalCode.FORBIDDEN,
            _("Un message se modifie dans les %(minutes)d minutes qui suivent son envoi.")
            % {"minutes": EDIT_WINDOW_SECONDS // 60},
        )
    if body == message.body:
        return message
    verdict = policy.can_post(
        actor, message.room, body, account_checked=account_checked, editing=True
    )
    if not verdict:
        raise Refused(verdict.code, verdict.detail)
    wait = take_token(actor.pk)
    if wait:
        raise Refused(
            RefusalCode.RATE_LIMITED,
            _("Vous écrivez trop vite : réessayez dans %(seconds).1f s.") % {"seconds": wait},
        )
    now = timezone.now()
    MessageVersion.objects.create(
        message=message,
        number=MessageVersion.objects.filter(message=message).count(),
        body=message.body,
        written_at=message.edited or message.created,
        replaced_at=now,
    )
    message.body = body
    message.edited = now
    message.mentions = queries.existing_usernames(mentioned_names(body)) if "@" in body else []
    message.save(update_fields=["body", "edited", "mentions"])
    record_content_operation(ContentOperationKind.EDIT, message, actor=actor, at=now, via=via)
    payload = message_json(message)
    if message.mentions:
        _record_mentions(message, message.mentions, payload)
    update = {
        "id": message.id,
        "body": message.body,
        "edited": message.edited.isoformat(),
        "mentions": message.mentions,
    }
    transaction.on_commit(partial(notify.message_updated, message.room_id, update))
    return message


@transaction.atomic(durable=True)
def do_delete_own_message(message_id: int, *, actor, via: Carrier | None = None) -> Message:
    """The author deletes their message: hidden like a moderator's removal
    (who and when kept, reason "author"), kept under a legal hold and purged
    otherwise by the retention policy; the room is told."""
    message = _own_message(message_id, actor=actor)
    hide_message(message, actor=actor, reason=AUTHOR_DELETION_REASON, via=via)
    return message


# The deletion reason of a message its author deleted: the transparency report
# counts these apart from moderators' removals.
AUTHOR_DELETION_REASON = "author"
