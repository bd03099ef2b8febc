"""DSA Art. 23 misuse: a warning first, then a timed suspension (terms clause T14).

Two behaviours, one shape. A member who often files manifestly unfounded
reports (Art. 23(2)) and a member who often provides manifestly illegal
content (Art. 23(1)) are assessed whenever a moderator's decision adds to
their record: over a window of days (moderation/app_settings.py), a warning
with its statement of reasons when the threshold is first crossed; a timed
suspension only if the behaviour goes on after that warning (one more such
decision while the threshold still holds). A warning older than the window
has lapsed, and a suspension starts the count afresh: what came before it
has been answered.

These run inside the deciding moderator's transaction, who is named as the
decider: the step applies the published rule to decisions a person took.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record, user_model_label
from moderation.actions.common import _record_for
from moderation.actions.sanctions import _issue_sanction
from moderation.actions.statements import _statement
from moderation.app_settings import app_settings
from moderation.models import (
    AppealStatus,
    Ground,
    Measure,
    MisuseMeasure,
    MisuseStep,
    Report,
    ReportStatus,
    Sanction,
    SanctionKind,
    StatementOfReasons,
)

# The terms clause that states the thresholds (moderation/rules.py).
MISUSE_CLAUSE = "T14"

# Decisions that found a content illegal: removed, or a held message refused.
ILLEGAL_CONTENT_MEASURES = (Measure.REMOVAL, Measure.REJECTION)


def _last_step(user, kinds) -> MisuseMeasure | None:
    return MisuseMeasure.objects.filter(user=user, kind__in=kinds).order_by("-created").first()


def _count_from(window_start, last: MisuseMeasure | None, suspension_kind: str):
    """The window's start, or the last suspension's if later: what came before
    a suspension has been answered by it."""
    if last is not None and last.kind == suspension_kind and last.created > window_start:
        return last.created
    return window_start


def _pending_warning(last: MisuseMeasure | None, window_start, warning_kind: str):
    """The warning still in force (within the window, not yet followed by a suspension)."""
    if last is not None and last.kind == warning_kind and last.created >= window_start:
        return last
    return None


def _audit_step(step: MisuseMeasure, *, actor, event: AuditEvent) -> None:
    record(
        event,
        actor=actor,
        target_type=user_model_label(),
        target_id=step.user_id,
        details={
            "step": step.kind,
            "measure": step.pk,
            "statement": step.statement_id,
            "sanction": step.sanction_id,
            "ends_at": step.ends_at.isoformat() if step.ends_at else None,
            **step.figures,
        },
    )


# Art. 23(2): manifestly unfounded reports.


def _assess_notifier(reporter, *, actor) -> MisuseMeasure | None:
    """After a report of theirs was dismissed as manifestly unfounded: warn,
    suspend reporting, or nothing."""
    now = timezone.now()
    record_ = _record_for(reporter)  # locks: two dismissals at once count in turn
    if record_.reporting_suspended:
        return None
    days = app_settings.MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS
    window_start = now - timedelta(days=days)
    last = _last_step(reporter, (MisuseStep.NOTIFIER_WARNING, MisuseStep.NOTIFIER_SUSPENSION))
    since = _count_from(window_start, last, MisuseStep.NOTIFIER_SUSPENSION)
    decided = Report.objects.filter(
        reporter=reporter,
        status__in=(ReportStatus.ACTIONED, ReportStatus.DISMISSED),
        decided_at__gte=since,
    )
    total = decided.count()
    unfounded = decided.filter(manifestly_unfounded=True).count()
    percent = app_settings.MODERATION_UNFOUNDED_REPORTS_PERCENT
    if total < app_settings.MODERATION_UNFOUNDED_REPORTS_MIN_DECIDED or unfounded * 100 < (
        percent * total
    ):
        return None
    figures = {
        "decided_reports": total,
        "manifestly_unfounded": unfounded,
        "window_days": days,
        "threshold_decided": app_settings.MODERATION_UNFOUNDED_REPORTS_MIN_DECIDED,
        "threshold_percent": percent,
    }
    warning = _pending_warning(last, window_start, MisuseStep.NOTIFIER_WARNING)
    if warning is None:
        facts = _(
            "Sur les %(days)d derniers jours, %(unfounded)d de vos %(total)d signalements "
            "examinés ont été jugés manifestement infondés. C'est un avertissement : si vous "
            "continuez, vos signalements seront suspendus pour %(suspension)d jours "
            "(article T14 des conditions d'utilisation)."
        ) % {
            "days": days,
            "unfounded": unfounded,
            "total": total,
            "suspension": app_settings.MODERATION_REPORTING_SUSPENSION_DAYS,
        }
        statement = _statement(
            reporter,
            measure=Measure.WARN,
            facts=facts,
            ground=Ground.TERMS_OTHER,
            clause=MISUSE_CLAUSE,
            decided_by=actor,
        )
        step = MisuseMeasure.objects.create(
            kind=MisuseStep.NOTIFIER_WARNING,
            user=reporter,
            created=now,
            statement=statement,
            figures=figures,
        )
        _audit_step(step, actor=actor, event=AuditEvent.MISUSE_WARNING_ISSUED)
        return step
    if not decided.filter(manifestly_unfounded=True, decided_at__gt=warning.created).exists():
        return None
    ends_at = now + timedelta(days=app_settings.MODERATION_REPORTING_SUSPENSION_DAYS)
    facts = _(
        "Après l'avertissement du %(warned)s, d'autres de vos signalements ont été jugés "
        "manifestement infondés : %(unfounded)d sur %(total)d en %(days)d jours. Vos "
        "nouveaux signalements sont refusés jusqu'au %(until)s (article T14 des conditions "
        "d'utilisation) ; vous pouvez toujours utiliser le bouton « Alerte » si vous êtes "
        "en danger."
    ) % {
        "warned": date_format(timezone.localtime(warning.created)),
        "unfounded": unfounded,
        "total": total,
        "days": days,
        "until": date_format(timezone.localtime(ends_at)),
    }
    statement = _statement(
        reporter,
        measure=Measure.REPORTING,
        facts=facts,
        ground=Ground.TERMS_OTHER,
        clause=MISUSE_CLAUSE,
        decided_by=actor,
        starts_at=now,
        ends_at=ends_at,
    )
    record_.reporting_suspended_until = ends_at
    record_.save(update_fields=["reporting_suspended_until"])
    step = MisuseMeasure.objects.create(
        kind=MisuseStep.NOTIFIER_SUSPENSION,
        user=reporter,
        created=now,
        ends_at=ends_at,
        statement=statement,
        figures=figures,
    )
    _audit_step(step, actor=actor, event=AuditEvent.REPORTING_SUSPENDED)
    return step


def _end_reporting_suspension(statement: StatementOfReasons) -> bool:
    """An appeal reversed the suspension of reporting: it ends now."""
    step = MisuseMeasure.objects.filter(
        statement=statement, kind=MisuseStep.NOTIFIER_SUSPENSION
    ).first()
    if step is None:
        return False
    now = timezone.now()
    record_ = _record_for(step.user)
    if record_.reporting_suspended_until is not None and record_.reporting_suspended_until > now:
        record_.reporting_suspended_until = now
        record_.save(update_fields=["reporting_suspended_until"])
    step.ends_at = min(step.ends_at or now, now)
    step.save(update_fields=["ends_at"])
    return True


# Art. 23(1): manifestly illegal content.


def _assess_provider(user, *, actor) -> MisuseMeasure | None:
    """After a moderator removed or refused a content of theirs as illegal:
    warn, ban site-wide for a while, or nothing."""
    if user is None or user.is_staff or (actor is not None and user.pk == actor.pk):
        return None
    now = timezone.now()
    _record_for(user)  # locks: two decisions at once count in turn
    if Sanction.objects.active().filter(user=user, kind=SanctionKind.BAN, room=None).exists():
        return None
    days = app_settings.MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS
    window_start = now - timedelta(days=days)
    last = _last_step(user, (MisuseStep.PROVIDER_WARNING, MisuseStep.PROVIDER_SUSPENSION))
    since = _count_from(window_start, last, MisuseStep.PROVIDER_SUSPENSION)
    # Decided by a moderator (not a filter alone) and not reversed on appeal.
    illegal = (
        StatementOfReasons.objects.filter(
            user=user,
            ground=Ground.ILLEGAL,
            measure__in=ILLEGAL_CONTENT_MEASURES,
            decided_by__isnull=False,
            created__gte=since,
        )
        .exclude(appeals__status=AppealStatus.REVERSED)
        .distinct()
    )
    count = illegal.count()
    threshold = app_settings.MODERATION_ILLEGAL_CONTENT_THRESHOLD
    if count < threshold:
        return None
    figures = {"illegal_contents": count, "window_days": days, "threshold": threshold}
    warning = _pending_warning(last, window_start, MisuseStep.PROVIDER_WARNING)
    suspension_days = app_settings.MODERATION_ILLEGAL_CONTENT_SUSPENSION_DAYS
    if warning is None:
        reason = _(
            "Sur les %(days)d derniers jours, %(count)d de vos messages ont été supprimés ou "
            "refusés parce qu'ils étaient manifestement illicites. C'est un avertissement : "
            "si vous continuez, votre compte sera suspendu pour %(suspension)d jours "
            "(article T14 des conditions d'utilisation)."
        ) % {"days": days, "count": count, "suspension": suspension_days}
        kind, step_kind, duration = SanctionKind.WARN, MisuseStep.PROVIDER_WARNING, None
    elif illegal.filter(created__gt=warning.created).exists():
        reason = _(
            "Après l'avertissement du %(warned)s, vous avez encore publié un contenu "
            "manifestement illicite : %(count)d en %(days)d jours. Votre compte est suspendu "
            "pour %(suspension)d jours (article T14 des conditions d'utilisation)."
        ) % {
            "warned": date_format(timezone.localtime(warning.created)),
            "count": count,
            "days": days,
            "suspension": suspension_days,
        }
        kind, step_kind = SanctionKind.BAN, MisuseStep.PROVIDER_SUSPENSION
        duration = suspension_days * 24 * 60
    else:
        return None
    sanction = _issue_sanction(
        user,
        actor=actor,
        kind=kind,
        reason=reason,
        duration_minutes=duration,
        clause=MISUSE_CLAUSE,
    )
    step = MisuseMeasure.objects.create(
        kind=step_kind,
        user=user,
        created=now,
        ends_at=sanction.ends_at,
        statement=sanction.statement,
        sanction=sanction,
        figures=figures,
    )
    event = (
        AuditEvent.MISUSE_WARNING_ISSUED
        if step_kind == MisuseStep.PROVIDER_WARNING
        else AuditEvent.ACCOUNT_SUSPENDED_ART23
    )
    _audit_step(step, actor=actor, event=event)
    return step
