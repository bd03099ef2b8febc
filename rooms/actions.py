"""Every change to rooms, messages and blocks: one function each.

The HTTP API, the WebSocket consumer, the admin and the management commands
call these and nothing else. Each is atomic; events to sockets go out only
once the transaction has committed.

Over 500 lines on purpose: rooms' writes stay one module (the layout other apps
and helpers rely on, `from rooms import actions`), sections per noun below;
the helpers that write a Message (store, hide, restore) come first.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial, wraps

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.trail import record, user_model_label
from core import metrics
from core.refusals import RefusalCode, Refused
from rooms import notify, policy, queries
from rooms.models import (
    CLIENT_ID_MAX_LENGTH,
    Block,
    ContactRequest,
    ContactRequestStatus,
    ContentOperation,
    ContentOperationKind,
    Ignore,
    InvitationStatus,
    Mention,
    Message,
    MessageVersion,
    Reaction,
    Room,
    RoomInvitation,
    RoomKind,
    RoomMembership,
    RoomPresence,
    RoomRole,
    direct_key,
)
from rooms.presence import presence_deadline
from rooms.protocol import EDIT_WINDOW_SECONDS, MAX_BODY_LENGTH, CloseCode
from rooms.ratelimit import take_token
from rooms.text import clean_body, mentioned_names, message_json, reaction_emoji


def runs_after_refusal(action):
    """Outside the action's transaction: once a refusal has rolled it back,
    runs the refusal's follow-up (policy.Verdict.after_refusal)."""

    @wraps(action)
    def wrapper(*args, **kwargs):
        try:
            return action(*args, **kwargs)
        except Refused as refusal:
            metrics.message_refused(refusal.code)
            if refusal.after_refusal is not None:
                refusal.after_refusal()
            raise

    return wrapper


# --- the one write path of a message -------------------------------------------------------
# Every write to a Message goes through the three helpers below: posting, the author's
# deletion, moderation's release of a held message, its removals and the reversal of
# a removal on appeal. They are not durable: each runs inside its caller's transaction
# (the caller checks who may do it and writes its own audit row), and tells the room's
# sockets only once that transaction commits.


def locked_message(message_id: int) -> Message:
    """The message, its row locked until the caller's transaction ends (two
    moderators hiding or restoring it at once then act one after the other)."""
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("room", "author")
        .get(pk=message_id)
    )


def record_content_operation(
    kind: ContentOperationKind, message: Message, *, actor, at, via: Carrier | None
) -> None:
    """The legal trace of a write (rooms.models.ContentOperation): one insert,
    in the write's transaction. `via`: the connection that carried it; None
    when nothing did (a held message released by a moderator, the admin)."""
    ContentOperation.objects.create(
        content_id=message.pk,
        room_id=message.room_id,
        kind=kind,
        at=at,
        actor=actor,
        **(via.as_fields() if via is not None else {}),
    )


def store_message(
    room: Room,
    author,
    body: str,
    *,
    client_id: str | None = None,
    reply_to: Message | None = None,
    via: Carrier | None = None,
) -> tuple[Message, dict]:
    """Stores a message that the caller has checked (`policy.can_post`) in `room`,
    whose row the caller holds locked (ids then commit in order).

    On commit the room's sockets get it (`message.new`) and the other members'
    conversation pages are told. In a direct room whose first-contact request is
    not accepted, only the first message of the request reaches its recipient.
    `reply_to`: the original it answers, checked by the caller (same room,
    visible). Its @mentions are stored with it and told to those they reach.
    Returns the message and its JSON (docs/protocol.md), serialised once.
    `via`: the connection that carried the post (its content operation).
    """
    mentions = queries.existing_usernames(mentioned_names(body)) if "@" in body else []
    message = Message.objects.create(
        room=room,
        author=author,
        body=body,
        client_id=client_id,
        reply_to=reply_to,
        mentions=mentions,
    )
    message.room = room
    message.author = author
    record_content_operation(
        ContentOperationKind.CREATE, message, actor=author, at=message.created, via=via
    )
    payload = message_json(message, reactions={})
    if mentions:
        _record_mentions(message, mentions, payload)
    notify_ids = []
    if room.kind != RoomKind.PUBLIC:
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
    transaction.on_commit(partial(metrics.message_stored, room.kind))
    transaction.on_commit(partial(notify.message_posted, room.id, payload, notify_ids))
    return message, payload


