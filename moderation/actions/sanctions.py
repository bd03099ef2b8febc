"""Warnings, mutes, kicks and bans, in a room or site-wide, and their lifting."""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.refusals import records_staff_refusals
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation.actions.common import (
    SANCTION_TARGET,
    _decision_basis,
    _record_for,
    _require_text,
)
from moderation.actions.statements import _statement
from moderation.models import (
    REASON_MAX_LENGTH,
    Ground,
    Report,
    Sanction,
    SanctionKind,
)
from rooms import notify
from rooms.models import Room
from rooms.protocol import CloseCode

# A kick is never permanent: without a duration it lasts this long.
DEFAULT_KICK_MINUTES = 15


MAX_DURATION_MINUTES = 10 * 365 * 24 * 60


def _count_violation(user) -> None:
    record_ = _record_for(user)
    record_.violations += 1
    record_.save(update_fields=["violations"])


def _issue_sanction(
    user,
    *,
    actor,
    kind,
    reason,
    room: Room | None = None,
    duration_minutes=None,
    ground=None,
    clause=None,
    report: Report | None = None,
    automated: bool = False,
    facts: str = "",
    legal_provision=None,
    room_moderator: bool = False,
) -> Sanction:
    """`room_moderator`: the actor is the room's owner or moderator, not staff
    (moderation/actions/room_moderators.py); the audit entry says so."""
    if kind not in SanctionKind.values:
        raise Refused(RefusalCode.INVALID, _("Mesure inconnue : warn, mute, kick ou ban."))
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    ground, clause, legal_provision = _decision_basis(
        ground, clause, legal_provision, default_ground=Ground.TERMS_OTHER, automated=automated
    )
    if duration_minutes is not None and (
        isinstance(duration_minutes, bool)
        or not isinstance(duration_minutes, int)
        or not 1 <= duration_minutes <= MAX_DURATION_MINUTES
    ):
        raise Refused(
            RefusalCode.INVALID, _("duration_minutes est un nombre entier de minutes, ou null.")
        )
    if user.is_staff and not automated:
        raise Refused(RefusalCode.FORBIDDEN, _("On ne sanctionne pas un membre du personnel ici."))
    if actor is not None and user.pk == actor.pk:
        raise Refused(RefusalCode.INVALID, _("Vous ne pouvez pas vous sanctionner vous-même."))
    if kind == SanctionKind.KICK and duration_minutes is None:
        duration_minutes = DEFAULT_KICK_MINUTES
    now = timezone.now()
    ends_at = None
    if kind != SanctionKind.WARN and duration_minutes is not None:
        ends_at = now + timedelta(minutes=duration_minutes)
    sanction = Sanction.objects.create(
        kind=kind,
        user=user,
        room=room,
        starts_at=now,
        ends_at=ends_at,
        reason=reason,
        ground=ground,
        clause=clause,
        automated=automated,
        issued_by=actor,
        report=report,
        created=now,
    )
    _count_violation(user)
    _statement(
        user,
        measure=kind,
        facts=facts or reason,
        ground=ground,
        clause=clause,
        decided_by=actor,
        room=room,
        starts_at=now,
        ends_at=ends_at,
        sanction=sanction,
        automated=automated,
        legal_provision=legal_provision,
        report=report,
    )
    record(
        AuditEvent.SANCTION_ISSUED,
        actor=actor,
        target_type=SANCTION_TARGET,
        target_id=sanction.pk,
        reason=reason,
        details={
            "kind": kind,
            "user": user.pk,
            "room": room.pk if room is not None else None,
            "ends_at": ends_at.isoformat() if ends_at else None,
            "ground": ground,
            "clause": clause,
            "legal_provision": legal_provision,
            "automated": automated,
            "report": report.pk if report is not None else None,
            **({"room_moderator": True} if room_moderator else {}),
        },
    )
    if kind in (SanctionKind.BAN, SanctionKind.KICK):
        # The sockets name the decision (a `restriction` frame) before closing.
        transaction.on_commit(
            partial(
                notify.close_user_sockets,
                user.pk,
                int(CloseCode.FORBIDDEN),
                room.pk if room is not None else None,
            )
        )
    elif kind == SanctionKind.MUTE:
        # Open pages show the mute and disable their composer at once.
        transaction.on_commit(
            partial(notify.restriction_changed, user.pk, room.pk if room is not None else None)
        )
    return sanction


@records_staff_refusals
@transaction.atomic(durable=True)
def do_issue_sanction(
    user,
    *,
    actor,
    kind,
    reason,
    room: Room | None = None,
    duration_minutes=None,
    ground=None,
    clause=None,
    report: Report | None = None,
    legal_provision=None,
) -> Sanction:
    """Warns, mutes, kicks or bans, in a room or site-wide, for a time or for good.

    A ban or a kick closes the user's matching sockets with 4403 on every
    process once committed (after a `restriction` frame naming it); a mute
    sends that frame to the open sockets it covers; rooms' policy refuses
    them from then on (moderation/policy_hooks.py).
    """
    return _issue_sanction(
        user,
        actor=actor,
        kind=kind,
        reason=reason,
        room=room,
        duration_minutes=duration_minutes,
        ground=ground,
        clause=clause,
        report=report,
        legal_provision=legal_provision,
    )


@records_staff_refusals
@transaction.atomic(durable=True)
def do_lift_sanction(sanction: Sanction, *, actor, reason) -> Sanction:
    sanction = Sanction.objects.select_for_update().get(pk=sanction.pk)
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    if sanction.lifted_at is not None:
        raise Refused(RefusalCode.CONFLICT, _("Cette sanction est déjà levée."))
    _lift(sanction, actor=actor, reason=reason)
    return sanction


def _lift(sanction: Sanction, *, actor, reason: str) -> None:
    sanction.lifted_at = timezone.now()
    sanction.lifted_by = actor
    sanction.lift_reason = reason
    sanction.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    record(
        AuditEvent.SANCTION_LIFTED,
        actor=actor,
        target_type=SANCTION_TARGET,
        target_id=sanction.pk,
        reason=reason,
        details={"kind": sanction.kind, "user": sanction.user_id},
    )
    if sanction.kind == SanctionKind.MUTE:
        # Open pages get their composer back (or show the measure still in force).
        transaction.on_commit(
            partial(notify.restriction_changed, sanction.user_id, sanction.room_id)
        )
