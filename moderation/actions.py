"""Every change moderation makes: one function each (docs/moderation.md).

The JSON API, the admin, the pages and the room policy checks call these and
nothing else. Each public `do_*` is atomic and writes its audit entry in its
own transaction; sockets are closed, rooms told and e-mails sent only once
it has committed. The `_underscored` helpers do the work inside a caller's
transaction: the policy checks run inside rooms' own post transaction.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record, user_model_label
from core.refusals import RefusalCode, Refused
from moderation import queries, rules
from moderation.models import (
    APPEAL_WINDOW,
    CATEGORY_GROUND,
    DETAILS_MAX_LENGTH,
    OPEN_STATUSES,
    REASON_MAX_LENGTH,
    SEVERITY_DEADLINE,
    Appeal,
    AppealStatus,
    EscalationAuthority,
    FilterRule,
    Ground,
    HeldMessage,
    HeldStatus,
    Measure,
    ModerationRecord,
    Notice,
    Report,
    ReportCategory,
    ReportSource,
    ReportStatus,
    SafetySignal,
    Sanction,
    SanctionKind,
    Severity,
    StatementOfReasons,
    ThreatEscalation,
    TrustedFlagger,
    severity_for,
)
from rooms import notify, policy
from rooms.models import Message, Room, RoomKind, RoomMembership
from rooms.protocol import CloseCode
from rooms.text import message_json

logger = logging.getLogger(__name__)

REPORT_TARGET = "moderation.report"
SANCTION_TARGET = "moderation.sanction"
MESSAGE_TARGET = "rooms.message"
APPEAL_TARGET = "moderation.appeal"
NOTICE_TARGET = "moderation.notice"
HELD_TARGET = "moderation.heldmessage"
ESCALATION_TARGET = "moderation.threatescalation"
SIGNAL_TARGET = "moderation.safetysignal"

# A kick is never permanent: without a duration it lasts this long.
DEFAULT_KICK_MINUTES = 15
MAX_DURATION_MINUTES = 10 * 365 * 24 * 60
# Anti-abuse: a member files at most this many reports an hour.
REPORTS_PER_HOUR = 30
# Art. 23: this many manifestly unfounded reports suspend reporting for a while.
UNFOUNDED_REPORTS_THRESHOLD = 5
REPORTING_SUSPENSION = timedelta(days=30)
# An alert attaches this much of the conversation.
ALERT_CONTEXT_MESSAGES = 100


def _require_text(value, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refused(RefusalCode.INVALID, _("Le champ %(field)s est requis.") % {"field": field})
    value = value.strip()
    if len(value) > max_length:
        raise Refused(
            RefusalCode.INVALID,
            _("Le champ %(field)s fait au plus %(max)d caractères.")
            % {"field": field, "max": max_length},
        )
    return value


def _optional_text(value, field: str, max_length: int) -> str:
    if value in (None, ""):
        return ""
    return _require_text(value, field, max_length)


def _ground_and_clause(ground, clause, *, default_ground: str) -> tuple[str, str]:
    """A decision's ground and the numbered rule it cites (rules.py): either may
    be given, the missing one follows from the other, so that every decision
    the member reads names a rule whenever one applies."""
    if clause not in (None, ""):
        cited = rules.clause(clause) if isinstance(clause, str) else None
        if cited is None or not cited.citable:
            raise Refused(
                RefusalCode.INVALID,
                _("Règle inconnue : %(clause)s. Citez l'une des règles %(codes)s (voir /rules/).")
                % {
                    "clause": str(clause)[:20],
                    "codes": ", ".join(rule.code for rule in rules.citable_clauses()),
                },
            )
        ground = ground or cited.ground
    ground = ground or default_ground
    if ground not in Ground.values:
        raise Refused(RefusalCode.INVALID, _("Fondement inconnu."))
    return ground, clause or rules.default_clause(ground)


def _record_for(user) -> ModerationRecord:
    record_, _created = ModerationRecord.objects.select_for_update().get_or_create(user=user)
    return record_


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _mail(recipient: str, subject: str, template: str, context: dict) -> None:
    """Sends one e-mail; called from on_commit only."""
    if not recipient:
        return
    body = render_to_string(template, {**context, "site_url": settings.SITE_URL})
    try:
        send_mail(subject, body, None, [recipient])
    except Exception:
        # The decision stands without its e-mail; the page still shows it.
        logger.exception("could not send the moderation e-mail %s", template)


# --- reports ---------------------------------------------------------------------------------


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
    if threat_to_life:
        _escalate(report.duplicate_of or report, actor=reporter)
    return report


def _check_reporter(reporter) -> str:
    """The reporter's source, or a refusal (reporting suspended, too many reports)."""
    record_ = ModerationRecord.objects.filter(user=reporter).first()
    if record_ is not None and record_.reporting_suspended:
        raise Refused(
            RefusalCode.SUSPENDED,
            _(
                "Vos signalements sont suspendus jusqu'au %(date)s : trop d'entre eux étaient "
                "manifestement infondés."
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
    """A member reports a message or an account (CONTRACT.md POST /api/reports/)."""
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
def do_file_notice(
    *,
    category,
    explanation,
    location,
    good_faith,
    name="",
    email="",
    actor=None,
) -> Notice:
    """A notice of illegal content from anyone (DSA Art. 16), acknowledged by e-mail."""
    if category not in ReportCategory.values:
        raise Refused(RefusalCode.INVALID, _("Catégorie inconnue."))
    if good_faith is not True:
        raise Refused(
            RefusalCode.INVALID, _("La déclaration de bonne foi est requise pour une notification.")
        )
    location = _require_text(location, "location", 500)
    email = _optional_text(email, "email", 254)
    try:
        URLValidator(schemes=["http", "https"])(location)
        if email:
            validate_email(email)
    except ValidationError:
        raise Refused(
            RefusalCode.INVALID, _("Indiquez une adresse web (URL) et une adresse e-mail valides.")
        ) from None
    notice = Notice.objects.create(
        category=category,
        explanation=_require_text(explanation, "explanation", DETAILS_MAX_LENGTH),
        location=location,
        name=_optional_text(name, "name", 200),
        email=email,
        good_faith=True,
        acknowledged_at=timezone.now() if email else None,
    )
    message = queries.message_at(notice.location)
    report = _file_report(
        category=category,
        source=ReportSource.NOTICE,
        details=notice.explanation,
        message=message,
        context=queries.context_around(message) if message is not None else [],
        notice=notice,
    )
    record(
        AuditEvent.NOTICE_FILED,
        actor=actor,
        target_type=NOTICE_TARGET,
        target_id=notice.pk,
        details={"category": category, "report": report.pk, "message": report.target_message_id},
    )
    if notice.email:
        transaction.on_commit(
            partial(
                _mail,
                notice.email,
                _("Chatsite : nous avons bien reçu votre notification"),
                "moderation/email/notice_received.txt",
                {"notice": notice},
            )
        )
    return notice


def _locked_report(report: Report) -> Report:
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.duplicate_of_id is not None:
        # Decisions are taken on the group, through its primary.
        report = Report.objects.select_for_update().get(pk=report.duplicate_of_id)
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
    report.status = ReportStatus.CLAIMED
    report.claimed_by = actor
    report.claimed_at = timezone.now()
    report.save(update_fields=["status", "claimed_by", "claimed_at"])
    record(AuditEvent.REPORT_CLAIMED, actor=actor, target_type=REPORT_TARGET, target_id=report.pk)
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
    """Reporters are told what became of their report (Art. 16(5)), after commit."""
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
) -> Report:
    """Takes measures on a report's group: removes the message and/or sanctions
    its author, with a statement of reasons for each, then closes the group."""
    report = _locked_report(report)
    if not report.is_open:
        raise Refused(RefusalCode.CONFLICT, _("Ce signalement a déjà été traité."))
    decision = _require_text(decision, "decision", REASON_MAX_LENGTH)
    ground, clause = _ground_and_clause(
        ground, clause, default_ground=CATEGORY_GROUND[report.category]
    )
    if not remove_message and not sanction_kind:
        raise Refused(
            RefusalCode.INVALID, _("Choisissez une mesure, ou classez le signalement sans suite.")
        )
    if remove_message:
        if report.target_message is None:
            raise Refused(RefusalCode.INVALID, _("Ce signalement ne vise pas un message."))
        _remove_message(
            report.target_message, actor=actor, reason=decision, ground=ground, clause=clause
        )
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
        )
    if threat_to_life and not report.threat_to_life:
        report.threat_to_life = True
        report.save(update_fields=["threat_to_life"])
        _escalate(report, actor=actor)
    group = _close_group(
        report, actor=actor, status=ReportStatus.ACTIONED, decision=decision, clause=clause
    )
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
            "group": [member.pk for member in group],
        },
    )
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
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    group = _close_group(report, actor=actor, status=ReportStatus.DISMISSED, decision=reason)
    suspended = []
    if manifestly_unfounded:
        for member in group:
            member.manifestly_unfounded = True
            member.save(update_fields=["manifestly_unfounded"])
            if member.reporter is not None and _count_unfounded(member.reporter):
                suspended.append(member.reporter_id)
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
    for user_id in suspended:
        record(
            AuditEvent.REPORTING_SUSPENDED,
            actor=actor,
            target_type=user_model_label(),
            target_id=user_id,
            details={"days": REPORTING_SUSPENSION.days},
        )
    _tell_reporters(group)
    return report


