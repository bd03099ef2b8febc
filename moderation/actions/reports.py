"""Reports from members, alerts and the queue's decisions on them (DSA Art. 16, 20, 23)."""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation import queries, reputation
from moderation.actions.common import (
    REPORT_TARGET,
    _decision_basis,
    _locked_report,
    _mail,
    _optional_text,
    _record_for,
    _require_text,
)
from moderation.actions.console import check_may_handle
from moderation.actions.escalations import _escalate
from moderation.actions.misuse import _assess_notifier, _assess_provider
from moderation.actions.pending_hides import _hide_pending_review, _settle_pending_hide
from moderation.actions.removals import _remove_message
from moderation.actions.sanctions import _issue_sanction
from moderation.console import ReportEvent, push_report
from moderation.models import (
    CATEGORY_GROUND,
    DETAILS_MAX_LENGTH,
    OPEN_STATUSES,
    REASON_MAX_LENGTH,
    SEVERITY_DEADLINE,
    EscalationReason,
    Ground,
    ModerationRecord,
    Notice,
    Report,
    ReportCategory,
    ReportSource,
    ReportStatus,
    SafetySignal,
    Severity,
    TrustedFlagger,
    severity_for,
)
from rooms import policy
from rooms.models import Message, Room, RoomKind, RoomMembership

# Anti-abuse: a member files at most this many reports an hour.
REPORTS_PER_HOUR = 30


# An alert attaches this much of the conversation.
ALERT_CONTEXT_MESSAGES = 100


def _primary_for(report: Report) -> Report | None:
    """The open report this one is grouped with: same message, or same
    profile for reports on an account."""
    if report.source == ReportSource.AUTOMATIC:
        return None
    candidates = Report.objects.select_for_update().filter(
        duplicate_of__isnull=True, status__in=OPEN_STATUSES
    )
    if report.target_message_id is not None:
        candidates = candidates.filter(target_message_id=report.target_message_id)
    elif report.target_user_id is not None:
        candidates = candidates.filter(
            target_user_id=report.target_user_id, target_message__isnull=True
        )
    else:
        return None
    return candidates.exclude(source=ReportSource.AUTOMATIC).order_by("id").first()


def _file_report(
    *,
    category: str,
    source: str,
    reporter=None,
    details: str = "",
    message: Message | None = None,
    target_user=None,
    room: Room | None = None,
    context: list | None = None,
    notice: Notice | None = None,
    safety_signal: SafetySignal | None = None,
    severity: Severity | None = None,
    threat_to_life: bool = False,
) -> Report:
    """Stores a report and groups it with an open one on the same item (no audit)."""
    now = timezone.now()
    severity = min(severity or severity_for(category), severity_for(category))
    if threat_to_life:
        severity = Severity.URGENT
    report = Report(
        category=category,
        details=details,
        source=source,
        reporter=reporter,
        target_message=message,
        target_message_version=message.versions.count() if message is not None else None,
        target_user=target_user if target_user is not None else getattr(message, "author", None),
        room=room if room is not None else getattr(message, "room", None),
        context=context if context is not None else [],
        notice=notice,
        safety_signal=safety_signal,
        severity=severity,
        is_trusted_flagger=source == ReportSource.TRUSTED_FLAGGER,
        threat_to_life=threat_to_life,
        created=now,
        deadline=now + SEVERITY_DEADLINE[Severity(severity)],
    )
    primary = _primary_for(report)
    if primary is not None:
        report.duplicate_of = primary
        primary.reporter_count += 1
        primary.severity = min(primary.severity, report.severity)
        primary.is_trusted_flagger = primary.is_trusted_flagger or report.is_trusted_flagger
        primary.threat_to_life = primary.threat_to_life or threat_to_life
        primary.deadline = min(primary.deadline, report.deadline)
        primary.save(
            update_fields=[
                "reporter_count",
                "severity",
                "is_trusted_flagger",
                "threat_to_life",
                "deadline",
            ]
        )
    report.save()
    # The queue orders a severity by the reporters' summed precision (reputation.py).
    primary = report.duplicate_of or report
    primary.reporter_weight = reputation.group_weight(primary)
    primary.save(update_fields=["reporter_weight"])
    if threat_to_life:
        _escalate(report.duplicate_of or report, actor=reporter)
    push_report(report, ReportEvent.FILED, actor=reporter)
    return report


