"""Transparency figures for a period (DSA Art. 15 and 24), from the moderation and
compliance records; the CSV follows the sections of the EU harmonised template
(Implementing Regulation (EU) 2024/2835, Annex I) as far as they apply to us.

A period is whole days in the site's time zone, both ends included.
"""

import csv
import io
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F
from django.utils import timezone

from accounts.models import ConnectionRecord
from audit.events import AuditEvent
from audit.models import AuditEntry
from compliance.models import LegalBasis, LegalRequest, LegalRequestStatus
from moderation.models import (
    Appeal,
    AppealStatus,
    Measure,
    Notice,
    Report,
    ReportCategory,
    ReportSource,
    ReportStatus,
    Sanction,
    StatementOfReasons,
)
from rooms.models import Message

CSV_COLUMNS = (
    "period_start",
    "period_end",
    "section",
    "metric",
    "breakdown",
    "breakdown_value",
    "value",
)

# Our report sources, named as the template's notice submitters and detection means.
SOURCE_LABELS = {
    ReportSource.USER: "users",
    ReportSource.TRUSTED_FLAGGER: "trusted_flaggers",
    ReportSource.NOTICE: "art16_notices",
    ReportSource.AUTOMATIC: "automated_detection",
    ReportSource.ALERT: "users",
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_before(self) -> datetime:
        """The first instant after the period (end day included)."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def filter(self, field: str) -> dict:
        return {f"{field}__gte": self.start_at, f"{field}__lt": self.end_before}

    def months(self) -> list[tuple[date, date]]:
        """Calendar months overlapping the period, clipped to it."""
        months = []
        cursor = self.start.replace(day=1)
        while cursor <= self.end:
            following = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
            months.append((max(cursor, self.start), min(following - timedelta(days=1), self.end)))
            cursor = following
        return months


def _median_hours(durations: list[timedelta]) -> float | None:
    if not durations:
        return None
    return round(statistics.median(d.total_seconds() for d in durations) / 3600, 2)


def _counts(queryset, field: str, choices) -> dict[str, int]:
    found = dict(queryset.values_list(field).annotate(n=Count("pk")).values_list(field, "n"))
    return {value: found.get(value, 0) for value in choices}


def _monthly_active_users(period: Period) -> dict:
    """Distinct accounts that connected or posted, per calendar month; and their mean."""
    per_month = {}
    for first, last in period.months():
        month = Period(first, last)
        users = set(
            ConnectionRecord.objects.filter(**month.filter("created")).values_list(
                "user_id", flat=True
            )
        )
        users |= set(
            Message.objects.filter(**month.filter("created")).values_list("author_id", flat=True)
        )
        per_month[first.strftime("%Y-%m")] = len(users)
    mean = round(sum(per_month.values()) / len(per_month)) if per_month else 0
    return {"per_month": per_month, "average": mean}


def _message_deletions(period: Period) -> dict[str, int]:
    deleted = Message.objects.filter(**period.filter("deleted_at"))
    by_authors = deleted.filter(deleted_by=F("author")).count()
    return {"by_moderators": deleted.count() - by_authors, "by_authors": by_authors}


def build_report(period: Period) -> dict:
    reports = Report.objects.filter(**period.filter("created"))
    decided = Report.objects.filter(
        status__in=(ReportStatus.ACTIONED, ReportStatus.DISMISSED), **period.filter("decided_at")
    )
    statements = StatementOfReasons.objects.filter(**period.filter("created"))
    sanctions = Sanction.objects.filter(**period.filter("created"))
    appeals_filed = Appeal.objects.filter(**period.filter("created"))
    appeals_decided = Appeal.objects.filter(
        status__in=(AppealStatus.UPHELD, AppealStatus.REVERSED), **period.filter("decided_at")
    )
    legal_received = LegalRequest.objects.filter(**period.filter("received_at"))
    legal_closed = LegalRequest.objects.filter(
        status__in=(LegalRequestStatus.ANSWERED, LegalRequestStatus.REFUSED),
        **period.filter("answered_at"),
    )
    by_source: dict[str, int] = {}
    for source, count in _counts(reports, "source", ReportSource.values).items():
        by_source[SOURCE_LABELS[source]] = by_source.get(SOURCE_LABELS[source], 0) + count
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "notices": {
            "total": reports.count(),
            "public_notices": Notice.objects.filter(**period.filter("created")).count(),
            "by_category": _counts(reports, "category", ReportCategory.values),
            "by_source": by_source,
            "decided": decided.count(),
            "actioned": decided.filter(status=ReportStatus.ACTIONED).count(),
            "dismissed": decided.filter(status=ReportStatus.DISMISSED).count(),
            "manifestly_unfounded": decided.filter(manifestly_unfounded=True).count(),
            "median_hours_to_decision": _median_hours(
                [r.decided_at - r.created for r in decided.only("created", "decided_at")]
            ),
        },
        "actions": {
            "total": statements.count(),
            "by_measure": _counts(statements, "measure", Measure.values),
            "automated_decisions": statements.filter(automated_decision=True).count(),
            "automated_detection": statements.filter(automated_detection=True).count(),
            # Messages hidden in the period: by moderators (site or room staff)
            # apart from those their authors deleted themselves.
            "message_deletions": _message_deletions(period),
            # Taken by a moderator with no report behind them.
            "own_initiative_sanctions": sanctions.filter(
                report__isnull=True, automated=False
            ).count(),
        },
        "appeals": {
            "filed": appeals_filed.count(),
            "decided": appeals_decided.count(),
            "upheld": appeals_decided.filter(status=AppealStatus.UPHELD).count(),
            "reversed": appeals_decided.filter(status=AppealStatus.REVERSED).count(),
            "median_hours_to_decision": _median_hours(
                [a.decided_at - a.created for a in appeals_decided.only("created", "decided_at")]
            ),
        },
        "suspensions": {
            # Art. 23: accounts banned, and reporters suspended for manifestly unfounded notices.
            "bans": sanctions.filter(kind="ban").count(),
            "reporting_suspensions": AuditEntry.objects.filter(
                event=AuditEvent.REPORTING_SUSPENDED, **period.filter("created")
            ).count(),
        },
        "legal_requests": {
            "received": legal_received.count(),
            "by_legal_basis": _counts(legal_received, "legal_basis", LegalBasis.values),
            "answered": legal_closed.filter(status=LegalRequestStatus.ANSWERED).count(),
            "refused": legal_closed.filter(status=LegalRequestStatus.REFUSED).count(),
            "median_hours_to_response": _median_hours(
                [
                    r.answered_at - r.received_at
                    for r in legal_closed.only("received_at", "answered_at")
                ]
            ),
        },
        "monthly_active_users": _monthly_active_users(period),
    }


def _csv_rows(report: dict):
    """Long form, one figure a row, grouped by the template's sections."""
    sections = {
        "notices": "notices_art16",
        "actions": "own_initiative_and_decisions",
        "appeals": "complaints_art20",
        "suspensions": "suspensions_art23",
        "legal_requests": "orders_from_authorities_art9_10",
        "monthly_active_users": "average_monthly_active_recipients",
    }
    for key, section in sections.items():
        for metric, value in report[key].items():
            if isinstance(value, dict):
                breakdown = metric.removeprefix("by_")
                for name, count in value.items():
                    yield section, metric, breakdown, name, count
            else:
                yield section, metric, "", "", "" if value is None else value


def render_csv(report: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    start, end = report["period"]["start"], report["period"]["end"]
    for row in _csv_rows(report):
        writer.writerow([start, end, *row])
    return buffer.getvalue()


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: float  # percent of the largest bar


def bars(values: dict, labels: dict | None = None) -> list[Bar]:
    """Chart rows for the HTML report and the admin dashboard."""
    largest = max(values.values(), default=0) or 1
    return [
        Bar(str((labels or {}).get(key, key)), value, round(100 * value / largest, 1))
        for key, value in values.items()
    ]


def chart_context(report: dict) -> dict:
    return {
        "report": report,
        "category_bars": bars(report["notices"]["by_category"], dict(ReportCategory.choices)),
        "source_bars": bars(report["notices"]["by_source"]),
        "measure_bars": bars(report["actions"]["by_measure"], dict(Measure.choices)),
        "basis_bars": bars(report["legal_requests"]["by_legal_basis"], dict(LegalBasis.choices)),
        "mau_bars": bars(report["monthly_active_users"]["per_month"]),
    }