def _count_unfounded(reporter) -> bool:
    """Counts one manifestly unfounded report; True if this suspends reporting."""
    record_ = _record_for(reporter)
    record_.unfounded_reports += 1
    suspend = (
        record_.unfounded_reports % UNFOUNDED_REPORTS_THRESHOLD == 0
        and not record_.reporting_suspended
    )
    if suspend:
        record_.reporting_suspended_until = timezone.now() + REPORTING_SUSPENSION
    record_.save(update_fields=["unfounded_reports", "reporting_suspended_until"])
    return suspend


# --- threat to life (Art. 18) ----------------------------------------------------------------


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


# --- statements of reasons (Art. 17) ---------------------------------------------------------


def _scope(room: Room | None) -> str:
    if room is None:
        return _("tout le site")
    if room.is_direct:
        return _("une conversation privée")
    return _("le salon « %(room)s »") % {"room": room.name or room.slug}


def _statement(
    user,
    *,
    measure: str,
    facts: str,
    ground: str,
    decided_by,
    clause: str = "",
    room: Room | None = None,
    starts_at=None,
    ends_at=None,
    sanction: Sanction | None = None,
    message: Message | None = None,
    automated: bool = False,
) -> StatementOfReasons:
    now = timezone.now()
    statement = StatementOfReasons.objects.create(
        user=user,
        measure=measure,
        sanction=sanction,
        message=message,
        scope=_scope(room),
        starts_at=starts_at or now,
        ends_at=ends_at,
        facts=facts,
        automated_detection=automated,
        automated_decision=automated,
        ground=ground,
        clause=clause,
        explanation=_explanation(ground, clause),
        redress="",
        decided_by=decided_by if not automated else None,
        created=now,
        appeal_until=now + APPEAL_WINDOW,
    )
    statement.redress = _(
        "Vous pouvez contester cette décision jusqu'au %(date)s depuis la page « Mes "
        "décisions » (%(url)s) : un autre modérateur que celui qui l'a prise examinera "
        "votre recours et vous répondra de façon motivée. Vous pouvez aussi saisir un "
        "organisme de règlement extrajudiciaire des litiges certifié (article 21 du "
        "règlement sur les services numériques) ou le juge."
    ) % {
        "date": date_format(timezone.localtime(statement.appeal_until)),
        "url": _absolute(statement.get_absolute_url()),
    }
    statement.save(update_fields=["redress"])
    transaction.on_commit(
        partial(
            _mail,
            user.email,
            _("Chatsite : une décision de modération vous concerne"),
            "moderation/email/statement.txt",
            {"statement": statement, "url": _absolute(statement.get_absolute_url())},
        )
    )
    return statement


