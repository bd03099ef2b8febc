"""Messages a filter held for review: kept, then released or rejected by a moderator."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation.actions.common import HELD_TARGET, _require_text
from moderation.models import (
    REASON_MAX_LENGTH,
    FilterRule,
    HeldMessage,
    HeldStatus,
)
from rooms import actions as room_actions
from rooms import policy
from rooms.models import Message, Room


@transaction.atomic(durable=True)
def do_hold_message(rule_id: int, user_id: int, room_id: int, body: str) -> HeldMessage:
    """Keeps a message a filter held, for a moderator to release or reject.

    Runs after rooms' refused post has rolled back, in its own transaction.
    """
    held = HeldMessage.objects.create(
        room_id=room_id,
        author_id=user_id,
        body=body,
        rule=FilterRule.objects.filter(pk=rule_id).first(),
    )
    record(
        AuditEvent.MESSAGE_HELD,
        actor=None,
        target_type=HELD_TARGET,
        target_id=held.pk,
        details={"rule": rule_id, "room": room_id, "user": user_id},
    )
    return held


@transaction.atomic(durable=True)
def do_release_held_message(held: HeldMessage, *, actor) -> Message:
    """Posts the held message as its author wrote it, now, through rooms' one
    write path: the same `policy.can_post` as any post (an archived room, a block,
    a mute or a ban refuse it), minus the filters a moderator has just overruled."""
    held = HeldMessage.objects.select_for_update().get(pk=held.pk)
    if held.status != HeldStatus.PENDING:
        raise Refused(RefusalCode.CONFLICT, _("Ce message a déjà été traité."))
    # Rooms' lock order: the room's row, as a post takes it (ids commit in order).
    room = Room.objects.select_for_update().get(pk=held.room_id)
    verdict = policy.can_post(held.author, room, held.body, reviewed=True)
    if not verdict:
        raise Refused(
            RefusalCode.CONFLICT,
            _("Son auteur ne peut plus écrire ici (%(reason)s) : refusez plutôt ce message.")
            % {"reason": verdict.detail},
        )
    message, _payload = room_actions.store_message(room, held.author, held.body)
    held.status = HeldStatus.RELEASED
    held.decided_by = actor
    held.decided_at = timezone.now()
    held.message = message
    held.save(update_fields=["status", "decided_by", "decided_at", "message"])
    record(
        AuditEvent.HELD_MESSAGE_RELEASED,
        actor=actor,
        target_type=HELD_TARGET,
        target_id=held.pk,
        details={"message": message.pk, "room": room.pk},
    )
    return message


@transaction.atomic(durable=True)
def do_reject_held_message(held: HeldMessage, *, actor, reason) -> HeldMessage:
    held = HeldMessage.objects.select_for_update().get(pk=held.pk)
    if held.status != HeldStatus.PENDING:
        raise Refused(RefusalCode.CONFLICT, _("Ce message a déjà été traité."))
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    held.status = HeldStatus.REJECTED
    held.decided_by = actor
    held.decided_at = timezone.now()
    held.save(update_fields=["status", "decided_by", "decided_at"])
    record(
        AuditEvent.HELD_MESSAGE_REJECTED,
        actor=actor,
        target_type=HELD_TARGET,
        target_id=held.pk,
        reason=reason,
    )
    return held
