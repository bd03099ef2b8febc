"""Statements of reasons: what a member reads about a decision on them (DSA Art. 17)."""

from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from moderation import rules
from moderation.actions.common import _absolute, _mail
from moderation.models import (
    APPEAL_WINDOW,
    Ground,
    Sanction,
    StatementOfReasons,
)
from rooms.models import Message, Room


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
