"""Notifications to the authorities (DSA Art. 18): a threat to life or safety, or a
child-safety case a moderator decided (PHAROS). Each is spontaneous, unlike the
answer to a requisition (compliance/): the record says what was prepared, then
what was sent, when, by whom and the authority's reference, or why nothing was."""

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation import queries
from moderation.actions.common import (
    ESCALATION_TARGET,
    _locked_report,
    _optional_text,
    _require_text,
)
from moderation.models import (
    REASON_MAX_LENGTH,
    EscalationAuthority,
    EscalationItem,
    EscalationReason,
    PharosCategory,
    Report,
    Severity,
    ThreatEscalation,
)

# What the audit entries say the record is (docs/moderation.md, docs/compliance.md).
DSA_ARTICLE = 18


def _escalate(
    report: Report, *, actor, reason: str = EscalationReason.THREAT_TO_LIFE
) -> ThreatEscalation:
    """The escalation record, with what the authorities need (PHAROS, 17, 112).
    One per case: a case both threatening and about a child is notified once."""
    existing = ThreatEscalation.objects.filter(report=report).first()
    if existing is not None:
        return existing
    escalation = ThreatEscalation.objects.create(
        report=report,
        reason=reason,
        authority=EscalationAuthority.PHAROS,
        information=queries.escalation_information(report),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    record(
        AuditEvent.THREAT_ESCALATED,
        actor=actor,
        target_type=ESCALATION_TARGET,
        target_id=escalation.pk,
        details={
            "report": report.pk,
            "category": report.category,
            "reason": reason,
            "dsa_article": DSA_ARTICLE,
        },
    )
    return escalation


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_references(information: dict, items) -> dict:
    """Which content was sent, by reference: message ids, dates and the SHA-256 of
    each text as prepared, so the record proves what left without copying it again."""
    references: dict = {}
    message = information.get("message")
    if EscalationItem.MESSAGE in items and message:
        references["message"] = {
            "id": message["id"],
            "created": message["created"],
            "sha256": _digest(message["body"]),
        }
    if EscalationItem.CONTEXT in items:
        references["context"] = [
            {"id": entry["id"], "sha256": _digest(entry["body"])}
            for entry in information.get("context") or []
            if "id" in entry and "body" in entry
        ]
    suspect = information.get("suspect")
    if EscalationItem.SUSPECT_ACCOUNT in items and suspect:
        references["suspect"] = suspect["id"]
    if EscalationItem.CONNECTIONS in items and suspect:
        references["connections"] = len(suspect.get("connections") or [])
    reporter = information.get("reporter")
    if EscalationItem.REPORTER in items and reporter:
        references["reporter"] = reporter["id"]
    victim = information.get("victim")
    if EscalationItem.VICTIM_ACCOUNT in items and victim:
        references["victim"] = victim["id"]
    return references


@transaction.atomic(durable=True)
def do_escalate_threat(report: Report, *, actor) -> ThreatEscalation:
    report = _locked_report(report)
    if not report.threat_to_life:
        report.threat_to_life = True
        report.severity = Severity.URGENT
        report.save(update_fields=["threat_to_life", "severity"])
    return _escalate(report, actor=actor)


def _locked_pending(escalation: ThreatEscalation) -> ThreatEscalation:
    escalation = ThreatEscalation.objects.select_for_update().get(pk=escalation.pk)
    if not escalation.is_pending:
        raise Refused(RefusalCode.CONFLICT, _("Ce signalement aux autorités est déjà enregistré."))
    return escalation


@transaction.atomic(durable=True)
def do_mark_escalation_transmitted(
    escalation: ThreatEscalation,
    *,
    actor,
    authority,
    reference="",
    category: str = "",
    items=(),
    summary: str = "",
) -> ThreatEscalation:
    """Records the notification as sent: to whom, the authority's reference (PHAROS
    always gives one), its category there, which prepared items went and the text
    typed in its form. Without items, everything prepared is taken as sent."""
    escalation = _locked_pending(escalation)
    if authority not in EscalationAuthority.values:
        raise Refused(RefusalCode.INVALID, _("Autorité inconnue."))
    reference = _optional_text(reference, "reference", 100)
    if authority == EscalationAuthority.PHAROS and not reference:
        raise Refused(
            RefusalCode.INVALID,
            _("Indiquez le numéro de signalement que PHAROS a donné (reference)."),
        )
    if category and category not in PharosCategory.values:
        raise Refused(RefusalCode.INVALID, _("Catégorie inconnue."))
    items = list(items) or list(EscalationItem.values)
    if any(item not in EscalationItem.values for item in items):
        raise Refused(RefusalCode.INVALID, _("Élément transmis inconnu."))
    summary = _optional_text(summary, "summary", REASON_MAX_LENGTH)
    escalation.authority = authority
    escalation.authority_reference = reference
    escalation.transmitted_at = timezone.now()
    escalation.transmitted_by = actor
    escalation.transmitted_content = {
        "category": category,
        "items": items,
        "content_references": content_references(escalation.information, items),
        "summary": summary,
    }
    escalation.save(
        update_fields=[
            "authority",
            "authority_reference",
            "transmitted_at",
            "transmitted_by",
            "transmitted_content",
        ]
    )
    record(
        AuditEvent.ESCALATION_TRANSMITTED,
        actor=actor,
        target_type=ESCALATION_TARGET,
        target_id=escalation.pk,
        details={
            "authority": authority,
            "reference": reference,
            "reason": escalation.reason,
            "report": escalation.report_id,
            "category": category,
            "items": items,
            "dsa_article": DSA_ARTICLE,
        },
    )
    return escalation


@transaction.atomic(durable=True)
def do_decline_escalation(escalation: ThreatEscalation, *, actor, reason) -> ThreatEscalation:
    """Closes a pending notification without sending it, for a stated reason (say, a
    minor alone on the site and no offence against them): audited, shown on the
    case and counted apart in the transparency figures."""
    escalation = _locked_pending(escalation)
    escalation.decline_reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    escalation.declined_at = timezone.now()
    escalation.declined_by = actor
    escalation.save(update_fields=["decline_reason", "declined_at", "declined_by"])
    record(
        AuditEvent.ESCALATION_DECLINED,
        actor=actor,
        target_type=ESCALATION_TARGET,
        target_id=escalation.pk,
        reason=escalation.decline_reason,
        details={"reason": escalation.reason, "report": escalation.report_id},
    )
    return escalation
