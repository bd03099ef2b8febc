"""Carrying out an authority's order and telling the authority (docs/compliance.md,
"Orders from authorities").

A removal order is carried out through moderation (`remove_message_on_order`:
the message hidden by rooms, a statement of reasons citing the law and the
order), never by writing the message here; a preservation order by legal holds
that end when the order says. Every step is one audited, durable transaction.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.refusals import records_staff_refusals
from audit.trail import record
from compliance import orders
from compliance.actions.common import (
    CHANGE_PERMISSION,
    HOLD_TARGET,
    _audit_request,
    _check_permission,
    _locked,
    _require_status,
    _required_text,
)
from compliance.actions.holds import _place_hold
from compliance.models import (
    PRODUCTION_KINDS,
    REMOVAL_KINDS,
    LegalHold,
    LegalRequest,
    LegalRequestStatus,
    OrderKind,
)
from core.refusals import RefusalCode, Refused
from moderation import actions as moderation_actions
from moderation.models import StatementOfReasons

S = LegalRequestStatus
# Reg. (EU) 2021/784, art. 6: removed terrorist content and its related data
# are preserved for six months.
TERRORIST_PRESERVATION_DAYS = 183


def _open(request: LegalRequest) -> None:
    if request.is_closed:
        raise Refused(RefusalCode.INVALID_STATUS, _("Cette injonction est close."))


@records_staff_refusals
@transaction.atomic(durable=True)
def do_acknowledge_order(request: LegalRequest, *, actor, note: str = "") -> LegalRequest:
    """The authority was told that the order arrived (the template's "time to
    acknowledge"; Reg. 2023/1543 and 2021/784 ask for it too)."""
    _check_permission(actor, CHANGE_PERMISSION)
    request = _locked(request)
    _open(request)
    if request.acknowledged_at is not None:
        raise Refused(RefusalCode.CONFLICT, _("La réception est déjà confirmée."))
    request.acknowledged_at = timezone.now()
    request.save(update_fields=["acknowledged_at"])
    _audit_request(
        AuditEvent.ORDER_ACKNOWLEDGED,
        request,
        actor=actor,
        reason=(note or "").strip()[:500],
        details={"kind": request.kind, "acknowledged_at": request.acknowledged_at.isoformat()},
    )
    return request


@records_staff_refusals
@transaction.atomic(durable=True)
def do_give_effect_to_order(
    request: LegalRequest, *, actor, via: Carrier | None = None
) -> LegalRequest:
    """Carries out a removal or preservation order and records what was done,
    when, for the authority (`effect`, DSA Art. 9(1)). A requisition or a
    production order takes effect with its package (do_export_legal_request)."""
    _check_permission(actor, CHANGE_PERMISSION)
    request = _locked(request)
    if request.kind in PRODUCTION_KINDS:
        raise Refused(
            RefusalCode.INVALID_STATUS,
            _("Une réquisition de données s'exécute par l'export de son paquet."),
        )
    _require_status(request, (S.RECEIVED, S.VERIFIED))
    now = timezone.now()
    effect = {"taken_effect_at": now.isoformat(), "verified_first": request.status == S.VERIFIED}
    if request.kind in REMOVAL_KINDS:
        effect["removed"], effect["already_removed"] = _remove_contents(
            request, actor=actor, via=via
        )
        found = {item["message"] for item in effect["removed"]} | set(effect["already_removed"])
        # A message row gone since registration (its retention ended): said, not hidden.
        effect["not_found"] = sorted(set(request.content_ids) - found)
        if request.kind == OrderKind.REMOVAL_TERRORIST:
            # Art. 6: the removed content and the data around it kept six months.
            until = now + timedelta(days=TERRORIST_PRESERVATION_DAYS)
            effect["holds"] = _hold_all(request, actor=actor, until=until)
    else:
        until = orders.preservation_end(request.kind, request.received_at, request.preserve_days)
        effect["holds"] = _hold_all(request, actor=actor, until=until)
    request.status = S.EFFECTED
    request.taken_effect_at = now
    request.effect = effect
    request.save(update_fields=["status", "taken_effect_at", "effect"])
    _audit_request(
        AuditEvent.ORDER_EFFECT_GIVEN,
        request,
        actor=actor,
        details={
            "kind": request.kind,
            "deadline": request.deadline.isoformat(),
            "late": now > request.deadline,
            **effect,
        },
    )
    return request


def _remove_contents(
    request: LegalRequest, *, actor, via: Carrier | None = None
) -> tuple[list[dict], list[int]]:
    """`via`: the officer's request, the carrier of each removal's content operation."""
    removed, already = [], []
    for message in request.content_messages():
        statement = moderation_actions.remove_message_on_order(
            message,
            actor=actor,
            order_reference=request.reference,
            authority=request.authority,
            legal_provision=request.legal_provision,
            withheld=request.is_secret,
            via=via,
        )
        if statement is None:
            # Hidden before the order (by its author or a moderator): nothing to
            # remove, and the authority is told so.
            already.append(message.pk)
            continue
        message.refresh_from_db(fields=["deleted_at"])
        removed.append(
            {
                "message": message.pk,
                "removed_at": message.deleted_at.isoformat(),
                "statement": statement.pk,
                "statement_withheld": statement.withheld,
            }
        )
    return removed, already


def _hold_all(request: LegalRequest, *, actor, until: datetime | None) -> list[dict]:
    holds = [_place_hold(request, user=user, actor=actor) for user in request.accounts.all()]
    holds += [_place_hold(request, room=room, actor=actor) for room in request.rooms.all()]
    for hold in holds:
        if hold.expires_at != until:
            hold.expires_at = until
            hold.save(update_fields=["expires_at"])
    return [
        {
            "hold": hold.pk,
            "user": hold.user_id,
            "room": hold.room_id,
            "until": until.isoformat() if until else None,
        }
        for hold in holds
    ]


def _eu_preservation(request: LegalRequest, *, actor, reason) -> tuple[LegalRequest, str]:
    _check_permission(actor, CHANGE_PERMISSION)
    reason = _required_text(reason, _("motif"))
    request = _locked(request)
    if request.kind != OrderKind.EU_PRESERVATION:
        raise Refused(
            RefusalCode.INVALID_STATUS,
            _("Seule une injonction européenne de conservation se prolonge ainsi."),
        )
    _require_status(request, (S.EFFECTED, S.ANSWERED))
    return request, reason


def _running_holds(request: LegalRequest, refusal: str) -> list[LegalHold]:
    """The order's holds still running towards their end (locked)."""
    holds = list(request.holds.select_for_update().active().exclude(expires_at=None))
    if not holds:
        raise Refused(RefusalCode.INVALID_STATUS, refusal)
    return holds


@records_staff_refusals
@transaction.atomic(durable=True)
def do_extend_preservation(request: LegalRequest, *, actor, reason) -> LegalRequest:
    """Reg. 2023/1543, art. 11(1): the authority extends the 60 days by 30, once,
    to issue its production request."""
    request, reason = _eu_preservation(request, actor=actor, reason=reason)
    if request.effect.get("extended_at"):
        raise Refused(RefusalCode.CONFLICT, _("La conservation a déjà été prolongée une fois."))
    holds = _running_holds(request, _("Aucune conservation en cours à prolonger."))
    for hold in holds:
        hold.expires_at += orders.EU_PRESERVATION_EXTENSION
        hold.save(update_fields=["expires_at"])
    request.effect = {**request.effect, "extended_at": timezone.now().isoformat()}
    request.save(update_fields=["effect"])
    _audit_request(
        AuditEvent.PRESERVATION_EXTENDED,
        request,
        actor=actor,
        reason=reason,
        details={"holds": {hold.pk: hold.expires_at.isoformat() for hold in holds}},
    )
    return request


@records_staff_refusals
@transaction.atomic(durable=True)
def do_confirm_preservation(request: LegalRequest, *, actor, reason) -> LegalRequest:
    """Reg. 2023/1543, art. 11(1): the authority confirms that a production
    request follows; the data stay held until that request is answered and the
    holds are released."""
    request, reason = _eu_preservation(request, actor=actor, reason=reason)
    holds = _running_holds(request, _("Aucune conservation en cours à confirmer."))
    for hold in holds:
        hold.expires_at = None
        hold.save(update_fields=["expires_at"])
    request.effect = {**request.effect, "confirmed_at": timezone.now().isoformat()}
    request.save(update_fields=["effect"])
    _audit_request(
        AuditEvent.PRESERVATION_CONFIRMED,
        request,
        actor=actor,
        reason=reason,
        details={"holds": sorted(hold.pk for hold in holds)},
    )
    return request


def _lift_secrecy(request: LegalRequest, *, actor, reason: str, now) -> list[int]:
    request.secrecy_lifted_at = now
    request.save(update_fields=["secrecy_lifted_at"])
    withheld = StatementOfReasons.objects.filter(
        order_reference=request.reference, withheld=True
    ).values_list("pk", flat=True)
    disclosed = moderation_actions.disclose_statements(list(withheld), now=now)
    _audit_request(
        AuditEvent.ORDER_SECRECY_LIFTED,
        request,
        actor=actor,
        reason=reason,
        details={
            "lifted_at": now.isoformat(),
            "secrecy_until": request.secrecy_until.isoformat() if request.secrecy_until else None,
            "statements_disclosed": [statement.pk for statement in disclosed],
        },
    )
    return [statement.pk for statement in disclosed]


@records_staff_refusals
@transaction.atomic(durable=True)
def do_lift_order_secrecy(request: LegalRequest, *, actor, reason) -> list[int]:
    """The authority no longer asks for confidentiality: the statements of reasons
    it kept from the member are shown and mailed now, the date recorded."""
    _check_permission(actor, CHANGE_PERMISSION)
    reason = _required_text(reason, _("motif"))
    request = _locked(request)
    if not request.is_secret:
        raise Refused(RefusalCode.CONFLICT, _("Cette injonction n'est pas confidentielle."))
    return _lift_secrecy(request, actor=actor, reason=reason, now=timezone.now())


@transaction.atomic(durable=True)
def do_process_orders(*, now=None) -> dict:
    """What time alone decides, run every few minutes (`process_orders`): holds
    past the end their order set are recorded as ended, and a confidentiality
    that ran out (`secrecy_until`) is lifted, the member told. The platform acts
    (actor None), each change audited."""
    now = now or timezone.now()
    expired = list(
        LegalHold.objects.select_for_update()
        .filter(released_at__isnull=True, expires_at__lte=now)
        .order_by("pk")
    )
    for hold in expired:
        hold.released_at = hold.expires_at
        hold.release_reason = _("Terme fixé par l'injonction.")
        hold.save(update_fields=["released_at", "release_reason"])
        record(
            AuditEvent.LEGAL_HOLD_EXPIRED,
            actor=None,
            target_type=HOLD_TARGET,
            target_id=hold.pk,
            details={
                "request": hold.request_id,
                "user": hold.user_id,
                "room": hold.room_id,
                "expired_at": hold.expires_at.isoformat(),
            },
        )
    lifted = {}
    for request in LegalRequest.objects.select_for_update().filter(
        secret=True, secrecy_lifted_at__isnull=True, secrecy_until__lte=now
    ):
        lifted[request.pk] = _lift_secrecy(
            request, actor=None, reason=_("Fin de la confidentialité demandée."), now=now
        )
    return {"holds_expired": [hold.pk for hold in expired], "secrecy_lifted": lifted}
