"""What the moderation actions share: audit target names, text checks, the
cited rule, the member's record, and e-mails sent after commit."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.refusals import RefusalCode, Refused
from moderation import legal_provisions, rules
from moderation.models import (
    Ground,
    ModerationRecord,
    Report,
)

logger = logging.getLogger(__name__)


REPORT_TARGET = "moderation.report"


SANCTION_TARGET = "moderation.sanction"


MESSAGE_TARGET = "rooms.message"


APPEAL_TARGET = "moderation.appeal"


NOTICE_TARGET = "moderation.notice"


HELD_TARGET = "moderation.heldmessage"


ESCALATION_TARGET = "moderation.threatescalation"


SIGNAL_TARGET = "moderation.safetysignal"


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


def _decision_basis(
    ground, clause, provision, *, default_ground: str, automated: bool = False
) -> tuple[str, str, str]:
    """The ground, the rule and the legal provision a decision rests on.

    Naming a provision (moderation/legal_provisions.py) makes the ground
    "illegal content"; a moderator who chooses that ground must name one
    (DSA Art. 17(3)(d): the legal ground relied on). An automatic filter that
    rests on the law without naming a provision is reported as contrary to
    rule R11, the rule against illegal content.
    """
    provision = provision or ""
    if provision:
        if not isinstance(provision, str) or legal_provisions.provision(provision) is None:
            raise Refused(
                RefusalCode.INVALID,
                _("Disposition légale inconnue : %(code)s.") % {"code": str(provision)[:30]},
            )
        if ground not in (None, "", Ground.ILLEGAL):
            raise Refused(
                RefusalCode.INVALID,
                _("Une disposition légale ne se cite qu'avec le fondement « contenu illégal »."),
            )
        ground = Ground.ILLEGAL
    ground, clause = _ground_and_clause(ground, clause, default_ground=default_ground)
    if ground == Ground.ILLEGAL and not provision and not automated:
        raise Refused(
            RefusalCode.INVALID,
            _(
                "Un contenu illégal se juge au regard d'un texte : choisissez la disposition "
                "légale (legal_provision), ou fondez la décision sur une règle de la communauté."
            ),
        )
    return ground, clause, provision


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


def _locked_report(report: Report) -> Report:
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.duplicate_of_id is not None:
        # Decisions are taken on the group, through its primary.
        report = Report.objects.select_for_update().get(pk=report.duplicate_of_id)
    return report