def _explanation(ground: str, clause: str) -> str:
    """The ground in words, naming the rule when the decision cites one (DSA Art. 17(3)(e))."""
    cited = rules.clause(clause) if clause else None
    if cited is None:
        return _(
            "Cette décision se fonde sur : %(ground)s. Les conditions d'utilisation de "
            "Chatsite interdisent ce comportement ; un contenu illégal est en outre "
            "signalé aux autorités quand la loi l'exige."
        ) % {"ground": Ground(ground).label}
    return _(
        "Cette décision se fonde sur la règle %(code)s des règles de la communauté "
        "(« %(title)s »), qui font partie des conditions d'utilisation de Chatsite : "
        "%(url)s. Un contenu illégal est en outre signalé aux autorités quand la loi "
        "l'exige."
    ) % {"code": cited.code, "title": cited.title, "url": _absolute(cited.get_absolute_url())}


# --- sanctions -------------------------------------------------------------------------------


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
) -> Sanction:
    if kind not in SanctionKind.values:
        raise Refused(RefusalCode.INVALID, _("Mesure inconnue : warn, mute, kick ou ban."))
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    ground, clause = _ground_and_clause(ground, clause, default_ground=Ground.TERMS_OTHER)
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
            "automated": automated,
            "report": report.pk if report is not None else None,
        },
    )
    if kind in (SanctionKind.BAN, SanctionKind.KICK):
        transaction.on_commit(
            partial(
                notify.close_user_sockets,
                user.pk,
                int(CloseCode.FORBIDDEN),
                room.pk if room is not None else None,
            )
        )
    return sanction


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
) -> Sanction:
    """Warns, mutes, kicks or bans, in a room or site-wide, for a time or for good.

    A ban or a kick closes the user's matching sockets with 4403 on every
    process once committed; rooms' policy refuses them from then on (checks.py).
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
    )


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


# --- message removal -------------------------------------------------------------------------


def _remove_message(
    message: Message,
    *,
    actor,
    reason: str,
    ground: str,
    clause: str = "",
    automated: bool = False,
) -> StatementOfReasons | None:
    """Hides the message as rooms does (who and why kept), tells the room after
    commit (message.deleted) and writes the author's statement of reasons."""
    message = (
        Message.objects.select_for_update().select_related("room", "author").get(pk=message.pk)
    )
    if message.deleted_at is not None:
        return None
    message.deleted_at = timezone.now()
    message.deleted_by = actor
    message.deletion_reason = reason
    message.save(update_fields=["deleted_at", "deleted_by", "deletion_reason"])
    transaction.on_commit(partial(notify.message_deleted, message.room_id, message.id))
    _count_violation(message.author)
    excerpt = message.body if len(message.body) <= 500 else message.body[:500] + "…"
    statement = _statement(
        message.author,
        measure=Measure.REMOVAL,
        facts=_("%(reason)s\n\nMessage du %(date)s : « %(body)s »")
        % {
            "reason": reason,
            "date": date_format(timezone.localtime(message.created), "DATETIME_FORMAT"),
            "body": excerpt,
        },
        ground=ground,
        clause=clause,
        decided_by=actor,
        room=message.room,
        message=message,
        automated=automated,
    )
    record(
        AuditEvent.MESSAGE_REMOVED,
        actor=actor,
        target_type=MESSAGE_TARGET,
        target_id=message.pk,
        reason=reason,
        details={
            "room": message.room_id,
            "author": message.author_id,
            "ground": ground,
            "clause": clause,
        },
    )
    return statement


