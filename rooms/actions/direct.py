"""Direct conversations, contact requests and blocks."""

from functools import partial

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.refusals import RefusalCode, Refused
from rooms import notify, policy
from rooms.actions.notifications import notify_member
from rooms.actions.rooms import unique_slug
from rooms.models import (
    Block,
    ContactRequest,
    ContactRequestStatus,
    NotificationKind,
    Room,
    RoomKind,
    RoomMembership,
    direct_key,
)
from rooms.protocol import CloseCode


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
    # The sender's row, locked: two new conversations opened at once are
    # counted one after the other by the per-hour limits (can_open_direct_room).
    list(get_user_model().objects.select_for_update().filter(pk=actor.pk).values_list("pk"))
    verdict = policy.can_open_direct_room(actor, other)
    if not verdict:
        raise Refused.from_verdict(verdict)
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
        transaction.on_commit(partial(notify.conversation_changed, actor.pk, slug))
        # The sender's page drops its "waiting for an answer" note live.
        transaction.on_commit(
            partial(notify.conversation_changed, request.sender_id, slug, request="accepted")
        )
        notify_member(
            request.sender_id, NotificationKind.CONTACT_ACCEPTED, actor=actor, room=request.room
        )
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