def _check_reporter(reporter) -> str:
    """The reporter's source, or a refusal (reporting suspended, too many reports)."""
    record_ = ModerationRecord.objects.filter(user=reporter).first()
    if record_ is not None and record_.reporting_suspended:
        raise Refused(
            RefusalCode.SUSPENDED,
            _(
                "Vos signalements sont suspendus jusqu'au %(date)s : trop d'entre eux étaient "
                "manifestement infondés (article T14 des conditions d'utilisation)."
            )
            % {"date": date_format(timezone.localtime(record_.reporting_suspended_until))},
        )
    since = timezone.now() - timedelta(hours=1)
    if Report.objects.filter(reporter=reporter, created__gte=since).count() >= REPORTS_PER_HOUR:
        raise Refused(
            RefusalCode.RATE_LIMITED, _("Trop de signalements en une heure : réessayez plus tard.")
        )
    flagger = TrustedFlagger.objects.filter(user=reporter, is_active=True).exists()
    return ReportSource.TRUSTED_FLAGGER if flagger else ReportSource.USER


def _audit_report(report: Report, *, actor, event=AuditEvent.REPORT_FILED) -> None:
    record(
        event,
        actor=actor,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        details={
            "category": report.category,
            "source": report.source,
            "severity": report.severity,
            "message": report.target_message_id,
            "user": report.target_user_id,
            "room": report.room_id,
            "grouped_with": report.duplicate_of_id,
            "threat_to_life": report.threat_to_life,
        },
    )


@transaction.atomic(durable=True)
def do_file_report(
    *,
    actor,
    category,
    details="",
    message: Message | None = None,
    target_user=None,
    threat_to_life: bool = False,
) -> Report:
    """A member reports a message or an account (POST /api/reports/, docs/moderation.md)."""
    if category not in ReportCategory.values:
        raise Refused(RefusalCode.INVALID, _("Catégorie de signalement inconnue."))
    details = _optional_text(details, "details", DETAILS_MAX_LENGTH)
    if (message is None) == (target_user is None):
        raise Refused(RefusalCode.INVALID, _("Signalez soit un message, soit un compte."))
    source = _check_reporter(actor)
    context: list = []
    room = None
    if message is not None:
        # A member may report what reached them, a held first contact included.
        is_member = RoomMembership.objects.filter(room=message.room, user=actor).exists()
        if message.deleted_at is not None or not (
            is_member or policy.can_read(actor, message.room)
        ):
            raise Refused(RefusalCode.NOT_FOUND, _("Message introuvable."))
        if message.author_id == actor.pk:
            raise Refused(
                RefusalCode.INVALID, _("Vous ne pouvez pas signaler votre propre message.")
            )
        context = queries.context_around(message)
        target_user = message.author
        room = message.room
    else:
        if target_user.pk == actor.pk:
            raise Refused(RefusalCode.INVALID, _("Vous ne pouvez pas vous signaler vous-même."))
        context = queries.recent_messages_of(target_user, seen_by=actor)
    if source == ReportSource.USER:
        existing = Report.objects.filter(
            reporter=actor,
            status__in=OPEN_STATUSES,
            target_message=message,
            target_user=target_user,
        ).first()
        if existing is not None:
            return existing  # the same person reporting twice counts once
    report = _file_report(
        category=category,
        source=source,
        reporter=actor,
        details=details,
        message=message,
        target_user=target_user,
        room=room,
        context=context,
        threat_to_life=bool(threat_to_life),
    )
    _audit_report(report, actor=actor)
    if message is not None:
        # Good reporters and no moderator online: hidden pending review.
        _hide_pending_review(report.duplicate_of or report, source=source)
    return report


