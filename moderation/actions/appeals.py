"""Appeals against decisions, decided by another moderator (DSA Art. 20)."""

from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.records import Carrier
from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation.actions.common import APPEAL_TARGET, _absolute, _mail, _require_text
from moderation.actions.held_messages import _publish_rejected
from moderation.actions.misuse import _end_reporting_suspension
from moderation.actions.reports import _reopen
from moderation.actions.room_moderators import _mark_reversed_on_appeal
from moderation.actions.sanctions import _lift
from moderation.models import (
    DETAILS_MAX_LENGTH,
    REASON_MAX_LENGTH,
    Appeal,
    AppealStatus,
    Report,
    ReportStatus,
    Sanction,
    StatementOfReasons,
)
from moderation.queries import decisions_url
from rooms import actions as room_actions
from rooms.models import Message


@transaction.atomic(durable=True)
def do_file_appeal(statement: StatementOfReasons, *, actor, text) -> Appeal:
    statement = StatementOfReasons.objects.select_for_update().get(pk=statement.pk)
    if statement.user_id != actor.pk or statement.withheld:
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
def do_decide_appeal(
    appeal: Appeal, *, actor, reverse_decision: bool, answer, via: Carrier | None = None
) -> Appeal:
    """Another moderator than the decider answers, with reasons. Reversing lifts
    the sanction, puts the removed message back or publishes the refused held
    message (a staff action carried by `via`, the moderator's request); for a
    dismissed report, it puts the report back in the queue."""
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
    if reverse_decision and appeal.statement is not None and appeal.statement.order_reference:
        # The removal carries out an authority's order: it is contested before
        # the courts of the authority's State, not undone by a moderator.
        raise Refused(
            RefusalCode.CONFLICT,
            _(
                "Ce retrait exécute l'injonction %(reference)s d'une autorité : il ne peut pas "
                "être annulé sur recours interne. Maintenez la décision et indiquez à la "
                "personne comment contester l'injonction ; en cas d'erreur sur le contenu "
                "visé, alertez l'équipe de conformité."
            )
            % {"reference": appeal.statement.order_reference},
        )
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
            # The removal is undone: the message comes back, live to the room too.
            room_actions.restore_message(
                room_actions.locked_message(statement.message_id), actor=actor, reason=answer
            )
        purged = Message.objects.filter(pk__in=statement.purged_messages or []).order_by("id")
        for message_id in purged.values_list("id", flat=True):
            # A ban with a purge: the hidden messages come back with the lifting
            # (those the retention rules have deleted since cannot).
            room_actions.restore_message(
                room_actions.locked_message(message_id), actor=actor, reason=answer
            )
        # A suspension of reporting (Art. 23(2)) ends now.
        _end_reporting_suspension(statement)
        # A room moderator's measure: its record says reversed, as in the back office.
        _mark_reversed_on_appeal(statement, actor=actor, reason=answer, appeal_id=appeal.pk)
        if statement.held_message_id is not None:
            # A refused held message: published now, as a release would have.
            _publish_rejected(
                statement.held_message_id,
                actor=actor,
                reason=answer,
                appeal_id=appeal.pk,
                via=via,
            )
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
