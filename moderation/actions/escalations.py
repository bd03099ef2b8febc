"""Threats to life or safety escalated to the authorities (DSA Art. 18)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation import queries
from moderation.actions.common import ESCALATION_TARGET, _locked_report, _optional_text
from moderation.models import (
    EscalationAuthority,
    Report,
    Severity,
    ThreatEscalation,
)


def _escalate(report: Report, *, actor) -> ThreatEscalation:
    """The escalation record, with what the authorities need (PHAROS, 17, 112)."""
    existing = ThreatEscalation.objects.filter(report=report).first()
    if existing is not None:
        return existing
    escalation = ThreatEscalation.objects.create(
        report=report,
        authority=EscalationAuthority.PHAROS,
        information=queries.escalation_information(report),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    record(
        AuditEvent.THREAT_ESCALATED,
        actor=actor,
        target_type=ESCALATION_TARGET,
        target_id=escalation.pk,
        details={"report": report.pk, "category": report.category},
    )
    return escalation


@transaction.atomic(durable=True)
def do_escalate_threat(report: Report, *, actor) -> ThreatEscalation:
    report = _locked_report(report)
    if not report.threat_to_life:
        report.threat_to_life = True
        report.severity = Severity.URGENT
        report.save(update_fields=["threat_to_life", "severity"])
    return _escalate(report, actor=actor)


@transaction.atomic(durable=True)
def do_mark_escalation_transmitted(
    escalation: ThreatEscalation, *, actor, authority, reference=""
) -> ThreatEscalation:
    escalation = ThreatEscalation.objects.select_for_update().get(pk=escalation.pk)
    if authority not in EscalationAuthority.values:
        raise Refused(RefusalCode.INVALID, _("Autorité inconnue."))
    escalation.authority = authority
    escalation.authority_reference = _optional_text(reference, "reference", 100)
    escalation.transmitted_at = timezone.now()
    escalation.transmitted_by = actor
    escalation.save(
        update_fields=["authority", "authority_reference", "transmitted_at", "transmitted_by"]
    )
    record(
        AuditEvent.ESCALATION_TRANSMITTED,
        actor=actor,
        target_type=ESCALATION_TARGET,
        target_id=escalation.pk,
        details={"authority": authority, "reference": escalation.authority_reference},
    )
    return escalation
