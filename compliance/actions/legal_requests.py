"""Judicial requisitions: received, verified, put on hold, approved (four eyes),
answered or refused."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    User,
)
from audit.events import AuditEvent
from audit.refusals import records_staff_refusals
from compliance import orders, queries
from compliance.actions.common import (
    APPROVE_PERMISSION,
    CHANGE_PERMISSION,
    _audit_request,
    _check_permission,
    _locked,
    _require_production,
    _require_status,
    _required_text,
)
from compliance.actions.holds import _place_hold
from compliance.app_settings import app_settings
from compliance.models import (
    PRESERVATION_KINDS,
    PRODUCTION_KINDS,
    REASON_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    REMOVAL_KINDS,
    DataCategory,
    LegalBasis,
    LegalExportApproval,
    LegalRequest,
    LegalRequestStatus,
    LegalRequestSubject,
    OrderKind,
)
from core.refusals import RefusalCode, Refused
from moderation.legal_provisions import provision
from rooms.models import Message, Room

logger = logging.getLogger(__name__)


def _holders_text(holders) -> str:
    return "; ".join(
        _("compte n° %(id)s, « %(name)s » du %(start)s au %(end)s")
        % {
            "id": holder.user_id,
            "name": holder.held_name,
            "start": f"{holder.held_from:%Y-%m-%d %H:%M}",
            "end": f"{holder.held_to:%Y-%m-%d %H:%M}" if holder.held_to else _("aujourd'hui"),
        }
        for holder in holders
    )


def resolve_named_pseudonyms(
    names: Iterable[str], period_start: datetime, period_end: datetime, *, allow_ambiguous: bool
) -> dict[str, list[queries.PseudonymHolder]]:
    """Each name to the accounts that held it during the period. Refused when a
    name matches nobody, and when it matches several accounts unless the officer
    has seen the warning and chosen to include them all (`allow_ambiguous`)."""
    resolved = {}
    for name in dict.fromkeys(name.strip() for name in names if name and name.strip()):
        holders = queries.resolve_pseudonym(name, period_start, period_end)
        if not holders:
            raise Refused(
                RefusalCode.NOT_FOUND,
                _(
                    "Compte inconnu : %(name)s (aucun compte n'a porté ce pseudonyme pendant "
                    "la période)."
                )
                % {"name": name},
            )
        if len({holder.user_id for holder in holders}) > 1 and not allow_ambiguous:
            raise Refused(
                RefusalCode.AMBIGUOUS,
                _(
                    "Attention : plusieurs comptes ont porté le pseudonyme « %(name)s » (ou un "
                    "pseudonyme qui lui ressemble) pendant la période : %(holders)s. Désignez le "
                    "compte visé par son numéro, ou confirmez que la réquisition les vise tous."
                )
                % {"name": name, "holders": _holders_text(holders)},
            )
        resolved[name] = holders
    return resolved


def _clean_categories(categories, *, required: bool = True) -> list[str]:
    values = list(dict.fromkeys(categories or ()))
    unknown = [value for value in values if value not in DataCategory.values]
    if unknown:
        raise Refused(
            RefusalCode.INVALID,
            _("Catégorie de données inconnue : %(values)s") % {"values": unknown},
        )
    if not values and required:
        raise Refused(RefusalCode.INVALID, _("Indiquez au moins une catégorie de données."))
    return sorted(values)


@records_staff_refusals
@transaction.atomic(durable=True)
def do_open_legal_request(
    *,
    reference: str,
    authority: str,
    legal_basis: str,
    received_at: datetime,
    deadline: datetime | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    data_categories: Iterable[str] = (),
    assigned_officer: User,
    accounts: Iterable[User] = (),
    rooms: Iterable[Room] = (),
    named_pseudonyms: Iterable[str] = (),
    allow_ambiguous: bool = False,
    legal_basis_detail: str = "",
    place_holds: bool = True,
    kind: str = OrderKind.DATA_REQUEST,
    emergency: bool = False,
    contents: Iterable[Message] = (),
    legal_provision: str = "",
    preserve_days: int | None = None,
    secret: bool = False,
    secrecy_reason: str = "",
    secrecy_until: datetime | None = None,
    actor,
) -> LegalRequest:
    """Records an authority's order as received; with `place_holds`, a data
    requisition holds its accounts and rooms at once.

    `kind` (OrderKind) sets the deadline from the receipt (compliance/orders.py);
    `deadline` is the order's own, required where the law sets none and kept
    where it is earlier than the law's. A removal order names its `contents`
    (messages) and the `legal_provision` they break; a preservation order is
    carried out later, by `do_give_effect_to_order`, which places its holds.
    `secret`: the authority asked that the member not be told (its reason in
    `secrecy_reason`, until `secrecy_until` or until lifted).

    `named_pseudonyms`: pseudonyms as the authority wrote them. Each is
    resolved to the account(s) that held it during the requested period
    (`resolve_named_pseudonyms`), never to whoever holds it today; how is
    kept (LegalRequestSubject) and goes into the package."""
    _check_permission(actor, "compliance.add_legalrequest")
    reference = _required_text(reference, _("référence"), REFERENCE_MAX_LENGTH)
    authority = _required_text(authority, _("autorité requérante"), 200)
    if kind not in OrderKind.values:
        raise Refused(RefusalCode.INVALID, _("Nature d'injonction inconnue."))
    if legal_basis not in LegalBasis.values:
        raise Refused(RefusalCode.INVALID, _("Fondement juridique inconnu."))
    legal_basis_detail = (legal_basis_detail or "").strip()
    if legal_basis == LegalBasis.OTHER and not legal_basis_detail:
        raise Refused(RefusalCode.INVALID, _("Précisez le fondement juridique."))
    # A few minutes' tolerance for the clocks of the officer's machine and ours.
    if received_at > timezone.now() + timedelta(minutes=5):
        raise Refused(RefusalCode.INVALID, _("La date de réception est dans le futur."))
    if emergency and kind != OrderKind.EU_PRODUCTION:
        raise Refused(
            RefusalCode.INVALID,
            _("Seule une injonction européenne de production connaît l'urgence (8 heures)."),
        )
    if deadline is not None and deadline < received_at:
        raise Refused(RefusalCode.INVALID, _("L'échéance précède la réception."))
    try:
        deadline = orders.compute_deadline(kind, received_at, emergency=emergency, stated=deadline)
    except ValueError:
        raise Refused(
            RefusalCode.INVALID, _("Indiquez l'échéance fixée par l'injonction.")
        ) from None
    contents = list(contents)
    order_details = _order_details(
        kind,
        contents=contents,
        legal_provision=legal_provision,
        preserve_days=preserve_days,
        secret=secret,
        secrecy_reason=secrecy_reason,
        secrecy_until=secrecy_until,
        received_at=received_at,
    )
    if contents:
        # A removal order's period is its contents' (the package reads it).
        period_start = period_start or min(message.created for message in contents)
        period_end = period_end or max(message.created for message in contents)
    if kind in PRESERVATION_KINDS and period_start is None and period_end is None:
        # A hold keeps everything of its accounts and rooms: the period only
        # says which data the authority named, when it does.
        period_start = period_end = received_at
    if period_start is None or period_end is None:
        raise Refused(RefusalCode.INVALID, _("Indiquez la période visée."))
    if period_start > period_end:
        raise Refused(RefusalCode.INVALID, _("La période commence après sa fin."))
    if not assigned_officer.has_perm(CHANGE_PERMISSION):
        raise Refused(RefusalCode.INVALID, _("L'agent chargé doit être un agent de conformité."))
    resolved = resolve_named_pseudonyms(
        named_pseudonyms, period_start, period_end, allow_ambiguous=allow_ambiguous
    )
    accounts, rooms = list(accounts), list(rooms)
    named_ids = {holder.user_id for holders in resolved.values() for holder in holders}
    # A removal order concerns the authors and the rooms of its contents.
    named_ids |= {message.author_id for message in contents}
    accounts += list(User.objects.filter(pk__in=named_ids).exclude(pk__in=[a.pk for a in accounts]))
    rooms += [
        room
        for room in Room.objects.filter(pk__in={message.room_id for message in contents})
        if room.pk not in {each.pk for each in rooms}
    ]
    if not accounts and not rooms:
        raise Refused(RefusalCode.INVALID, _("Indiquez au moins un compte ou un salon visé."))
    if LegalRequest.objects.filter(reference=reference).exists():
        raise Refused(RefusalCode.DUPLICATE, _("Une réquisition porte déjà cette référence."))
    request = LegalRequest.objects.create(
        reference=reference,
        kind=kind,
        emergency=emergency,
        authority=authority,
        legal_basis=legal_basis,
        legal_basis_detail=legal_basis_detail,
        received_at=received_at,
        deadline=deadline,
        period_start=period_start,
        period_end=period_end,
        data_categories=_clean_categories(data_categories, required=kind in PRODUCTION_KINDS),
        assigned_officer=assigned_officer,
        content_ids=sorted(message.pk for message in contents),
        **order_details,
    )
    request.accounts.set(accounts)
    request.rooms.set(rooms)
    subjects = LegalRequestSubject.objects.bulk_create(
        LegalRequestSubject(
            request=request,
            named=name,
            user_id=holder.user_id,
            held_name=holder.held_name,
            held_from=holder.held_from,
            held_to=holder.held_to,
            source=holder.source,
            ambiguous=len({each.user_id for each in holders}) > 1,
        )
        for name, holders in resolved.items()
        for holder in holders
    )
    holds = []
    # Preservation orders place theirs when carried out (with their end);
    # removal orders keep what they remove through moderation's records.
    if place_holds and kind in PRODUCTION_KINDS:
        holds = [_place_hold(request, user=user, actor=actor) for user in accounts]
        holds += [_place_hold(request, room=room, actor=actor) for room in rooms]
    _audit_request(
        AuditEvent.LEGAL_REQUEST_OPENED,
        request,
        actor=actor,
        details={
            "kind": kind,
            "emergency": emergency,
            "legal_basis": legal_basis,
            "accounts": sorted(user.pk for user in accounts),
            "rooms": sorted(room.pk for room in rooms),
            "contents": sorted(message.pk for message in contents),
            "categories": request.data_categories,
            "period": [request.period_start.isoformat(), request.period_end.isoformat()],
            "received_at": request.received_at.isoformat(),
            "deadline": request.deadline.isoformat(),
            "assigned_officer": assigned_officer.pk,
            "holds": [hold.pk for hold in holds],
            "secret": request.secret,
            "named": {
                name: [holder.user_id for holder in holders] for name, holders in resolved.items()
            },
            "ambiguous": sorted({subject.named for subject in subjects if subject.ambiguous}),
        },
    )
    if orders.is_short(kind, emergency=emergency):
        transaction.on_commit(partial(alert_short_deadline, request.pk))
    return request


def _order_details(
    kind,
    *,
    contents,
    legal_provision,
    preserve_days,
    secret,
    secrecy_reason,
    secrecy_until,
    received_at,
) -> dict:
    """The fields each kind needs, checked."""
    details = {"legal_provision": "", "preserve_days": None}
    if kind in REMOVAL_KINDS:
        if not contents:
            raise Refused(
                RefusalCode.INVALID, _("Une injonction de retrait désigne les messages visés.")
            )
        legal_provision = (legal_provision or "").strip()
        if not legal_provision and kind == OrderKind.REMOVAL_TERRORIST:
            legal_provision = orders.TERRORIST_DEFAULT_PROVISION
        if not isinstance(legal_provision, str) or provision(legal_provision) is None:
            raise Refused(
                RefusalCode.INVALID,
                _("Choisissez la disposition légale que les contenus visés enfreignent."),
            )
        if kind == OrderKind.REMOVAL_LCEN and legal_provision not in orders.LCEN_PROVISIONS:
            raise Refused(
                RefusalCode.INVALID,
                _(
                    "L'article 6-1 de la LCEN ne vise que la provocation au terrorisme ou son "
                    "apologie et les images pédopornographiques."
                ),
            )
        details["legal_provision"] = legal_provision
    elif contents:
        raise Refused(RefusalCode.INVALID, _("Seule une injonction de retrait vise des messages."))
    if kind == OrderKind.PRESERVATION:
        if not isinstance(preserve_days, int) or not (
            1 <= preserve_days <= orders.NATIONAL_PRESERVATION_MAX_DAYS
        ):
            raise Refused(
                RefusalCode.INVALID,
                _("Durée de conservation : de 1 à %(max)d jours (CPP art. 60-2).")
                % {"max": orders.NATIONAL_PRESERVATION_MAX_DAYS},
            )
        details["preserve_days"] = preserve_days
    secrecy_reason = (secrecy_reason or "").strip()
    if secret and not secrecy_reason:
        raise Refused(
            RefusalCode.INVALID,
            _("Indiquez la demande de confidentialité de l'autorité (motif, référence)."),
        )
    if len(secrecy_reason) > 500:
        raise Refused(
            RefusalCode.INVALID, _("Motif de la confidentialité : 500 caractères au plus.")
        )
    if secrecy_until is not None and (not secret or secrecy_until <= received_at):
        raise Refused(
            RefusalCode.INVALID,
            _("La fin de la confidentialité suit la réception d'une injonction confidentielle."),
        )
    details.update(
        secret=bool(secret),
        secrecy_reason=secrecy_reason if secret else "",
        secrecy_until=secrecy_until if secret else None,
    )
    return details


def alert_short_deadline(request_id: int) -> None:
    """Mails the on-call address when an order due within hours arrives; the
    page comes from Prometheus (chatsite_authority_orders_open{urgency="short"}).
    Called after commit: the order stands without its mail."""
    request = LegalRequest.objects.filter(pk=request_id).first()
    recipient = app_settings.COMPLIANCE_ORDER_ALERT_EMAIL
    if request is None or not recipient:
        return
    subject = _("[Chatsite] Injonction à exécuter avant %(deadline)s : %(reference)s") % {
        "deadline": f"{timezone.localtime(request.deadline):%Y-%m-%d %H:%M}",
        "reference": request.reference,
    }
    body = _(
        "%(kind)s reçue le %(received)s de : %(authority)s.\n"
        "Échéance : %(deadline)s (%(basis)s).\n\n"
        "À traiter dans l'administration : Conformité > Réquisitions judiciaires, "
        "injonction n° %(id)s."
    ) % {
        "kind": request.get_kind_display(),
        "received": f"{timezone.localtime(request.received_at):%Y-%m-%d %H:%M}",
        "authority": request.authority,
        "deadline": f"{timezone.localtime(request.deadline):%Y-%m-%d %H:%M}",
        "basis": orders.rule(request.kind).basis,
        "id": request.pk,
    }
    try:
        send_mail(subject, body, None, [recipient])
    except Exception:
        logger.exception("could not mail the alert for order %s", request_id)


@records_staff_refusals
@transaction.atomic(durable=True)
def do_verify_legal_request(request: LegalRequest, *, actor) -> LegalRequest:
    """The officer checked the requisition's authenticity and the authority's competence."""
    _check_permission(actor, CHANGE_PERMISSION)
    request = _locked(request)
    _require_status(request, (LegalRequestStatus.RECEIVED, LegalRequestStatus.ON_HOLD))
    old = request.status
    request.status = LegalRequestStatus.VERIFIED
    request.status_reason = ""
    request.save(update_fields=["status", "status_reason"])
    _audit_request(AuditEvent.LEGAL_REQUEST_VERIFIED, request, actor=actor, details={"old": old})
    return request


@records_staff_refusals
@transaction.atomic(durable=True)
def do_put_legal_request_on_hold(request: LegalRequest, *, actor, reason) -> LegalRequest:
    """Waiting on the authority (a clarification, a missing signature...)."""
    _check_permission(actor, CHANGE_PERMISSION)
    reason = _required_text(reason, _("motif"))
    request = _locked(request)
    _require_status(request, (LegalRequestStatus.RECEIVED, LegalRequestStatus.VERIFIED))
    old = request.status
    request.status = LegalRequestStatus.ON_HOLD
    request.status_reason = reason
    request.save(update_fields=["status", "status_reason"])
    _audit_request(
        AuditEvent.LEGAL_REQUEST_PUT_ON_HOLD,
        request,
        actor=actor,
        reason=reason,
        details={"old": old},
    )
    return request


@records_staff_refusals
@transaction.atomic(durable=True)
def do_approve_legal_export(request: LegalRequest, *, actor: User) -> LegalExportApproval:
    """A second officer agrees that the package may be produced (four-eyes rule)."""
    if actor is None:
        raise Refused(RefusalCode.FORBIDDEN, _("Une approbation est le fait d'un agent nommé."))
    _check_permission(actor, APPROVE_PERMISSION)
    request = _locked(request)
    _require_status(request, (LegalRequestStatus.VERIFIED, LegalRequestStatus.EXPORTED))
    _require_production(request)
    if actor.pk == request.assigned_officer_id:
        raise Refused(
            RefusalCode.SAME_OFFICER,
            _("L'approbation doit venir d'un autre agent que l'agent chargé de la réquisition."),
        )
    approval, created = LegalExportApproval.objects.get_or_create(request=request, officer=actor)
    if not created:
        raise Refused(RefusalCode.DUPLICATE, _("Vous avez déjà approuvé cet export."))
    _audit_request(
        AuditEvent.LEGAL_EXPORT_APPROVED, request, actor=actor, details={"approval": approval.pk}
    )
    return approval


@records_staff_refusals
@transaction.atomic(durable=True)
def do_answer_legal_request(request: LegalRequest, *, actor, note: str = "") -> LegalRequest:
    """The authority was told what was done: the package of a requisition or a
    production order was handed over, or the effect given to a removal or
    preservation order (what, when: `effect`) was reported (DSA Art. 9(1))."""
    _check_permission(actor, CHANGE_PERMISSION)
    request = _locked(request)
    _require_status(
        request,
        (LegalRequestStatus.EXPORTED,)
        if request.kind in PRODUCTION_KINDS
        else (LegalRequestStatus.EFFECTED,),
    )
    request.status = LegalRequestStatus.ANSWERED
    request.answered_at = timezone.now()
    request.status_reason = (note or "").strip()[:REASON_MAX_LENGTH]
    if request.kind not in PRODUCTION_KINDS:
        request.effect = {
            **request.effect,
            "reported_at": request.answered_at.isoformat(),
            "report_note": request.status_reason,
        }
    request.save(update_fields=["status", "answered_at", "status_reason", "effect"])
    _audit_request(
        AuditEvent.LEGAL_REQUEST_ANSWERED,
        request,
        actor=actor,
        reason=request.status_reason,
        details={"package_sha256": request.package_sha256},
    )
    return request


@records_staff_refusals
@transaction.atomic(durable=True)
def do_refuse_legal_request(request: LegalRequest, *, actor, reason) -> LegalRequest:
    """Refuses (not a valid requisition, not our data...), always with the reason."""
    _check_permission(actor, CHANGE_PERMISSION)
    reason = _required_text(reason, _("motif"))
    request = _locked(request)
    _require_status(
        request,
        (LegalRequestStatus.RECEIVED, LegalRequestStatus.VERIFIED, LegalRequestStatus.ON_HOLD),
    )
    old = request.status
    request.status = LegalRequestStatus.REFUSED
    request.status_reason = reason
    request.answered_at = timezone.now()
    request.save(update_fields=["status", "status_reason", "answered_at"])
    _audit_request(
        AuditEvent.LEGAL_REQUEST_REFUSED, request, actor=actor, reason=reason, details={"old": old}
    )
    return request