def hide_message(message: Message, *, actor, reason: str, via: Carrier | None = None) -> bool:
    """Hides a message (soft delete: who, when and why stay on the row) and, on
    commit, tells the room (`message.deleted`). `message` comes from
    `locked_message`. False when it was already hidden."""
    if message.deleted_at is not None:
        return False
    message.deleted_at = timezone.now()
    message.deleted_by = actor
    message.deletion_reason = reason
    message.save(update_fields=["deleted_at", "deleted_by", "deletion_reason"])
    record_content_operation(
        ContentOperationKind.DELETE, message, actor=actor, at=message.deleted_at, via=via
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


# --- messages --------------------------------------------------------------------------


@dataclass(frozen=True)
class PostResult:
    message: Message
    created: bool
    payload: dict


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
) -> PostResult:
    """Stores a message (once per client_id) and, after commit, sends it to the room.

    A resent client_id returns the original message without counting toward
    the rate limit. In a direct room whose first-contact request is not yet
    accepted, the sender's messages are held: stored and shown to the sender,
    but the recipient is not told (only of the first one, as a request).
    """
    body = prepare_body(body)
    client_id = validate_client_id(client_id)
    # The row lock serialises posts per room: ids commit in order (so a client
    # resuming ?after=<last id> cannot skip a late-committing smaller id), and
    # the slow-mode and client_id checks below cannot race.
    room = Room.objects.select_for_update().get(pk=room.pk)
    if client_id is not None:
        existing = (
            Message.objects.filter(room=room, author=actor, client_id=client_id)
            .select_related("room", "author")
            .first()
        )
        if existing is not None:
            return PostResult(existing, False, message_json(existing))
    verdict = policy.can_post(actor, room, body, account_checked=account_checked)
    if not verdict:
        raise Refused.from_verdict(verdict)
    wait = take_token(actor.pk)
    if wait:
        raise Refused(
            RefusalCode.RATE_LIMITED,
            _("Vous écrivez trop vite : réessayez dans %(seconds).1f s.") % {"seconds": wait},
        )
    message, payload = store_message(
        room, actor, body, client_id=client_id, reply_to=_reply_target(room, reply_to), via=via
    )
    return PostResult(message, True, payload)


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


# --- rooms ---------------------------------------------------------------------------------


# Paths under /rooms/ that are not rooms.
RESERVED_SLUGS = {"new"}


def unique_slug(prefix: str) -> str:
    while True:
        slug = f"{prefix}-{secrets.token_hex(6)}"
        if not Room.objects.filter(slug=slug).exists():
            return slug


# Not durable: the admin calls this inside its own transaction (audit/admin_hooks.py
# makes admin actions atomic), and the on-commit events then wait for that one.
@transaction.atomic
def do_create_room(
    *,
    actor,
    kind: str,
    slug: str,
    name: str,
    description: str = "",
    theme: str = "",
    rules: str = "",
    slow_mode_seconds: int = 0,
) -> Room:
    """Creates a public or private room; the creator owns a private one."""
    if kind not in (RoomKind.PUBLIC, RoomKind.PRIVATE):
        raise Refused(RefusalCode.INVALID, _("Type de salon inconnu."))
    if slug in RESERVED_SLUGS or Room.objects.filter(slug=slug).exists():
        raise Refused(RefusalCode.INVALID, _("Cet identifiant de salon est déjà pris."))
    room = Room.objects.create(
        kind=kind,
        slug=slug,
        name=name,
        description=description,
        theme=theme,
        rules=rules,
        slow_mode_seconds=slow_mode_seconds,
        created_by=actor,
    )
    if kind == RoomKind.PRIVATE and actor is not None:
        RoomMembership.objects.create(room=room, user=actor, role=RoomRole.OWNER)
    record(
        AuditEvent.ROOM_CREATED,
        actor=actor,
        target_type="rooms.room",
        target_id=room.pk,
        details={"slug": slug, "kind": kind},
    )
    return room


