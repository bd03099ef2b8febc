"""What the compliance actions share: permissions, text checks, the requisition's
lock and workflow state, its audit entries."""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from compliance.models import (
    PRODUCTION_KINDS,
    REASON_MAX_LENGTH,
    LegalRequest,
)
from core.refusals import RefusalCode, Refused

REQUEST_TARGET = "compliance.legalrequest"


HOLD_TARGET = "compliance.legalhold"


APPROVE_PERMISSION = "compliance.approve_legalrequest"


EXPORT_PERMISSION = "compliance.export_legalrequest"


CHANGE_PERMISSION = "compliance.change_legalrequest"


def _check_permission(actor, permission: str) -> None:
    # None is the platform itself: an operator at the server's command line.
    if actor is not None and not actor.has_perm(permission):
        raise Refused(
            RefusalCode.FORBIDDEN, _("Action réservée aux agents de conformité habilités.")
        )


def _required_text(value, field_label: str, max_length: int = REASON_MAX_LENGTH) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if not text:
        raise Refused(
            RefusalCode.INVALID, _("Le champ « %(field)s » est requis.") % {"field": field_label}
        )
    if len(text) > max_length:
        raise Refused(
            RefusalCode.INVALID,
            _("Le champ « %(field)s » dépasse %(max)d caractères.")
            % {"field": field_label, "max": max_length},
        )
    return text


def _locked(request: LegalRequest) -> LegalRequest:
    return LegalRequest.objects.select_for_update().get(pk=request.pk)


def _require_status(request: LegalRequest, allowed: Iterable[str]) -> None:
    if request.status not in allowed:
        raise Refused(
            RefusalCode.INVALID_STATUS,
            _("Impossible dans l'état actuel de la réquisition (%(status)s).")
            % {"status": request.get_status_display()},
        )


def _require_production(request: LegalRequest) -> None:
    """Only requisitions and production orders are answered with a data package."""
    if request.kind not in PRODUCTION_KINDS:
        raise Refused(
            RefusalCode.INVALID_STATUS,
            _("Cette injonction ne s'exécute pas par un paquet de données (%(kind)s).")
            % {"kind": request.get_kind_display()},
        )


def _audit_request(event: AuditEvent, request: LegalRequest, *, actor, reason="", details=None):
    record(
        event,
        actor=actor,
        target_type=REQUEST_TARGET,
        target_id=request.pk,
        reason=reason,
        details={"status": request.status, **(details or {})},
    )