@transaction.atomic(durable=True)
def do_remove_message(message: Message, *, actor, reason, ground=None, clause=None) -> Message:
    """A moderator removes a message (CONTRACT.md DELETE /api/moderation/messages/<id>/)."""
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    ground, clause = _ground_and_clause(ground, clause, default_ground=Ground.TERMS_OTHER)
    _remove_message(message, actor=actor, reason=reason, ground=ground, clause=clause)
    message.refresh_from_db()
    return message


# --- appeals (Art. 20) -----------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_file_appeal(statement: StatementOfReasons, *, actor, text) -> Appeal:
    statement = StatementOfReasons.objects.select_for_update().get(pk=statement.pk)
    if statement.user_id != actor.pk:
        raise Refused(RefusalCode.NOT_FOUND, _("Décision introuvable."))
    if timezone.now() > statement.appeal_until:
        raise Refused(RefusalCode.INVALID, _("Le délai de recours de six mois est dépassé."))
    if statement.appeals.exists():
        raise Refused(RefusalCode.CONFLICT, _("Vous avez déjà contesté cette décision."))
    appeal = Appeal.objects.create(
        statement=statement,
        appellant=actor,
        text=_require_text(text, "text", DETAILS_MAX_LENGTH),
    )
    record(
        AuditEvent.APPEAL_FILED,
        actor=actor,
        target_type=APPEAL_TARGET,
        target_id=appeal.pk,
        details={"statement": statement.pk, "measure": statement.measure},
    )
    return appeal


