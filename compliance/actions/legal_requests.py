"""Judicial requisitions: received, verified, put on hold, approved (four eyes),
answered or refused."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    User,
)
from audit.events import AuditEvent
from audit.refusals import records_staff_refusals
from compliance import queries
from compliance.actions.common import (
    APPROVE_PERMISSION,
    CHANGE_PERMISSION,
    _audit_request,
    _check_permission,
    _locked,
    _require_status,
    _required_text,
)
from compliance.actions.holds import _place_hold
from compliance.models import (
    REASON_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    DataCategory,
    LegalBasis,
    LegalExportApproval,
    LegalRequest,
    LegalRequestStatus,
    LegalRequestSubject,
)
from core.refusals import RefusalCode, Refused
from rooms.models import Room


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


def _clean_categories(categories) -> list[str]:
    values = list(dict.fromkeys(categories or ()))
    unknown = [value for value in values if value not in DataCategory.values]
    if unknown:
        raise Refused(
            RefusalCode.INVALID,
            _("Catégorie de données inconnue : %(values)s") % {"values": unknown},
        )
    if not values:
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
    deadline: datetime,
    period_start: datetime,
    period_end: datetime,
    data_categories: Iterable[str],
    assigned_officer: User,
    accounts: Iterable[User] = (),
    rooms: Iterable[Room] = (),
    named_pseudonyms: Iterable[str] = (),
    allow_ambiguous: bool = False,
    legal_basis_detail: str = "",
    place_holds: bool = True,
    actor,
) -> LegalRequest:
    """Records a requisition as received; with `place_holds`, holds its accounts and rooms.

    `named_pseudonyms`: pseudonyms as the authority wrote them. Each is
    resolved to the account(s) that held it during the requested period
    (`resolve_named_pseudonyms`), never to whoever holds it today; how is
    kept (LegalRequestSubject) and goes into the package."""
    _check_permission(actor, "compliance.add_legalrequest")
    reference = _required_text(reference, _("référence"), REFERENCE_MAX_LENGTH)
    authority = _required_text(authority, _("autorité requérante"), 200)
    if legal_basis not in LegalBasis.values:
        raise Refused(RefusalCode.INVALID, _("Fondement juridique inconnu."))
    legal_basis_detail = (legal_basis_detail or "").strip()
    if legal_basis == LegalBasis.OTHER and not legal_basis_detail:
        raise Refused(RefusalCode.INVALID, _("Précisez le fondement juridique."))
    if period_start > period_end:
        raise Refused(RefusalCode.INVALID, _("La période commence après sa fin."))
    if deadline < received_at:
        raise Refused(RefusalCode.INVALID, _("L'échéance précède la réception."))
    if not assigned_officer.has_perm(CHANGE_PERMISSION):
        raise Refused(RefusalCode.INVALID, _("L'agent chargé doit être un agent de conformité."))
    resolved = resolve_named_pseudonyms(
        named_pseudonyms, period_start, period_end, allow_ambiguous=allow_ambiguous
    )
    accounts, rooms = list(accounts), list(rooms)
    named_ids = {holder.user_id for holders in resolved.values() for holder in holders}
    accounts += list(User.objects.filter(pk__in=named_ids).exclude(pk__in=[a.pk for a in accounts]))
    if not accounts and not rooms:
        raise Refused(RefusalCode.INVALID, _("Indiquez au moins un compte ou un salon visé."))
    if LegalRequest.objects.filter(reference=reference).exists():
        raise Refused(RefusalCode.DUPLICATE, _("Une réquisition porte déjà cette référence."))
    request = LegalRequest.objects.create(
        reference=reference,
        authority=authority,
        legal_basis=legal_basis,
        legal_basis_detail=legal_basis_detail,
        received_at=received_at,
        deadline=deadline,
        period_start=period_start,
        period_end=period_end,
        data_categories=_clean_categories(data_categories),
        assigned_officer=assigned_officer,
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
    if place_holds:
        holds = [_place_hold(request, user=user, actor=actor) for user in accounts]
        holds += [_place_hold(request, room=room, actor=actor) for room in rooms]
    _audit_request(
        AuditEvent.LEGAL_REQUEST_OPENED,
        request,
        actor=actor,
        details={
            "legal_basis": legal_basis,
            "accounts": sorted(user.pk for user in accounts),
            "rooms": sorted(room.pk for room in rooms),
            "categories": request.data_categories,
            "period": [request.period_start.isoformat(), request.period_end.isoformat()],
            "deadline": request.deadline.isoformat(),
            "assigned_officer": assigned_officer.pk,
            "holds": [hold.pk for hold in holds],
            "named": {
                name: [holder.user_id for holder in holders] for name, holders in resolved.items()
            },
            "ambiguous": sorted({subject.named for subject in subjects if subject.ambiguous}),
        },
    )
    return request


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
    """The package was handed to the authority: the requisition is answered."""
    _check_permission(actor, CHANGE_PERMISSION)
    request = _locked(request)
    _require_status(request, (LegalRequestStatus.EXPORTED,))
    request.status = LegalRequestStatus.ANSWERED
    request.answered_at = timezone.now()
    request.status_reason = (note or "").strip()[:REASON_MAX_LENGTH]
    request.save(update_fields=["status", "answered_at", "status_reason"])
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
