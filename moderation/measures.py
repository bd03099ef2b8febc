"""The moderation team's measures (docs/moderation.md, "Les mesures de la
modération"): how fast reports are claimed and decided, by severity; each
moderator's workload; how often appeals reverse a decision; the inflow of
reports against the team's presence. Read by the dashboard page
(admin_metrics.py) and by /metrics (chatsite/metrics_collectors.py).

Percentiles are nearest-rank over the window's reports, computed here rather
than in SQL so that the embedded SQLite mode gives the same figures as
PostgreSQL. The window's rows are few (a team decides hundreds a day, not
millions), and only two timestamps per row are read.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from moderation.console import staff_online
from moderation.models import (
    OPEN_STATUSES,
    Appeal,
    AppealStatus,
    Report,
    ReportStatus,
    Severity,
)

# The measures look back this far by default (the dashboard and /metrics).
WINDOW = timedelta(days=30)
QUANTILES = (0.5, 0.9, 0.99)
# The inflow-against-coverage chart: this many hours, one bar each.
COVERAGE_HOURS = 24


def percentile(sorted_values: list[float], quantile: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(quantile * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Durations:
    """Seconds from filing to a step, for one severity."""

    count: int
    quantiles: dict[float, float | None]


def _durations(rows, start_field: str, end_field: str) -> dict[int, Durations]:
    by_severity: dict[int, list[float]] = {severity.value: [] for severity in Severity}
    for row in rows:
        by_severity[row["severity"]].append((row[end_field] - row[start_field]).total_seconds())
    result = {}
    for severity, values in by_severity.items():
        values.sort()
        result[severity] = Durations(
            count=len(values), quantiles={q: percentile(values, q) for q in QUANTILES}
        )
    return result


def _primaries():
    # A group is worked once, through its primary: duplicates would count it twice.
    return Report.objects.filter(duplicate_of__isnull=True).order_by()


def time_to_claim(since: datetime, until: datetime) -> dict[int, Durations]:
    """From filing to the (last) claim, for the primaries claimed in the window."""
    rows = (
        _primaries()
        .filter(claimed_at__gte=since, claimed_at__lt=until)
        .values("severity", "created", "claimed_at")
    )
    return _durations(rows, "created", "claimed_at")


def time_to_decision(since: datetime, until: datetime) -> dict[int, Durations]:
    """From filing to the decision (a measure or a dismissal), for the primaries
    decided in the window."""
    rows = (
        _primaries()
        .filter(decided_at__gte=since, decided_at__lt=until)
        .exclude(status__in=OPEN_STATUSES)
        .values("severity", "created", "decided_at")
    )
    return _durations(rows, "created", "decided_at")


@dataclass
class Workload:
    username: str
    holding: int = 0  # open reports they hold now
    decided: int = 0  # groups they decided in the window


def workload(since: datetime, until: datetime) -> list[Workload]:
    """Per moderator: what they hold now and what they decided in the window."""
    loads: dict[str, Workload] = {}
    holding = (
        _primaries()
        .filter(status=ReportStatus.CLAIMED, claimed_by__isnull=False)
        .values_list("claimed_by__username")
        .annotate(count=Count("id"))
    )
    for username, count in holding:
        loads.setdefault(username, Workload(username)).holding = count
    decided = (
        _primaries()
        .filter(decided_at__gte=since, decided_at__lt=until, decided_by__isnull=False)
        .values_list("decided_by__username")
        .annotate(count=Count("id"))
    )
    for username, count in decided:
        loads.setdefault(username, Workload(username)).decided = count
    return sorted(loads.values(), key=lambda load: (-load.holding - load.decided, load.username))


@dataclass
class Appeals:
    decided: int
    reversed: int

    @property
    def reversal_rate(self) -> float | None:
        return self.reversed / self.decided if self.decided else None


def appeal_reversals(since: datetime, until: datetime) -> Appeals:
    """Appeals decided in the window, and how many reversed the decision."""
    counts = Appeal.objects.filter(decided_at__gte=since, decided_at__lt=until).aggregate(
        decided=Count("id", filter=~Q(status=AppealStatus.OPEN)),
        reversed=Count("id", filter=Q(status=AppealStatus.REVERSED)),
    )
    return Appeals(decided=counts["decided"], reversed=counts["reversed"])


@dataclass
class CoverageHour:
    start: datetime
    reports: int = 0  # reports filed (every reporter counts: that is the inflow)
    moderators: int = 0  # distinct staff who claimed or decided a report that hour


@dataclass
class Coverage:
    hours: list[CoverageHour] = field(default_factory=list)
    reports_last_hour: int = 0
    staff_online: int = 0  # consoles open now (distinct accounts)


def coverage(until: datetime, hours: int = COVERAGE_HOURS) -> Coverage:
    """Reports in against the team at work, hour by hour; and right now, the
    last hour's inflow against the consoles open."""
    end = until.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    slots = {
        start + timedelta(hours=i): CoverageHour(start + timedelta(hours=i)) for i in range(hours)
    }

    def hour_of(value: datetime) -> datetime:
        return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    inflow = (
        Report.objects.filter(created__gte=start, created__lt=end)
        .annotate(hour=TruncHour("created", tzinfo=UTC))
        .order_by()
        .values("hour")
        .annotate(count=Count("id"))
    )
    for row in inflow:
        slot = slots.get(hour_of(row["hour"]))
        if slot is not None:
            slot.reports = row["count"]
    present: dict[datetime, set[int]] = {}
    for field_user, field_time in (("claimed_by", "claimed_at"), ("decided_by", "decided_at")):
        rows = (
            Report.objects.filter(
                **{f"{field_time}__gte": start, f"{field_time}__lt": end},
                **{f"{field_user}__isnull": False},
            )
            .order_by()
            .values_list(field_user, field_time)
        )
        for user_id, when in rows:
            present.setdefault(hour_of(when), set()).add(user_id)
    for hour, users in present.items():
        if hour in slots:
            slots[hour].moderators = len(users)
    return Coverage(
        hours=list(slots.values()),
        reports_last_hour=Report.objects.filter(created__gte=until - timedelta(hours=1)).count(),
        staff_online=staff_online(),
    )


@dataclass
class Measures:
    since: datetime
    until: datetime
    to_claim: dict[int, Durations]
    to_decision: dict[int, Durations]
    workload: list[Workload]
    appeals: Appeals
    coverage: Coverage


def measures(until: datetime | None = None, window: timedelta = WINDOW) -> Measures:
    until = until or timezone.now()
    since = until - window
    return Measures(
        since=since,
        until=until,
        to_claim=time_to_claim(since, until),
        to_decision=time_to_decision(since, until),
        workload=workload(since, until),
        appeals=appeal_reversals(since, until),
        coverage=coverage(until),
    )
