"""Messages a filter held for review: kept, then released or rejected by a
moderator; and messages a filter blocked outright. A rejection and a block
each write the author's statement of reasons (DSA Art. 17): the message never
reaches the room, a restriction of its visibility."""

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation.actions.common import HELD_TARGET, _decision_basis, _require_text
from moderation.actions.misuse import _assess_provider
from moderation.actions.statements import _statement
from moderation.dsa import AutomatedDecision
from moderation.models import (
    REASON_MAX_LENGTH,
    FilterRule,
    Ground,
    HeldMessage,
    HeldStatus,
    Measure,
    RaidMode,
    StatementOfReasons,
)
from rooms import actions as room_actions
from rooms import policy
from rooms.models import Message, Room


@transaction.atomic(durable=True)
def do_hold_message(
    rule_id: int | None, user_id: int, room_id: int, body: str, *, raid_mode_id: int | None = None
) -> HeldMessage:
    """Keeps a message a filter held, for a moderator to release or reject.
    `raid_mode_id`: held by raid mode (moderation/raid.py), not by a filter.

    Runs after rooms' refused post has rolled back, in its own transaction.
    """
    held = HeldMessage.objects.create(
        room_id=room_id,
        author_id=user_id,
        body=body,
        rule=FilterRule.objects.filter(pk=rule_id).first() if rule_id is not None else None,
        raid_mode=RaidMode.objects.filter(pk=raid_mode_id).first() if raid_mode_id else None,
    )
    record(
        AuditEvent.MESSAGE_HELD,
        actor=None,
        target_type=HELD_TARGET,
        target_id=held.pk,
        details={
            "rule": rule_id,
            "room": room_id,
            "user": user_id,
            **({"raid_mode": raid_mode_id} if raid_mode_id is not None else {}),
        },
    )
    return held


@transaction.atomic(durable=True)
def do_release_held_message(held: HeldMessage, *, actor, via: Carrier | None = None) -> Message:
    """Posts the held message as its author wrote it, now, through rooms' one
    write path: the same `policy.can_post` as any post (an archived room, a block,
    a mute or a ban refuse it), minus the filters a moderator has just overruled.
    Its creation is a staff action carried by the moderator's request (`via`)."""
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
    message = room_actions.insert_message(
        room, held.author, held.body, via=via, staff_member=actor
    ).message
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


def _excerpt(body: str) -> str:
    return body if len(body) <= 500 else body[:500] + "…"


@transaction.atomic(durable=True)
def do_reject_held_message(
    held: HeldMessage, *, actor, reason, ground=None, clause=None, legal_provision=None
) -> HeldMessage:
    """A moderator refuses a held message. Its author gets a statement of reasons:
    detected by a filter, withheld by it, refused by a person (partially automated).
    The ground defaults to the filter's."""
    held = (
        HeldMessage.objects.select_for_update(of=("self",))
        .select_related("rule", "room", "author")
        .get(pk=held.pk)
    )
    if held.status != HeldStatus.PENDING:
        raise Refused(RefusalCode.CONFLICT, _("Ce message a déjà été traité."))
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    default_ground = held.rule.ground if held.rule is not None else Ground.TERMS_OTHER
    ground, clause, legal_provision = _decision_basis(
        ground, clause, legal_provision, default_ground=default_ground
    )
    held.status = HeldStatus.REJECTED
    held.decided_by = actor
    held.decided_at = timezone.now()
    held.save(update_fields=["status", "decided_by", "decided_at"])
    statement = _statement(
        held.author,
        measure=Measure.REJECTION,
        facts=(
            _("%(reason)s\n\nMessage retenu par le mode raid le %(date)s : « %(body)s »")
            if held.raid_mode_id is not None
            else _("%(reason)s\n\nMessage retenu par un filtre le %(date)s : « %(body)s »")
            if held.trust_level is None
            else _(
                "%(reason)s\n\nPremier message dans un salon très actif, retenu au niveau "
                "de confiance %(level)d le %(date)s : « %(body)s »"
            )
        )
        % {
            "reason": reason,
            "level": held.trust_level or 0,
            "date": date_format(timezone.localtime(held.created), "DATETIME_FORMAT"),
            "body": _excerpt(held.body),
        },
        ground=ground,
        clause=clause,
        legal_provision=legal_provision,
        decided_by=actor,
        room=held.room,
        automated_detection=True,
        automation=AutomatedDecision.PARTIALLY,
        content_date=held.created,
        held_message=held,
    )
    record(
        AuditEvent.HELD_MESSAGE_REJECTED,
        actor=actor,
        target_type=HELD_TARGET,
        target_id=held.pk,
        reason=reason,
        details={
            "statement": statement.pk,
            "ground": ground,
            "clause": clause,
            "legal_provision": legal_provision,
        },
    )
    if ground == Ground.ILLEGAL:
        # Art. 23(1): a warning, then a timed ban if it goes on (misuse.py).
        _assess_provider(held.author, actor=actor)
    return held