# Not durable: the admin calls this inside its own transaction (audit/admin_hooks.py
# makes admin actions atomic), and the on-commit events then wait for that one.
@transaction.atomic
def do_archive_room(room: Room, *, actor, reason: str = "") -> Room:
    """Archives a room: hidden, read-only, its open sockets closed."""
    if not policy.is_room_staff(actor, room):
        raise Refused(RefusalCode.FORBIDDEN, _("Vous ne pouvez pas archiver ce salon."))
    if not reason.strip():
        raise Refused(RefusalCode.INVALID, _("Indiquez le motif de l'archivage."))
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.is_archived:
        return room
    room.is_archived = True
    room.archived_at = timezone.now()
    room.save(update_fields=["is_archived", "archived_at"])
    record(
        AuditEvent.ROOM_ARCHIVED,
        actor=actor,
        target_type="rooms.room",
        target_id=room.pk,
        reason=reason,
        details={"slug": room.slug},
    )
    transaction.on_commit(partial(notify.close_room_sockets, room.id, int(CloseCode.NOT_FOUND)))
    return room


@transaction.atomic(durable=True)
def do_invite_to_room(room: Room, invitee, *, actor) -> RoomInvitation:
    if room.kind != RoomKind.PRIVATE:
        raise Refused(RefusalCode.INVALID, _("On n'invite que dans un salon privé."))
    if not policy.is_room_staff(actor, room):
        raise Refused(RefusalCode.FORBIDDEN, _("Seuls les responsables du salon peuvent inviter."))
    if RoomMembership.objects.filter(room=room, user=invitee).exists():
        raise Refused(RefusalCode.INVALID, _("Cette personne est déjà membre du salon."))
    if policy.is_blocked_between(actor, invitee):
        raise Refused(RefusalCode.BLOCKED, _("Vous ne pouvez pas inviter cette personne."))
    invitation, _created = RoomInvitation.objects.get_or_create(
        room=room,
        invitee=invitee,
        status=InvitationStatus.PENDING,
        defaults={"invited_by": actor},
    )
    transaction.on_commit(partial(notify.conversation_changed, invitee.pk, room.slug))
    return invitation


@transaction.atomic(durable=True)
def do_answer_invitation(invitation: RoomInvitation, *, actor, accept: bool) -> RoomInvitation:
    invitation = RoomInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.invitee_id != actor.pk:
        raise Refused(RefusalCode.NOT_FOUND, _("Invitation introuvable."))
    if invitation.status != InvitationStatus.PENDING:
        return invitation
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    invitation.decided_at = timezone.now()
    invitation.save(update_fields=["status", "decided_at"])
    if accept:
        RoomMembership.objects.get_or_create(room_id=invitation.room_id, user=actor)
    return invitation


# --- direct messages -----------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_open_direct_room(other, *, actor) -> Room:
    """The direct room between `actor` and `other`, created on first use.

    Refused when either blocks the other or when `other` does not accept
    direct messages from `actor`. A new conversation starts as a contact
    request from `actor`, held until `other` accepts it.
    """
    if other.pk == actor.pk:
        raise Refused(RefusalCode.INVALID, _("Vous ne pouvez pas vous écrire à vous-même."))
    if not other.is_active:
        raise Refused(RefusalCode.NOT_FOUND, _("Utilisateur introuvable."))
    room = Room.objects.filter(direct_key=direct_key(actor, other)).first()
    if room is not None and policy.held_for(room, actor) is not None:
        if policy.is_blocked_between(actor, other):
            raise Refused(RefusalCode.BLOCKED, _("Cette conversation est bloquée."))
        return room  # actor is the recipient of a request: they get to answer it
    verdict = policy.direct_message_verdict(actor, other, room)
    if not verdict:
        raise Refused.from_verdict(verdict)
    if room is not None:
        return room
    try:
        with transaction.atomic():
            room = Room.objects.create(
                kind=RoomKind.DIRECT,
                slug=unique_slug("dm"),
                direct_key=direct_key(actor, other),
                created_by=actor,
            )
            RoomMembership.objects.bulk_create(
                [RoomMembership(room=room, user=actor), RoomMembership(room=room, user=other)]
            )
            ContactRequest.objects.create(room=room, sender=actor, recipient=other)
    except IntegrityError:
        # Both opened it at once: the other transaction's room wins.
        room = Room.objects.get(direct_key=direct_key(actor, other))
    return room


