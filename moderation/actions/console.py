"""The live console's moves on a report: release, reassign, escalate to a senior
moderator or to compliance, and the thread with the reporter
(docs/moderation.md, "La console en direct"). Claiming is in reports.py.

Each is atomic, writes its audit entry in the same transaction and, once
committed, tells every open console (moderation/console.py).
"""

from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation.actions.common import REPORT_TARGET, _locked_report, _mail, _require_text
from moderation.console import ReportEvent, push_report
from moderation.models import (
    DETAILS_MAX_LENGTH,
    REASON_MAX_LENGTH,
    EscalationTier,
    Report,
    ReportStatus,
    ReportThreadMessage,
)

# Who may work a report, by the tier it was handed up to.
TIER_PERMISSIONS = {
    "": "moderation.change_report",
    EscalationTier.SENIOR: "moderation.handle_senior_report",
    EscalationTier.COMPLIANCE: "moderation.handle_compliance_report",
}
# A senior moderator takes back or hands on a report someone else holds.
SENIOR_PERMISSION = "moderation.handle_senior_report"


def may_handle(report: Report, user) -> bool:
    """May `user` claim and decide this report, given the tier it is at?"""
    if user is None or not user.is_active or not user.is_staff:
        return False
    return user.has_perm(TIER_PERMISSIONS[report.escalated_to or ""])


def check_may_handle(report: Report, user) -> None:
    if not may_handle(report, user):
        tier = EscalationTier(report.escalated_to) if report.escalated_to else None
        raise Refused(
            RefusalCode.FORBIDDEN,
            _("Ce signalement a été transmis à : %(tier)s. Eux seuls peuvent le traiter.")
            % {"tier": tier.label}
            if tier is not None
            else _("Vous n'avez pas la permission de traiter les signalements."),
        )


def _open_report(report: Report) -> Report:
    report = _locked_report(report)
    if not report.is_open:
        raise Refused(RefusalCode.CONFLICT, _("Ce signalement a déjà été traité."))
    return report


def _check_holder_or_senior(report: Report, actor) -> None:
    """Only who holds the report, or a senior moderator, releases or hands it on."""
    if report.claimed_by_id == actor.pk or actor.has_perm(SENIOR_PERMISSION):
        return
    if report.claimed_by_id is None:
        raise Refused(RefusalCode.CONFLICT, _("Personne n'a pris ce signalement en charge."))
    raise Refused(
        RefusalCode.FORBIDDEN,
        _("%(name)s s'en occupe : seul un modérateur senior peut le lui reprendre.")
        % {"name": report.claimed_by.get_username()},
    )


@transaction.atomic(durable=True)
def do_release_report(report: Report, *, actor, reason: str = "") -> Report:
    """Gives a claimed report back to the queue."""
    report = _open_report(report)
    if report.claimed_by_id is None:
        raise Refused(RefusalCode.CONFLICT, _("Personne n'a pris ce signalement en charge."))
    _check_holder_or_senior(report, actor)
    held_by = report.claimed_by_id
    report.status = ReportStatus.OPEN
    report.claimed_by = None
    report.claimed_at = None
    report.save(update_fields=["status", "claimed_by", "claimed_at"])
    record(
        AuditEvent.REPORT_RELEASED,
        actor=actor,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        reason=(reason or "").strip()[:REASON_MAX_LENGTH],
        details={"held_by": held_by},
    )
    push_report(report, ReportEvent.RELEASED, actor=actor)
    return report


@transaction.atomic(durable=True)
def do_reassign_report(report: Report, *, actor, to_user, reason: str = "") -> Report:
    """Hands a report to another moderator, who holds it from now on."""
    report = _open_report(report)
    if report.claimed_by_id is not None:
        _check_holder_or_senior(report, actor)
    else:
        check_may_handle(report, actor)
    to_user = get_user_model().objects.filter(pk=getattr(to_user, "pk", to_user)).first()
    if to_user is None or not may_handle(report, to_user):
        raise Refused(
            RefusalCode.INVALID, _("Ce membre de l'équipe ne peut pas traiter ce signalement.")
        )
    if to_user.pk == report.claimed_by_id:
        raise Refused(RefusalCode.CONFLICT, _("Ce modérateur s'en occupe déjà."))
    held_by = report.claimed_by_id
    report.status = ReportStatus.CLAIMED
    report.claimed_by = to_user
    report.claimed_at = timezone.now()
    report.save(update_fields=["status", "claimed_by", "claimed_at"])
    record(
        AuditEvent.REPORT_REASSIGNED,
        actor=actor,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        reason=(reason or "").strip()[:REASON_MAX_LENGTH],
        details={"from": held_by, "to": to_user.pk},
    )
    push_report(report, ReportEvent.REASSIGNED, actor=actor)
    return report