@transaction.atomic(durable=True)
def do_file_report_appeal(report: Report, *, actor, text) -> Appeal:
    """A reporter contests the dismissal of their report (Art. 20)."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.reporter_id != actor.pk:
        raise Refused(RefusalCode.NOT_FOUND, _("Signalement introuvable."))
    if report.status != ReportStatus.DISMISSED:
        raise Refused(RefusalCode.INVALID, _("Seul un classement sans suite peut être contesté."))
    if timezone.now() > report.appeal_until:
        raise Refused(RefusalCode.INVALID, _("Le délai de recours de six mois est dépassé."))
    if report.appeals.exists():
        raise Refused(RefusalCode.CONFLICT, _("Vous avez déjà contesté cette décision."))
    appeal = Appeal.objects.create(
        report=report,
        appellant=actor,
        text=_require_text(text, "text", DETAILS_MAX_LENGTH),
    )
    record(
        AuditEvent.APPEAL_FILED,
        actor=actor,
        target_type=APPEAL_TARGET,
        target_id=appeal.pk,
        details={"report": report.pk},
    )
    return appeal


@transaction.atomic(durable=True)
def do_decide_appeal(appeal: Appeal, *, actor, reverse_decision: bool, answer) -> Appeal:
    """Another moderator than the decider answers, with reasons. Reversing lifts
    the sanction or puts the removed message back; for a dismissed report, it
    puts the report back in the queue."""
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("statement", "report")
        .get(pk=appeal.pk)
    )
    if appeal.status != AppealStatus.OPEN:
        raise Refused(RefusalCode.CONFLICT, _("Ce recours a déjà été décidé."))
    if appeal.decider_id is not None and appeal.decider_id == actor.pk:
        raise Refused(
            RefusalCode.FORBIDDEN,
            _("Un recours est examiné par un autre modérateur que l'auteur de la décision."),
        )
    answer = _require_text(answer, "answer", REASON_MAX_LENGTH)
    appeal.status = AppealStatus.REVERSED if reverse_decision else AppealStatus.UPHELD
    appeal.decided_by = actor
    appeal.decided_at = timezone.now()
    appeal.answer = answer
    appeal.save(update_fields=["status", "decided_by", "decided_at", "answer"])
    statement = appeal.statement
    if reverse_decision and statement is not None:
        sanction = statement.sanction
        if sanction is not None and sanction.lifted_at is None:
            locked = Sanction.objects.select_for_update().get(pk=sanction.pk)
            _lift(locked, actor=actor, reason=answer)
        if statement.message_id is not None:
            _restore_message(statement.message_id)
    if reverse_decision and appeal.report is not None:
        _reopen(appeal.report)
    record(
        AuditEvent.APPEAL_DECIDED,
        actor=actor,
        target_type=APPEAL_TARGET,
        target_id=appeal.pk,
        reason=answer,
        details={
            "statement": statement.pk if statement is not None else None,
            "report": appeal.report_id,
            "status": appeal.status,
        },
    )
    url = statement.get_absolute_url() if statement is not None else decisions_url()
    transaction.on_commit(
        partial(
            _mail,
            appeal.appellant.email,
            _("Chatsite : réponse à votre recours"),
            "moderation/email/appeal_decided.txt",
            {"appeal": appeal, "url": _absolute(url)},
        )
    )
    return appeal


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


def _restore_message(message_id: int) -> None:
    """An appeal upheld against a removal: the message is visible again (in
    history and on reconnect; open sockets are not told)."""
    Message.objects.filter(pk=message_id).update(
        deleted_at=None, deleted_by=None, deletion_reason=""
    )


# --- automatic filters and held messages ------------------------------------------------------


def _automatic_context(room: Room, user, body: str) -> list:
    """The last messages of the room and the one being posted (not stored yet)."""
    pending = {
        "id": None,
        "author": user.get_username(),
        "author_id": user.pk,
        "body": body,
        "created": timezone.now().isoformat(),
        "deleted": False,
        "pending": True,
    }
    return [*queries.last_messages(room, 2 * queries.CONTEXT_AROUND), pending]


def flag_message(rule: FilterRule, user, room: Room, body: str, matches: list[str]) -> Report:
    """A filter lets the message through and puts it in the queue (in rooms'
    post transaction: it commits with the message)."""
    report = _file_report(
        category=rule.category,
        source=ReportSource.AUTOMATIC,
        details=_("Filtre « %(rule)s » : %(matches)s")
        % {"rule": rule.name, "matches": ", ".join(matches)[:500]},
        target_user=user,
        room=room,
        context=_automatic_context(room, user, body),
    )
    record(
        AuditEvent.MESSAGE_FLAGGED,
        actor=None,
        target_type=REPORT_TARGET,
        target_id=report.pk,
        details={"rule": rule.pk, "room": room.pk, "user": user.pk},
    )
    transaction.on_commit(partial(link_flagged_message, report.pk))
    return report


def link_flagged_message(report_id: int) -> None:
    """Once the flagged message is stored, the report points to it."""
    report = Report.objects.filter(pk=report_id, target_message__isnull=True).first()
    if report is None or not report.context:
        return
    body = report.context[-1]["body"]
    message = (
        Message.objects.filter(room_id=report.room_id, author_id=report.target_user_id, body=body)
        .order_by("-id")
        .first()
    )
    if message is not None:
        Report.objects.filter(pk=report_id).update(target_message=message)


def mute_by_filter(rule: FilterRule, user, room: Room, matches: list[str]) -> Sanction:
    """A filter mutes the author (in rooms' post transaction)."""
    return _issue_sanction(
        user,
        actor=None,
        kind=SanctionKind.MUTE,
        room=rule.room,
        duration_minutes=rule.mute_minutes,
        reason=_("Filtre automatique « %(rule)s »") % {"rule": rule.name},
        ground=rule.ground,
        automated=True,
        facts=_("Un message envoyé dans %(scope)s contenait : %(matches)s")
        % {"scope": _scope(room), "matches": ", ".join(matches)[:500]},
    )


@transaction.atomic(durable=True)
def do_hold_message(rule_id: int, user_id: int, room_id: int, body: str) -> HeldMessage:
    """Keeps a message a filter held, for a moderator to release or reject.

    Runs after rooms' refused post has rolled back, in its own transaction.
    """
    held = HeldMessage.objects.create(
        room_id=room_id,
        author_id=user_id,
        body=body,
        rule=FilterRule.objects.filter(pk=rule_id).first(),
    )
    record(
        AuditEvent.MESSAGE_HELD,
        actor=None,
        target_type=HELD_TARGET,
        target_id=held.pk,
        details={"rule": rule_id, "room": room_id, "user": user_id},
    )
    return held


@transaction.atomic(durable=True)
def do_release_held_message(held: HeldMessage, *, actor) -> Message:
    """Posts the held message as its author wrote it, now."""
    held = HeldMessage.objects.select_for_update().get(pk=held.pk)
    if held.status != HeldStatus.PENDING:
        raise Refused(RefusalCode.CONFLICT, _("Ce message a déjà été traité."))
    room = Room.objects.select_for_update().get(pk=held.room_id)
    silenced = (SanctionKind.MUTE, SanctionKind.BAN, SanctionKind.KICK)
    if queries.active_sanctions(held.author, room, silenced).exists():
        raise Refused(
            RefusalCode.CONFLICT,
            _("Son auteur ne peut plus écrire ici : refusez plutôt ce message."),
        )
    message = Message.objects.create(room=room, author=held.author, body=held.body)
    message.room = room
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
    notify_ids = []
    if room.kind != RoomKind.PUBLIC:
        notify_ids = list(
            RoomMembership.objects.filter(room=room)
            .exclude(user=held.author)
            .values_list("user_id", flat=True)
        )
    transaction.on_commit(
        partial(notify.message_posted, room.pk, message_json(message), notify_ids)
    )
    return message


@transaction.atomic(durable=True)
def do_reject_held_message(held: HeldMessage, *, actor, reason) -> HeldMessage:
    held = HeldMessage.objects.select_for_update().get(pk=held.pk)
    if held.status != HeldStatus.PENDING:
        raise Refused(RefusalCode.CONFLICT, _("Ce message a déjà été traité."))
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    held.status = HeldStatus.REJECTED
    held.decided_by = actor
    held.decided_at = timezone.now()
    held.save(update_fields=["status", "decided_by", "decided_at"])
    record(
        AuditEvent.HELD_MESSAGE_REJECTED,
        actor=actor,
        target_type=HELD_TARGET,
        target_id=held.pk,
        reason=reason,
    )
    return held


# --- safety signals ---------------------------------------------------------------------------


def raise_safety_signal(
    kind: str, user, room: Room | None, *, excerpt: str = "", details: dict | None = None
) -> SafetySignal:
    """Stores the signal and puts it high in the queue (in rooms' post transaction)."""
    signal = SafetySignal.objects.create(
        kind=kind, user=user, room=room, excerpt=excerpt[:2000], details=details or {}
    )
    context = _automatic_context(room, user, excerpt) if room is not None else []
    report = _file_report(
        category=ReportCategory.OTHER,
        source=ReportSource.AUTOMATIC,
        details=str(signal.get_kind_display()),
        target_user=user,
        room=room,
        context=context,
        safety_signal=signal,
        severity=Severity.HIGH,
    )
    record(
        AuditEvent.SAFETY_SIGNAL_RAISED,
        actor=None,
        target_type=SIGNAL_TARGET,
        target_id=signal.pk,
        details={
            "kind": kind,
            "user": user.pk,
            "room": room.pk if room is not None else None,
            "report": report.pk,
            **(details or {}),
        },
    )
    if excerpt:
        transaction.on_commit(partial(link_flagged_message, report.pk))
    return signal


def user_named(username):
    if not isinstance(username, str) or not username:
        raise Refused(RefusalCode.INVALID, _("Le champ user est requis."))
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Utilisateur introuvable."))
    return user


def decisions_url() -> str:
    return reverse("moderation:decisions")