def _contact_request_for(request: ContactRequest, actor) -> ContactRequest:
    request = ContactRequest.objects.select_for_update().get(pk=request.pk)
    if request.recipient_id != actor.pk:
        raise Refused(RefusalCode.NOT_FOUND, _("Demande introuvable."))
    return request


@transaction.atomic(durable=True)
def do_accept_contact_request(request: ContactRequest, *, actor) -> ContactRequest:
    """The recipient accepts: the held messages become visible, the room opens."""
    request = _contact_request_for(request, actor)
    if request.status == ContactRequestStatus.BLOCKED:
        raise Refused(RefusalCode.BLOCKED, _("Débloquez d'abord cette personne."))
    if request.status != ContactRequestStatus.ACCEPTED:
        request.status = ContactRequestStatus.ACCEPTED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        slug = request.room.slug
        for user_id in (request.sender_id, request.recipient_id):
            transaction.on_commit(partial(notify.conversation_changed, user_id, slug))
    return request


@transaction.atomic(durable=True)
def do_ignore_contact_request(request: ContactRequest, *, actor) -> ContactRequest:
    """The recipient ignores it: the sender is not told, their messages stay held."""
    request = _contact_request_for(request, actor)
    if request.status == ContactRequestStatus.PENDING:
        request.status = ContactRequestStatus.IGNORED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        transaction.on_commit(partial(notify.conversation_changed, actor.pk, request.room.slug))
    return request


# --- blocks --------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_block_user(target, *, actor) -> Block:
    """`actor` blocks `target`: no direct messages either way, their open
    direct-room sockets are closed, a pending request from `target` is closed."""
    if target.pk == actor.pk:
        raise Refused(RefusalCode.INVALID, _("Vous ne pouvez pas vous bloquer vous-même."))
    block, _created = Block.objects.get_or_create(blocker=actor, blocked=target)
    ContactRequest.objects.filter(sender=target, recipient=actor).exclude(
        status=ContactRequestStatus.ACCEPTED
    ).update(status=ContactRequestStatus.BLOCKED, decided_at=timezone.now())
    room = Room.objects.filter(direct_key=direct_key(actor, target)).first()
    if room is not None:
        for user in (target, actor):
            transaction.on_commit(
                partial(notify.close_user_sockets, user.pk, int(CloseCode.FORBIDDEN), room.id)
            )
            transaction.on_commit(partial(notify.conversation_changed, user.pk, room.slug))
    for user in (target, actor):
        transaction.on_commit(partial(notify.relations_changed, user.pk))
    return block


@transaction.atomic(durable=True)
def do_unblock_user(target, *, actor) -> bool:
    """Lifts actor's block on target; True if there was one."""
    deleted, _detail = Block.objects.filter(blocker=actor, blocked=target).delete()
    ContactRequest.objects.filter(
        sender=target, recipient=actor, status=ContactRequestStatus.BLOCKED
    ).update(status=ContactRequestStatus.IGNORED)
    if deleted:
        for user in (target, actor):
            transaction.on_commit(partial(notify.relations_changed, user.pk))
    return bool(deleted)


# --- presence ------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_enter_room(room: Room, channel_name: str, *, actor) -> list[str]:
    """Records an open socket; tells the room if its online set changed.

    Opening a public room's socket is what makes a newcomer a member (never
    fetching its page: pages change nothing on GET). The handshake carries
    the exact-Origin check, so no other site can make a browser join."""
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.kind == RoomKind.PUBLIC and not room.is_archived:
        _join_public_room(room, actor)
    before = queries.online_usernames(room)
    # Sockets of a dead process stopped being refreshed: forget them here.
    RoomPresence.objects.filter(room=room, seen_at__lt=presence_deadline()).delete()
    RoomPresence.objects.update_or_create(
        channel_name=channel_name,
        defaults={"room": room, "user": actor, "seen_at": timezone.now()},
    )
    after = queries.online_usernames(room)
    if after != before:
        transaction.on_commit(partial(notify.presence_changed, room.id, after))
    return after