def _publish_rejected(
    held_id: int, *, actor, reason: str, appeal_id: int, via: Carrier | None = None
) -> Message | None:
    """A refusal reversed on appeal: the held message is published now, through
    rooms' one write path, if its author may still write there (else it stays
    unpublished, and the audit entry says so). In the caller's transaction."""
    held = HeldMessage.objects.select_for_update().get(pk=held_id)
    if held.status != HeldStatus.REJECTED:
        return None
    room = Room.objects.select_for_update().get(pk=held.room_id)
    verdict = policy.can_post(held.author, room, held.body, reviewed=True)
    message = None
    if verdict:
        message = room_actions.insert_message(
            room, held.author, held.body, via=via, staff_member=actor
        ).message
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
        reason=reason,
        details={
            "message": message.pk if message is not None else None,
            "room": room.pk,
            "appeal": appeal_id,
            "published": message is not None,
        },
    )
    return message


@transaction.atomic(durable=True)
def do_record_filter_block(
    rule_id: int, user_id: int, room_id: int, body: str
) -> StatementOfReasons | None:
    """A filter blocked a message: its author's statement of reasons (fully
    automated) and the audit entry. Runs after rooms' refused post has rolled
    back, in its own transaction. No e-mail: the sender saw the refusal at once,
    and the statement waits on "Mes décisions"."""
    from accounts.models import User
    from rooms.models import Room

    rule = FilterRule.objects.filter(pk=rule_id).first()
    author = User.objects.filter(pk=user_id).first()
    room = Room.objects.filter(pk=room_id).first()
    if author is None or room is None:
        return None
    ground = rule.ground if rule is not None else Ground.TERMS_OTHER
    ground, clause, _provision = _decision_basis(
        ground, None, None, default_ground=Ground.TERMS_OTHER, automated=True
    )
    now = timezone.now()
    statement = _statement(
        author,
        measure=Measure.BLOCK,
        facts=_("Filtre automatique « %(rule)s ». Message refusé le %(date)s : « %(body)s »")
        % {
            "rule": rule.name if rule is not None else "—",
            "date": date_format(timezone.localtime(now), "DATETIME_FORMAT"),
            "body": _excerpt(body),
        },
        ground=ground,
        clause=clause,
        decided_by=None,
        room=room,
        automated=True,
        content_date=now,
        notify=False,
    )
    record(
        AuditEvent.MESSAGE_BLOCKED,
        actor=None,
        target_type="moderation.statementofreasons",
        target_id=statement.pk,
        details={"rule": rule_id, "room": room_id, "user": user_id, "ground": ground},
    )
    return statement


@transaction.atomic(durable=True)
def do_hold_first_message(user_id: int, room_id: int, body: str, *, level: int) -> HeldMessage:
    """Keeps the first message of a member below the busy-room trust level
    (moderation/trust.py) for a moderator to release or reject, as a filter's
    hold. Runs after rooms' refused post has rolled back, in its own transaction."""
    held = HeldMessage.objects.create(
        room_id=room_id, author_id=user_id, body=body, trust_level=level
    )
    record(
        AuditEvent.MESSAGE_HELD,
        actor=None,
        target_type=HELD_TARGET,
        target_id=held.pk,
        details={"rule": None, "trust_level": level, "room": room_id, "user": user_id},
    )
    return held