@transaction.atomic(durable=True)
def do_escalate_report(report: Report, *, actor, tier: str, reason) -> Report:
    """Hands a report up to the senior moderators or to compliance: it goes back
    to the queue (unclaimed), and only they may claim and decide it now."""
    if tier not in EscalationTier.values:
        raise Refused(RefusalCode.INVALID, _("Transmission inconnue."))
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    report = _open_report(report)
    if report.claimed_by_id is not None:
        _check_holder_or_senior(report, actor)
    else:
        check_may_handle(report, actor)
    if report.escalated_to == tier:
        raise Refused(RefusalCode.CONFLICT, _("Ce signalement leur a déjà été transmis."))
    previous, held_by = report.escalated_to, report.claimed_by_id
    report.escalated_to = tier
    report.escalated_at = timezone.now()
    report.status = ReportStatus.OPEN
    report.claimed_by = None
    report.claimed_at = None
    report.save(
        update_fields=["escalated_to", "escalated_at", "status", "claimed_by", "claimed_at"]
    )
    record(
        AuditEvent.REPORT_ESCALATED,
        actor=actor,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        reason=reason,
        details={"tier": tier, "previous_tier": previous or None, "held_by": held_by},
    )
    push_report(report, ReportEvent.ESCALATED, actor=actor)
    return report


def _primary(report: Report) -> Report:
    return report.duplicate_of if report.duplicate_of_id else report


@transaction.atomic(durable=True)
def do_post_report_thread_message(report: Report, *, actor, body) -> ReportThreadMessage:
    """A message in the thread of one report (one reporter's) of a group: from the
    moderator who holds the group, or the reporter's answer once asked."""
    body = _require_text(body, "body", DETAILS_MAX_LENGTH)
    report = Report.objects.select_for_update().get(pk=report.pk)
    primary = _primary(report)
    if report.reporter_id is None:
        raise Refused(RefusalCode.INVALID, _("Ce signalement n'a pas d'auteur à qui écrire."))
    if actor.pk == report.reporter_id:
        from_staff = False
        if not report.thread.filter(from_staff=True).exists():
            raise Refused(
                RefusalCode.FORBIDDEN, _("La modération ne vous a pas encore écrit à ce sujet.")
            )
    elif actor.is_staff and actor.is_active:  # the surfaces checked the second factor
        from_staff = True
        if primary.claimed_by_id != actor.pk:
            raise Refused(
                RefusalCode.FORBIDDEN,
                _(
                    "Prenez d'abord le signalement en charge : "
                    "seul qui le traite écrit à son auteur."
                ),
            )
    else:
        raise Refused(RefusalCode.FORBIDDEN, _("Ce signalement ne vous concerne pas."))
    if not primary.is_open:
        raise Refused(RefusalCode.CONFLICT, _("Ce signalement a déjà été traité."))
    message = ReportThreadMessage.objects.create(
        report=report, author=actor, from_staff=from_staff, body=body
    )
    record(
        AuditEvent.REPORT_THREAD_MESSAGE,
        actor=actor,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        # The text is the people's own words: it stays on the row, out of the chain.
        details={"message": message.pk, "from_staff": from_staff, "group": primary.pk},
    )
    if from_staff and report.reporter.email:
        transaction.on_commit(
            partial(
                _mail,
                report.reporter.email,
                _("Chatsite : la modération vous écrit au sujet de votre signalement"),
                "moderation/email/report_thread.txt",
                {"report": report, "path": reverse("moderation:report", args=[report.pk])},
            )
        )
    push_report(primary, ReportEvent.THREAD, actor=actor)
    return message
