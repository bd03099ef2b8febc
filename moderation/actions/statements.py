"""Statements of reasons: what a member reads about a decision on them (DSA Art. 17).

Each carries, besides what the member reads, what the DSA Transparency Database
asks (moderation/dsa.py): the category, what the decision followed, how far it
was automated, the legal provision of an illegal-content decision, the
territorial scope and the date of the content.
"""

from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from moderation import legal_provisions, rules
from moderation.actions.common import _absolute, _mail
from moderation.app_settings import app_settings
from moderation.dsa import AutomatedDecision, SourceType, category_for
from moderation.models import (
    APPEAL_WINDOW,
    Ground,
    Report,
    ReportCategory,
    ReportSource,
    Sanction,
    StatementOfReasons,
)
from rooms.models import Message, Room

# Members' reports in these categories are not about illegal content: they are
# "other notifications", not notices under DSA Art. 16.
TERMS_ONLY_CATEGORIES = (ReportCategory.SPAM, ReportCategory.OTHER)


def source_type_for(report: Report | None) -> str:
    """What the decision followed: a notice (Art. 16), a trusted flagger's
    notice (Art. 22), another report, or nothing but our own initiative (an
    automatic filter's flag included)."""
    if report is None or report.source == ReportSource.AUTOMATIC:
        return SourceType.VOLUNTARY
    if report.is_trusted_flagger or report.source == ReportSource.TRUSTED_FLAGGER:
        return SourceType.TRUSTED_FLAGGER
    if report.source == ReportSource.NOTICE or report.category not in TERMS_ONLY_CATEGORIES:
        return SourceType.ARTICLE_16
    return SourceType.OTHER_NOTIFICATION


def detected_automatically(report: Report | None) -> bool:
    """A filter's flag or a safety signal brought the matter to a moderator."""
    return report is not None and (
        report.source == ReportSource.AUTOMATIC or report.safety_signal_id is not None
    )


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
    legal_provision: str = "",
    report: Report | None = None,
    automated_detection: bool | None = None,
    automation: str | None = None,
    content_date=None,
    notify: bool = True,
    held_message=None,
    order_reference: str = "",
    withheld: bool = False,
) -> StatementOfReasons:
    """`automated`: a filter decided alone (detected and decided automatically).
    Otherwise a moderator decided; `automated_detection` and `automation` say
    whether a filter found the content or took a first measure (a hold).

    `order_reference`: the decision gives effect to an authority's order
    (compliance's orders); `withheld`: that order asks that the addressee not be
    told yet, so nothing is mailed until `disclose_statements`."""
    now = timezone.now()
    if automated_detection is None:
        automated_detection = automated or detected_automatically(report)
    if automation is None:
        automation = AutomatedDecision.FULLY if automated else AutomatedDecision.NOT_AUTOMATED
    if content_date is None and message is not None:
        content_date = message.created
    statement = StatementOfReasons.objects.create(
        user=user,
        measure=measure,
        sanction=sanction,
        message=message,
        scope=_scope(room),
        starts_at=starts_at or now,
        ends_at=ends_at,
        facts=facts,
        automated_detection=automated_detection,
        automated_decision=automation,
        ground=ground,
        clause=clause,
        legal_provision=legal_provision,
        category=category_for(ground, legal_provision),
        # The Transparency Database has no source type of its own for an
        # authority's order: it is "another notification" there, and the
        # statement keeps the order's reference.
        source_type=SourceType.OTHER_NOTIFICATION if order_reference else source_type_for(report),
        order_reference=order_reference,
        withheld=withheld,
        report=report,
        held_message=held_message,
        territorial_scope=list(app_settings.MODERATION_TERRITORIAL_SCOPE),
        content_date=content_date,
        explanation=_explanation(ground, clause, legal_provision),
        redress="",
        decided_by=decided_by if not automated else None,
        created=now,
        appeal_until=now + APPEAL_WINDOW,
    )
    statement.redress = _redress(statement)
    statement.save(update_fields=["redress"])
    if not notify or withheld:
        return statement
    _notify(statement)
    return statement


def _redress(statement: StatementOfReasons) -> str:
    text = _internal_redress(statement)
    if not statement.order_reference:
        return text
    # DSA Art. 9(5), Reg. 2021/784 art. 9: the order itself is contested before
    # the courts of the State of the authority that issued it.
    return (
        _(
            "Cette mesure exécute une injonction d'une autorité (référence %(reference)s) : "
            "vous pouvez contester cette injonction devant les juridictions de l'État de "
            "l'autorité qui l'a émise."
        )
        % {"reference": statement.order_reference}
        + " "
        + text
    )


def _internal_redress(statement: StatementOfReasons) -> str:
    return _(
        "Vous pouvez contester cette décision jusqu'au %(date)s depuis la page « Mes "
        "décisions » (%(url)s) : un autre modérateur que celui qui l'a prise examinera "
        "votre recours et vous répondra de façon motivée. Vous pouvez aussi saisir un "
        "organisme de règlement extrajudiciaire des litiges certifié (article 21 du "
        "règlement sur les services numériques) ou le juge."
    ) % {
        "date": date_format(timezone.localtime(statement.appeal_until)),
        "url": _absolute(statement.get_absolute_url()),
    }


def _notify(statement: StatementOfReasons) -> None:
    """Mails the addressee once the transaction commits."""
    transaction.on_commit(
        partial(
            _mail,
            statement.user.email,
            _("Chatsite : une décision de modération vous concerne"),
            "moderation/email/statement.txt",
            {"statement": statement, "url": _absolute(statement.get_absolute_url())},
        )
    )


@transaction.atomic
def disclose_statements(statement_ids, *, now=None) -> list[StatementOfReasons]:
    """The secrecy an authority asked for has ended: each withheld statement is
    shown and mailed to its addressee now. The appeal window (Art. 20) runs from
    this day, since the member could not contest what they were not told.
    Part of compliance's lifting of an order's secrecy, which audits it."""
    now = now or timezone.now()
    disclosed = []
    for statement in (
        StatementOfReasons.objects.select_for_update(of=("self",))
        .filter(pk__in=list(statement_ids), withheld=True)
        .select_related("user")
    ):
        statement.withheld = False
        statement.disclosed_at = now
        statement.appeal_until = now + APPEAL_WINDOW
        statement.redress = _redress(statement)
        statement.save(update_fields=["withheld", "disclosed_at", "appeal_until", "redress"])
        _notify(statement)
        disclosed.append(statement)
    return disclosed


def _explanation(ground: str, clause: str, legal_provision: str = "") -> str:
    """The ground in words, naming the legal provision (DSA Art. 17(3)(d)) or the
    rule (Art. 17(3)(e)) the decision cites."""
    provision = legal_provisions.provision(legal_provision) if legal_provision else None
    cited = rules.clause(clause) if clause else None
    if provision is not None:
        text = _(
            "Cette décision se fonde sur la loi : le contenu a été jugé illégal au regard de "
            "%(reference)s (%(title)s), texte consultable sur Légifrance : %(url)s."
        ) % {"reference": provision.reference, "title": provision.title, "url": provision.url}
        if cited is None:
            return text
        return (
            text
            + " "
            + _("Il enfreint aussi la règle %(code)s des règles de la communauté (« %(title)s »).")
            % {"code": cited.code, "title": cited.title}
        )
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
