"""A moderator removes a message: hidden through rooms, with a statement of reasons."""

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.trail import record
from moderation.actions.common import MESSAGE_TARGET, _decision_basis, _require_text
from moderation.actions.misuse import _assess_provider
from moderation.actions.sanctions import _count_violation
from moderation.actions.statements import _statement
from moderation.models import (
    REASON_MAX_LENGTH,
    Ground,
    Measure,
    Report,
    StatementOfReasons,
)
from rooms import actions as room_actions
from rooms.models import Message


def _remove_message(
    message: Message,
    *,
    actor,
    reason: str,
    ground: str,
    clause: str = "",
    automated: bool = False,
    legal_provision: str = "",
    report: Report | None = None,
    order_reference: str = "",
    withheld: bool = False,
    via: Carrier | None = None,
    room_moderator: bool = False,
    confirm_hidden: bool = False,
) -> StatementOfReasons | None:
    """Hides the message through rooms (who and why kept on the row; the room is
    told after commit) and writes the author's statement of reasons. `via`: the
    moderator's request that carried the removal (its content operation, marked
    as a staff action). `room_moderator`: the room's own moderator removes it
    (room_moderators.py): not a staff action, and the audit entry says so.
    `confirm_hidden`: the message is already hidden pending review
    (pending_hides.py), and this removal is the decision that confirms it."""
    message = room_actions.locked_message(message.pk)
    hidden = room_actions.hide_message(
        message, actor=actor, reason=reason, via=via, staff_action=not room_moderator
    )
    if not hidden and not (confirm_hidden and message.deleted_by_id is None):
        return None
    _count_violation(message.author)
    excerpt = message.body if len(message.body) <= 500 else message.body[:500] + "…"
    statement = _statement(
        message.author,
        measure=Measure.REMOVAL,
        facts=_("%(reason)s\n\nMessage du %(date)s : « %(body)s »")
        % {
            "reason": reason,
            "date": date_format(timezone.localtime(message.created), "DATETIME_FORMAT"),
            "body": excerpt,
        },
        ground=ground,
        clause=clause,
        decided_by=actor,
        room=message.room,
        message=message,
        automated=automated,
        legal_provision=legal_provision,
        report=report,
        order_reference=order_reference,
        withheld=withheld,
    )
    record(
        AuditEvent.MESSAGE_REMOVED,
        actor=actor,
        target_type=MESSAGE_TARGET,
        target_id=message.pk,
        reason=reason,
        details={
            "room": message.room_id,
            "author": message.author_id,
            "ground": ground,
            "clause": clause,
            "legal_provision": legal_provision,
            **({"order": order_reference, "withheld": withheld} if order_reference else {}),
            **({"room_moderator": True} if room_moderator else {}),
        },
    )
    return statement


@transaction.atomic
def remove_message_on_order(
    message: Message,
    *,
    actor,
    order_reference: str,
    authority: str,
    legal_provision: str,
    withheld: bool = False,
    via: Carrier | None = None,
) -> StatementOfReasons | None:
    """Gives effect to an authority's removal order (compliance's orders): the
    message is hidden like any removal, with a statement citing the law and the
    order. None when it was already hidden. Runs inside compliance's transaction,
    which audits the order's effect; the Art. 23 assessment of the author is
    moderation's own business and not triggered by an order (its warning would
    tell a member an order asked to keep in the dark)."""
    order_reference = _require_text(order_reference, "order_reference", 100)
    authority = _require_text(authority, "authority", 200)
    ground, clause, legal_provision = _decision_basis(
        Ground.ILLEGAL, None, legal_provision, default_ground=Ground.ILLEGAL
    )
    reason = _("Injonction de retrait %(reference)s de l'autorité suivante : %(authority)s.") % {
        "reference": order_reference,
        "authority": authority,
    }
    return _remove_message(
        message,
        actor=actor,
        reason=reason,
        ground=ground,
        clause=clause,
        legal_provision=legal_provision,
        order_reference=order_reference,
        withheld=withheld,
        via=via,
    )


@transaction.atomic(durable=True)
def do_remove_message(
    message: Message,
    *,
    actor,
    reason,
    ground=None,
    clause=None,
    legal_provision=None,
    via: Carrier | None = None,
) -> Message:
    """A moderator removes a message (DELETE /api/moderation/messages/<id>/, the
    admin's "remove messages" action; docs/moderation.md). `via`: their request."""
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    ground, clause, legal_provision = _decision_basis(
        ground, clause, legal_provision, default_ground=Ground.TERMS_OTHER
    )
    _remove_message(
        message,
        actor=actor,
        reason=reason,
        ground=ground,
        clause=clause,
        legal_provision=legal_provision,
        via=via,
    )
    if ground == Ground.ILLEGAL:
        # Art. 23(1): a warning, then a timed ban if it goes on (misuse.py).
        _assess_provider(message.author, actor=actor)
    message.refresh_from_db()
    return message