@transaction.atomic(durable=True)
def do_file_alert(room: Room, *, actor, details="", threat_to_life: bool = False) -> Report:
    """ "Alerte" in a direct conversation: a member who feels in danger. Urgent,
    with the conversation attached; reporting limits do not apply."""
    if (
        room.kind != RoomKind.DIRECT
        or not RoomMembership.objects.filter(room=room, user=actor).exists()
    ):
        raise Refused(RefusalCode.NOT_FOUND, _("Conversation introuvable."))
    details = _optional_text(details, "details", DETAILS_MAX_LENGTH)
    partner = policy.direct_partner(room, actor)
    report = _file_report(
        category=ReportCategory.THREAT,
        source=ReportSource.ALERT,
        reporter=actor,
        details=details,
        target_user=partner,
        room=room,
        context=queries.last_messages(room, ALERT_CONTEXT_MESSAGES),
        severity=Severity.URGENT,
        threat_to_life=bool(threat_to_life),
    )
    _audit_report(report, actor=actor)
    return report


@transaction.atomic(durable=True)
def do_claim_report(report: Report, *, actor) -> Report:
    """A moderator takes a report (and its group) so that two do not work on it."""
    report = _locked_report(report)
    if not report.is_open:
        raise Refused(RefusalCode.CONFLICT, _("Ce signalement a déjà été traité."))
    if report.claimed_by_id not in (None, actor.pk):
        raise Refused(
            RefusalCode.CONFLICT,
            _("%(name)s s'en occupe déjà.") % {"name": report.claimed_by.get_username()},
        )
    check_may_handle(report, actor)
    report.status = ReportStatus.CLAIMED
    report.claimed_by = actor
    report.claimed_at = timezone.now()
    report.save(update_fields=["status", "claimed_by", "claimed_at"])
    record(AuditEvent.REPORT_CLAIMED, actor=actor, target_type=REPORT_TARGET, target_id=report.pk)
    push_report(report, ReportEvent.CLAIMED, actor=actor)
    return report


def _close_group(
    report: Report, *, actor, status: str, decision: str, clause: str = ""
) -> list[Report]:
    """Closes the report and its group; returns them all, for telling the reporters."""
    now = timezone.now()
    group = [report, *Report.objects.select_for_update().filter(duplicate_of=report)]
    for member in group:
        member.status = status
        member.decided_by = actor
        member.decided_at = now
        member.decision = decision
        member.clause = clause
        member.save(update_fields=["status", "decided_by", "decided_at", "decision", "clause"])
    return group


def _tell_reporters(group: list[Report]) -> None:
    """Reporters are told what became of their report (Art. 16(5)), after commit;
    the open consoles see the group leave the queue."""
    push_report(group[0], ReportEvent.DECIDED, actor=group[0].decided_by)
    for member in group:
        email = ""
        if member.reporter is not None:
            email = member.reporter.email
        elif member.notice is not None:
            email = member.notice.email
        if email:
            transaction.on_commit(
                partial(
                    _mail,
                    email,
                    _("Chatsite : suite donnée à votre signalement"),
                    "moderation/email/report_outcome.txt",
                    {"report": member},
                )
            )


