"""Reporters' reputation: how often a member's reports were upheld.

Precision = (upheld + prior upheld) / (decided + prior decided), over the
member's reports that a moderator decided (actioned: upheld; dismissed: not).
The prior (MODERATION_REPUTATION_PRIOR_*) makes a new reporter neutral, 0.5 by
default, and keeps one lucky or unlucky report from moving anyone far. The
queue sums the precision of a report group's reporters (`Report.reporter_weight`)
to order reports within a severity; two good reporters on the same message can
hide it pending review (moderation/actions/pending_hides.py).
"""

from dataclasses import dataclass

from django.db.models import Count, Q

from moderation.app_settings import app_settings
from moderation.models import Report, ReportStatus

DECIDED_STATUSES = (ReportStatus.ACTIONED, ReportStatus.DISMISSED)


@dataclass(frozen=True)
class Reputation:
    upheld: int
    decided: int

    @property
    def precision(self) -> float:
        prior_upheld = app_settings.MODERATION_REPUTATION_PRIOR_UPHELD
        prior_decided = app_settings.MODERATION_REPUTATION_PRIOR_DECIDED
        return (self.upheld + prior_upheld) / (self.decided + prior_decided)

    @property
    def is_good(self) -> bool:
        """Reliable enough for their reports to hide a message pending review."""
        return (
            self.decided >= app_settings.MODERATION_AUTOHIDE_MIN_DECIDED
            and self.precision >= app_settings.MODERATION_AUTOHIDE_MIN_PRECISION
        )


NEUTRAL = Reputation(0, 0)


def reputations(user_ids) -> dict[int, Reputation]:
    """Each reporter's record, in one query; those with none decided are neutral."""
    user_ids = {pk for pk in user_ids if pk is not None}
    rows = (
        Report.objects.filter(reporter_id__in=user_ids, status__in=DECIDED_STATUSES)
        .values("reporter_id")
        .annotate(decided=Count("pk"), upheld=Count("pk", filter=Q(status=ReportStatus.ACTIONED)))
    )
    found = {row["reporter_id"]: Reputation(row["upheld"], row["decided"]) for row in rows}
    return {pk: found.get(pk, NEUTRAL) for pk in user_ids}


def reputation_of(user) -> Reputation:
    return reputations([user.pk])[user.pk]


def group_reporters(primary: Report) -> list[int]:
    """The distinct accounts that filed a report of the group (a notice without
    an account, a filter or a signal has none)."""
    ids = Report.objects.filter(Q(pk=primary.pk) | Q(duplicate_of=primary)).values_list(
        "reporter_id", flat=True
    )
    return sorted({pk for pk in ids if pk is not None})


def group_weight(primary: Report) -> float:
    """The sum of the group's reporters' precision; a report with no account
    behind it counts as one neutral reporter."""
    reporters = group_reporters(primary)
    if not reporters:
        return NEUTRAL.precision
    return sum(r.precision for r in reputations(reporters).values())
