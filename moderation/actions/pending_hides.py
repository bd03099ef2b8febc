"""A message hidden pending review: reliable reporters, and no moderator online.

When `MODERATION_AUTOHIDE_REPORTERS` members whose reports are usually upheld
(moderation/reputation.py) report the same message and no moderator is online
(moderation/staff_presence.py), the message is hidden at once rather than left
in view until someone wakes up. It is a provisional measure, reversible: the
author receives a statement of reasons saying so, the queue shows the report as
"masqué en attente d'examen", and the moderator's decision on the report either
confirms it (a removal: the moderator's own statement follows) or restores the
message (any other outcome). These helpers run inside the report's and the
decision's transactions (moderation/actions/reports.py).
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from moderation import reputation
from moderation.actions.common import MESSAGE_TARGET, REPORT_TARGET, _decision_basis
from moderation.actions.statements import _statement
from moderation.app_settings import app_settings
from moderation.dsa import AutomatedDecision
from moderation.models import (
    CATEGORY_GROUND,
    Measure,
    Report,
    ReportSource,
    StatementOfReasons,
)
from moderation.staff_presence import moderators_online
from rooms import actions as room_actions

HIDE_REASON = "pending_review"


def _hide_pending_review(primary: Report, *, source: str) -> bool:
    """Hides the group's message when enough good reporters flagged it and no
    moderator is online. `primary` is locked (the grouping locks it). True when
    it hid the message."""
    if (
        primary.hidden_pending_review
        or primary.target_message_id is None
        or source not in (ReportSource.USER, ReportSource.TRUSTED_FLAGGER)
    ):
        return False
    reporters = reputation.reputations(reputation.group_reporters(primary))
    good = sorted(pk for pk, standing in reporters.items() if standing.is_good)
    if len(good) < app_settings.MODERATION_AUTOHIDE_REPORTERS:
        return False
    if moderators_online():
        # Someone can look now: the queue's order brings it to them first.
        return False
    message = room_actions.locked_message(primary.target_message_id)
    if not room_actions.hide_message(message, actor=None, reason=HIDE_REASON):
        return False
    primary.hidden_pending_review = True
    primary.save(update_fields=["hidden_pending_review"])
    ground, clause, provision = _decision_basis(
        None, None, None, default_ground=CATEGORY_GROUND[primary.category], automated=True
    )
    _statement(
        message.author,
        measure=Measure.REMOVAL,
        facts=_(
            "Votre message a été masqué en attendant qu'un modérateur l'examine : "
            "plusieurs membres dont les signalements sont habituellement fondés l'ont "
            "signalé (motif : %(category)s) alors qu'aucun modérateur n'était disponible. "
            "Ce masquage est provisoire : si le modérateur ne retient pas le signalement, "
            "votre message sera rétabli."
        )
        % {"category": primary.get_category_display()},
        ground=ground,
        clause=clause,
        legal_provision=provision,
        decided_by=None,
        room=message.room,
        message=message,
        automated=True,
        report=primary,
    )
    record(
        AuditEvent.MESSAGE_HIDDEN_PENDING_REVIEW,
        actor=None,
        target_type=MESSAGE_TARGET,
        target_id=message.pk,
        details={
            "report": primary.pk,
            "room": message.room_id,
            "author": message.author_id,
            "good_reporters": good,
            "precisions": {str(pk): round(reporters[pk].precision, 3) for pk in good},
        },
    )
    return True


def _settle_pending_hide(primary: Report, *, actor, confirmed: bool, reason: str) -> None:
    """A moderator decided the report whose message was hidden pending review:
    a removal confirms the hiding; anything else shows the message again, ends
    the provisional statement and tells the room (`message.new`)."""
    if not primary.hidden_pending_review:
        return
    primary.hidden_pending_review = False
    primary.save(update_fields=["hidden_pending_review"])
    message_id = primary.target_message_id
    if message_id is None:
        return
    restored = False
    if not confirmed:
        restored = room_actions.restore_message(
            room_actions.locked_message(message_id), actor=actor, reason=reason
        )
        # The provisional statement stays as written, with its end: the member
        # reads that the measure was lifted, and when.
        for statement in StatementOfReasons.objects.select_for_update().filter(
            report=primary,
            message_id=message_id,
            automated_decision=AutomatedDecision.FULLY,
            ends_at__isnull=True,
        ):
            statement.ends_at = timezone.now()
            statement.save(update_fields=["ends_at"])
    record(
        AuditEvent.PENDING_HIDE_CONFIRMED if confirmed else AuditEvent.PENDING_HIDE_REVERSED,
        actor=actor,
        target_type=REPORT_TARGET,
        target_id=primary.pk,
        reason=reason,
        details={"message": message_id, "restored": restored},
    )
