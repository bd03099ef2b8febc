"""Legal holds: the retention purge skips an account or room while one is active."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.refusals import records_staff_refusals
from audit.trail import record
from compliance.actions.common import (
    CHANGE_PERMISSION,
    HOLD_TARGET,
    _check_permission,
    _required_text,
)
from compliance.models import (
    LegalHold,
    LegalRequest,
)
from core.refusals import RefusalCode, Refused


def _place_hold(request: LegalRequest, *, user=None, room=None, actor) -> LegalHold:
    """Suspends the retention purge of one account or room; part of opening a
    requisition (do_open_legal_request audits the holds it placed)."""
    if (user is None) == (room is None):
        raise Refused(RefusalCode.INVALID, _("Une conservation vise un compte ou un salon."))
    existing = LegalHold.objects.filter(
        request=request, user=user, room=room, released_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    return LegalHold.objects.create(request=request, user=user, room=room, placed_by=actor)


@records_staff_refusals
@transaction.atomic(durable=True)
def do_release_hold(hold: LegalHold, *, actor, reason) -> LegalHold:
    """Ends a hold: the data it protected follows the retention policy again."""
    _check_permission(actor, CHANGE_PERMISSION)
    reason = _required_text(reason, _("motif"))
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise Refused(RefusalCode.INVALID_STATUS, _("Cette conservation est déjà levée."))
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.release_reason = reason
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    record(
        AuditEvent.LEGAL_HOLD_RELEASED,
        actor=actor,
        target_type=HOLD_TARGET,
        target_id=hold.pk,
        reason=reason,
        details={"request": hold.request_id, "user": hold.user_id, "room": hold.room_id},
    )
    return hold