@transaction.atomic(durable=True)
def do_leave_room(room: Room, channel_name: str, *, actor) -> list[str]:
    room = Room.objects.select_for_update().get(pk=room.pk)
    before = queries.online_usernames(room)
    RoomPresence.objects.filter(channel_name=channel_name, user=actor).delete()
    after = queries.online_usernames(room)
    if after != before:
        transaction.on_commit(partial(notify.presence_changed, room.id, after))
    return after


# --- forgetting a person (called by compliance: account deletion, retention purge) -------------


@transaction.atomic
def do_forget_member(user, *, actor) -> dict[str, int]:
    """Removes what was only this person's own state in rooms, when their account closes.

    Memberships, invitations received, blocks both ways, open presences go;
    contact requests still pending either way are ignored (the other person
    stops seeing them). Messages stay in their conversations under the
    anonymised account (docs/compliance.md): the retention purge, not this,
    forgets deleted ones. Atomic but not durable: compliance calls it inside
    its deletion's transaction.
    """
    present_in = set(RoomPresence.objects.filter(user=user).values_list("room_id", flat=True))
    forgotten = {
        "memberships": RoomMembership.objects.filter(user=user).delete()[0],
        "invitations": RoomInvitation.objects.filter(invitee=user).delete()[0],
        "blocks": (
            Block.objects.filter(blocker=user).delete()[0]
            + Block.objects.filter(blocked=user).delete()[0]
        ),
        "presences": RoomPresence.objects.filter(user=user).delete()[0],
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
        online = queries.online_usernames(Room(pk=room_id))
        transaction.on_commit(partial(notify.presence_changed, room_id, online))
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


# --- conversation: replies, mentions, edits, deletions, reactions, ignores -----------------


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
        transaction.on_commit(partial(notify.mentioned, user.pk, message.room.slug, payload))


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


@transaction.atomic(durable=True)
def do_react(message_id: int, emoji, *, actor, add: bool) -> dict[str, int]:
    """Adds or takes back the actor's `emoji` on a message of a room they may
    read; one of each emoji per person. Returns the message's counts; the room
    gets them (`reactions`) when they changed."""
    chosen = reaction_emoji(emoji)
    if chosen is None:
        raise Refused(RefusalCode.INVALID, _("Cette réaction n'est pas proposée."))
    # The lock orders concurrent reactions, so the last counts sent are the true ones.
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("room")
        .filter(pk=message_id_of(message_id), deleted_at__isnull=True)
        .first()
    )
    if message is None or not policy.can_join(actor, message.room):
        raise Refused(RefusalCode.NOT_FOUND, _("Ce message n'existe pas ou plus."))
    if add:
        changed = not Reaction.objects.filter(message=message, user=actor, emoji=chosen).exists()
        if changed:
            wait = take_token(actor.pk)
            if wait:
                raise Refused(
                    RefusalCode.RATE_LIMITED,
                    _("Vous réagissez trop vite : réessayez dans %(seconds).1f s.")
                    % {"seconds": wait},
                )
            Reaction.objects.create(message=message, user=actor, emoji=chosen)
    else:
        changed = bool(
            Reaction.objects.filter(message=message, user=actor, emoji=chosen).delete()[0]
        )
    counts = queries.reaction_counts([message.id]).get(message.id, {})
    if changed:
        transaction.on_commit(
            partial(notify.reactions_changed, message.room_id, message.id, counts)
        )
    return counts


@transaction.atomic(durable=True)
def do_ignore_user(target, *, actor) -> Ignore:
    """`actor` ignores `target`: target's messages collapse for the actor, their
    mentions and typing stop reaching them. Target is not told."""
    if target.pk == actor.pk:
        raise Refused(RefusalCode.INVALID, _("Vous ne pouvez pas vous ignorer vous-même."))
    ignore, _created = Ignore.objects.get_or_create(ignorer=actor, ignored=target)
    transaction.on_commit(partial(notify.relations_changed, actor.pk))
    return ignore


@transaction.atomic(durable=True)
def do_unignore_user(target, *, actor) -> bool:
    """Lifts actor's ignore on target; True if there was one."""
    deleted, _detail = Ignore.objects.filter(ignorer=actor, ignored=target).delete()
    if deleted:
        transaction.on_commit(partial(notify.relations_changed, actor.pk))
    return bool(deleted)