@transaction.atomic(durable=True)
def do_decide_report(
    report: Report,
    *,
    actor,
    decision,
    remove_message: bool = False,
    sanction_kind: str | None = None,
    room: Room | None = None,
    duration_minutes: int | None = None,
    ground: str | None = None,
    clause: str | None = None,
    threat_to_life: bool = False,
    legal_provision: str | None = None,
    via: Carrier | None = None,
) -> Report:
    """Takes measures on a report's group: removes the message and/or sanctions
    its author, with a statement of reasons for each, then closes the group.
    A decision on illegal content names its legal provision (legal_provisions.py)."""
    report = _locked_report(report)
    if not report.is_open:
        raise Refused(RefusalCode.CONFLICT, _("Ce signalement a déjà été traité."))
    if report.escalated_to:
        check_may_handle(report, actor)
    decision = _require_text(decision, "decision", REASON_MAX_LENGTH)
    ground, clause, legal_provision = _decision_basis(
        ground, clause, legal_provision, default_ground=CATEGORY_GROUND[report.category]
    )
    if not remove_message and not sanction_kind:
        raise Refused(
            RefusalCode.INVALID, _("Choisissez une mesure, ou classez le signalement sans suite.")
        )
    if remove_message:
        if report.target_message is None:
            raise Refused(RefusalCode.INVALID, _("Ce signalement ne vise pas un message."))
        _remove_message(
            report.target_message,
            actor=actor,
            reason=decision,
            ground=ground,
            clause=clause,
            legal_provision=legal_provision,
            report=report,
            via=via,
            confirm_hidden=report.hidden_pending_review,
        )
    # A message hidden pending review: a removal confirms it, any other measure restores it.
    _settle_pending_hide(report, actor=actor, confirmed=remove_message, reason=decision)
    if sanction_kind:
        if report.target_user is None:
            raise Refused(RefusalCode.INVALID, _("Ce signalement ne vise aucun compte."))
        _issue_sanction(
            report.target_user,
            actor=actor,
            kind=sanction_kind,
            room=room,
            duration_minutes=duration_minutes,
            reason=decision,
            ground=ground,
            clause=clause,
            report=report,
            legal_provision=legal_provision,
        )
    if threat_to_life and not report.threat_to_life:
        report.threat_to_life = True
        report.save(update_fields=["threat_to_life"])
        _escalate(report, actor=actor)
    group = _close_group(
        report, actor=actor, status=ReportStatus.ACTIONED, decision=decision, clause=clause
    )
    if any(member.category == ReportCategory.CHILD_SAFETY for member in group):
        # A child-safety case with a measure is notified to PHAROS (Art. 18): the
        # back office prompts it, and it stays pending until sent or declined.
        _escalate(report, actor=actor, reason=EscalationReason.CHILD_SAFETY)
    record(
        AuditEvent.REPORT_ACTIONED,
        actor=actor,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        reason=decision,
        details={
            "removed_message": report.target_message_id if remove_message else None,
            "sanction": sanction_kind or None,
            "ground": ground,
            "clause": clause,
            "legal_provision": legal_provision,
            "group": [member.pk for member in group],
        },
    )
    if ground == Ground.ILLEGAL and remove_message:
        # Art. 23(1): a warning, then a timed ban if it goes on (misuse.py).
        _assess_provider(report.target_user, actor=actor)
    _tell_reporters(group)
    return report


@transaction.atomic(durable=True)
def do_dismiss_report(
    report: Report, *, actor, reason, manifestly_unfounded: bool = False
) -> Report:
    """Closes a report's group without measure. Manifestly unfounded reports
    count against their authors (Art. 23)."""
    report = _locked_report(report)
    if not report.is_open:
        raise Refused(RefusalCode.CONFLICT, _("Ce signalement a déjà été traité."))
    if report.escalated_to:
        check_may_handle(report, actor)
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    # A message hidden pending review comes back: the report was not upheld.
    _settle_pending_hide(report, actor=actor, confirmed=False, reason=reason)
    group = _close_group(report, actor=actor, status=ReportStatus.DISMISSED, decision=reason)
    reporters = {}
    if manifestly_unfounded:
        for member in group:
            member.manifestly_unfounded = True
            member.save(update_fields=["manifestly_unfounded"])
            if member.reporter is not None:
                _count_unfounded(member.reporter)
                reporters[member.reporter_id] = member.reporter
    record(
        AuditEvent.REPORT_DISMISSED,
        actor=actor,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        reason=reason,
        details={
            "manifestly_unfounded": manifestly_unfounded,
            "group": [member.pk for member in group],
        },
    )
    for reporter in reporters.values():
        # Art. 23(2): a warning, then a suspension if it goes on (misuse.py).
        _assess_notifier(reporter, actor=actor)
    _tell_reporters(group)
    return report


def _count_unfounded(reporter) -> None:
    """The running total shown in the admin; the assessment reads the reports themselves."""
    record_ = _record_for(reporter)
    record_.unfounded_reports += 1
    record_.save(update_fields=["unfounded_reports"])


def _reopen(report: Report) -> None:
    """A dismissal reversed on appeal: the report's group goes back to the queue."""
    primary = _locked_report(report)
    now = timezone.now()
    group = [primary, *Report.objects.select_for_update().filter(duplicate_of=primary)]
    for member in group:
        member.status = ReportStatus.OPEN
        member.claimed_by = None
        member.claimed_at = None
        member.manifestly_unfounded = False
        member.deadline = now + SEVERITY_DEADLINE[Severity(member.severity)]
        member.save(
            update_fields=[
                "status",
                "claimed_by",
                "claimed_at",
                "manifestly_unfounded",
                "deadline",
            ]
        )
