"""Transparency figures for a period (DSA Art. 15 and 24), from the moderation and
compliance records.

`build_report` gives the figures; its "template" part follows the Commission's
harmonised template (Implementing Regulation (EU) 2024/2835, Annex I): orders
from authorities (Art. 9 and 10) with their median times, notices (Art. 16) by
the template's categories with the median time to act, own-initiative
moderation by category, restriction and automation, complaints (Art. 20),
out-of-court disputes (Art. 21), Art. 23 suspensions apart from other bans,
and the average monthly active recipients (Art. 24(2)). `render_csv` writes
that part one figure a row, in TEMPLATE_COLUMNS (docs/compliance.md).

A period is whole days in the site's time zone, both ends included.
"""

import csv
import io
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ConnectionRecord
from audit.events import AuditEvent
from audit.models import AuditEntry
from compliance.models import (
    PRODUCTION_KINDS,
    REMOVAL_KINDS,
    LegalBasis,
    LegalRequest,
    LegalRequestStatus,
    OrderKind,
)
from moderation.dsa import REPORT_CATEGORY, DsaCategory, category_for
from moderation.models import (
    CONTENT_MEASURES,
    Appeal,
    AppealStatus,
    Ground,
    Measure,
    MisuseMeasure,
    MisuseStep,
    Notice,
    Report,
    ReportCategory,
    ReportSource,
    ReportStatus,
    Sanction,
    StatementOfReasons,
)
from moderation.queries import authority_notifications
from rooms.actions import AUTHOR_DELETION_REASON
from rooms.models import Message

# The CSV's columns: the template's section and item, the category of the
# statement categories when the item is broken down by category (else empty),
# a further breakdown (restriction type, detection, basis...) and the figure.
TEMPLATE_COLUMNS = (
    "period_start",
    "period_end",
    "section",
    "item",
    "category",
    "breakdown",
    "value",
)
CSV_COLUMNS = TEMPLATE_COLUMNS

# The template's sections, in its order (Annex I of Implementing Regulation 2024/2835).
TEMPLATE_SECTIONS = (
    "orders_art9",
    "orders_art10",
    "notices_art16",
    "own_initiative",
    "complaints_art20",
    "out_of_court_disputes_art21",
    "suspensions_art23",
    "other_account_restrictions",
    "average_monthly_active_recipients",
)
CATEGORIES = tuple(DsaCategory.values)

# Our report sources, named as the template's notice submitters and detection means.
SOURCE_LABELS = {
    ReportSource.USER: "users",
    ReportSource.TRUSTED_FLAGGER: "trusted_flaggers",
    ReportSource.NOTICE: "art16_notices",
    ReportSource.AUTOMATIC: "automated_detection",
    ReportSource.ALERT: "users",
    # A room's moderator is a member handing a matter to staff: a notice from a user.
    ReportSource.ROOM_MODERATOR: "users",
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
    """Messages hidden in the period: by their authors (rooms' author deletion)
    apart from moderators' removals (site or room staff)."""
    deleted = Message.objects.filter(**period.filter("deleted_at"))
    by_authors = deleted.filter(
        deleted_by=F("author"), deletion_reason=AUTHOR_DELETION_REASON
    ).count()
    return {"by_moderators": deleted.count() - by_authors, "by_authors": by_authors}


def _by_category(values) -> dict[str, int]:
    counts = dict.fromkeys(CATEGORIES, 0)
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _restriction(statement) -> str:
    """The template's type of restriction of a statement."""
    if statement.measure in CONTENT_MEASURES:
        return "visibility"
    site_wide = statement.sanction_id is not None and statement.sanction.room_id is None
    if statement.measure == Measure.BAN and site_wide:
        return "account"
    if statement.measure == Measure.WARN:
        return "none"
    return "provision"


def _restrictions(statement) -> set[str]:
    """Every type of restriction a statement's decision imposed: a ban with a
    purge (moderation/actions/purges.py) restricts the content as well."""
    kinds = {_restriction(statement)}
    if statement.purged_messages:
        kinds.add("visibility")
    return kinds


def _purges(period: Period) -> dict[str, int]:
    """Bans with a purge decided in the period, and the messages they hid (one
    statement each, counted once among the measures)."""
    purges = StatementOfReasons.objects.filter(
        purge_hours__isnull=False, **period.filter("created")
    ).values_list("purged_messages", flat=True)
    hidden = [len(ids or []) for ids in purges]
    return {"decisions": len(hidden), "messages_hidden": sum(hidden)}


def _template(period: Period) -> dict:
    """The figures in the structure of the Commission's template."""
    statements = list(
        StatementOfReasons.objects.filter(**period.filter("created")).select_related("sanction")
    )
    # A suspension of reporting restricts no content and no use of the account.
    restricting = [s for s in statements if s.measure not in (Measure.WARN, Measure.REPORTING)]
    # Art. 23(1) suspensions: counted apart from the other bans.
    art23_suspensions = MisuseMeasure.objects.filter(
        kind=MisuseStep.PROVIDER_SUSPENSION, **period.filter("created")
    )
    art23_sanctions = set(art23_suspensions.values_list("sanction_id", flat=True))
    # Removals on an authority's order are counted with the orders (Art. 9), not here.
    from_notices = [
        s for s in restricting if s.source_type != "SOURCE_VOLUNTARY" and not s.order_reference
    ]
    own = [s for s in restricting if s.source_type == "SOURCE_VOLUNTARY"]
    notices = Report.objects.filter(**period.filter("created")).exclude(
        source=ReportSource.AUTOMATIC
    )
    acted = Report.objects.filter(
        status=ReportStatus.ACTIONED, **period.filter("decided_at")
    ).exclude(source=ReportSource.AUTOMATIC)
    orders = LegalRequest.objects.filter(kind__in=PRODUCTION_KINDS, **period.filter("received_at"))
    answered = LegalRequest.objects.filter(
        kind__in=PRODUCTION_KINDS,
        status=LegalRequestStatus.ANSWERED,
        **period.filter("answered_at"),
    )
    removal_orders = LegalRequest.objects.filter(
        kind__in=REMOVAL_KINDS, **period.filter("received_at")
    )
    removals_acknowledged = LegalRequest.objects.filter(
        kind__in=REMOVAL_KINDS, **period.filter("acknowledged_at")
    ).only("received_at", "acknowledged_at")
    removals_effected = LegalRequest.objects.filter(
        kind__in=REMOVAL_KINDS, **period.filter("taken_effect_at")
    ).only("received_at", "taken_effect_at")
    complaints = Appeal.objects.filter(**period.filter("created"))
    complaints_decided = Appeal.objects.filter(
        status__in=(AppealStatus.UPHELD, AppealStatus.REVERSED), **period.filter("decided_at")
    )
    bans = [
        s
        for s in restricting
        if s.measure == Measure.BAN
        and _restriction(s) == "account"
        and s.sanction_id not in art23_sanctions
    ]
    return {
        "orders_art9": {
            # Orders to act against illegal content: DSA Art. 9, terrorist content
            # (Reg. 2021/784), LCEN administrative removals; by the category of the
            # provision the content breaks.
            "received": removal_orders.count(),
            "received_by_category": _by_category(
                category_for(Ground.ILLEGAL, code)
                for code in removal_orders.values_list("legal_provision", flat=True)
            ),
            "received_by_kind": _counts(removal_orders, "kind", REMOVAL_KINDS),
            # Receipt to the authority told of it; receipt to the content removed.
            "median_hours_to_acknowledge": _median_hours(
                [o.acknowledged_at - o.received_at for o in removals_acknowledged]
            ),
            "median_hours_to_give_effect": _median_hours(
                [o.taken_effect_at - o.received_at for o in removals_effected]
            ),
        },
        "orders_art10": {
            # Orders to provide information: requisitions and EU production orders.
            "received": orders.count(),
            "received_by_legal_basis": _counts(orders, "legal_basis", LegalBasis.values),
            "received_by_kind": _counts(orders, "kind", PRODUCTION_KINDS),
            "median_hours_to_give_effect": _median_hours(
                [r.answered_at - r.received_at for r in answered.only("received_at", "answered_at")]
            ),
        },
        "notices_art16": {
            "received_by_category": _by_category(
                REPORT_CATEGORY[c] for c in notices.values_list("category", flat=True)
            ),
            "from_trusted_flaggers_by_category": _by_category(
                REPORT_CATEGORY[c]
                for c in notices.filter(source=ReportSource.TRUSTED_FLAGGER).values_list(
                    "category", flat=True
                )
            ),
            "actions_by_basis": {
                "law": sum(1 for s in from_notices if s.ground == Ground.ILLEGAL),
                "terms": sum(1 for s in from_notices if s.ground != Ground.ILLEGAL),
            },
            "actions_by_category": _by_category(s.category for s in from_notices),
            "processed_by_automated_means": sum(
                1 for s in from_notices if s.automated_decision != "not"
            ),
            "median_hours_to_act": _median_hours(
                [r.decided_at - r.created for r in acted.only("created", "decided_at")]
            ),
        },
        "own_initiative": {
            "measures_by_category": _by_category(s.category for s in own),
            "measures_by_restriction": {
                kind: sum(1 for s in own if kind in _restrictions(s))
                for kind in ("visibility", "provision", "account")
            },
            "measures_by_detection": {
                "automated": sum(1 for s in own if s.automated_detection),
                "not_automated": sum(1 for s in own if not s.automated_detection),
            },
            "measures_by_decision": {
                level: sum(1 for s in own if s.automated_decision == level)
                for level in ("fully", "partially", "not")
            },
            "measures_by_basis": {
                "law": sum(1 for s in own if s.ground == Ground.ILLEGAL),
                "terms": sum(1 for s in own if s.ground != Ground.ILLEGAL),
            },
            # Not measures against anyone: counted apart (rooms' author deletion).
            "message_deletions": _message_deletions(period),
            # Bans with a purge: the messages hidden with them, each decision once above.
            "purges": _purges(period),
        },
        "complaints_art20": {
            "received": complaints.count(),
            "received_by_basis": {
                "against_a_measure": complaints.filter(statement__isnull=False).count(),
                "against_a_dismissed_notice": complaints.filter(report__isnull=False).count(),
            },
            "decisions_upheld": complaints_decided.filter(status=AppealStatus.UPHELD).count(),
            "decisions_reversed": complaints_decided.filter(status=AppealStatus.REVERSED).count(),
            "median_hours_to_decide": _median_hours(
                [a.decided_at - a.created for a in complaints_decided.only("created", "decided_at")]
            ),
        },
        "out_of_court_disputes_art21": {
            # Not recorded yet: no certified body has been seized.
            "submitted": 0,
        },
        "suspensions_art23": {
            # Art. 23(1), for frequently providing manifestly illegal content: the
            # timed bans of the warning-then-suspension procedure (terms clause T14).
            "manifestly_illegal_content": art23_suspensions.count(),
            # Art. 23(2): reporting suspended for manifestly unfounded notices.
            "manifestly_unfounded_notices": AuditEntry.objects.filter(
                event=AuditEvent.REPORTING_SUSPENDED, **period.filter("created")
            ).count(),
            "manifestly_unfounded_complaints": 0,
        },
        "other_account_restrictions": {
            # Site-wide bans decided on a report or on our own initiative, the
            # Art. 23(1) suspensions left out.
            "account_bans_by_category": _by_category(s.category for s in bans),
            "account_bans_temporary": sum(1 for s in bans if s.ends_at is not None),
            "account_bans_permanent": sum(1 for s in bans if s.ends_at is None),
        },
        "average_monthly_active_recipients": {
            "average": _monthly_active_users(period)["average"],
        },
    }


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
    legal_effected = LegalRequest.objects.filter(**period.filter("taken_effect_at")).only(
        "received_at", "taken_effect_at", "deadline"
    )
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
            "automated_decisions": statements.filter(automated_decision="fully").count(),
            "automated_detection": statements.filter(automated_detection=True).count(),
            # Messages hidden in the period: by moderators (site or room staff)
            # apart from those their authors deleted themselves.
            "message_deletions": _message_deletions(period),
            # Bans with a purge and the messages they hid (docs/moderation.md).
            "purges": _purges(period),
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
            # Every kind of order: requisitions, preservation, removal, EU orders.
            "by_kind": _counts(legal_received, "kind", OrderKind.values),
            # Carried out (content removed, data preserved, package produced) in the
            # period: how many, how fast from receipt, how many after their deadline.
            "carried_out": legal_effected.count(),
            "carried_out_late": sum(1 for r in legal_effected if r.taken_effect_at > r.deadline),
            "median_hours_to_effect": _median_hours(
                [r.taken_effect_at - r.received_at for r in legal_effected]
            ),
            "answered": legal_closed.filter(status=LegalRequestStatus.ANSWERED).count(),
            "refused": legal_closed.filter(status=LegalRequestStatus.REFUSED).count(),
            "median_hours_to_response": _median_hours(
                [
                    r.answered_at - r.received_at
                    for r in legal_closed.only("received_at", "answered_at")
                ]
            ),
        },
        # DSA Art. 18: our spontaneous notifications of suspected offences threatening
        # life or safety (PHAROS, 17, 112), apart from the requisitions answered above.
        "authority_notifications_art18": authority_notifications(
            period.start_at, period.end_before
        ),
        "monthly_active_users": _monthly_active_users(period),
        "template": _template(period),
    }


def template_rows(report: dict):
    """(section, item, category, breakdown, value): the template part, one figure a row."""
    template = report["template"]
    for section in TEMPLATE_SECTIONS:
        for item, value in template[section].items():
            if isinstance(value, dict):
                for key, count in value.items():
                    if key in CATEGORIES:
                        yield section, item, key, "", count
                    else:
                        yield section, item, "", key, count
            else:
                yield section, item, "", "", "" if value is None else value


SECTION_LABELS = {
    "orders_art9": _("Injonctions d'agir contre des contenus illicites (article 9)"),
    "orders_art10": _("Injonctions de fournir des informations (article 10)"),
    "notices_art16": _("Notifications (article 16)"),
    "own_initiative": _("Modération à l'initiative de la plateforme"),
    "complaints_art20": _("Réclamations internes (article 20)"),
    "out_of_court_disputes_art21": _("Règlement extrajudiciaire des litiges (article 21)"),
    "suspensions_art23": _("Suspensions au titre de l'article 23"),
    "other_account_restrictions": _("Autres restrictions de comptes (bannissements)"),
    "average_monthly_active_recipients": _("Nombre mensuel moyen de destinataires actifs"),
}


@dataclass(frozen=True)
class TemplateRow:
    item: str
    category: str
    breakdown: str
    value: object


def template_sections(report: dict) -> list[tuple[str, list[TemplateRow]]]:
    """The template part for the HTML page: (section label, rows), in the template's order."""
    if "template" not in report:
        return []
    labels = dict(DsaCategory.choices)
    sections: dict[str, list[TemplateRow]] = {}
    for section, item, category, breakdown, value in template_rows(report):
        sections.setdefault(section, []).append(
            TemplateRow(item, str(labels.get(category, "")), breakdown, value)
        )
    return [(SECTION_LABELS[section], rows) for section, rows in sections.items()]


def render_csv(report: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    start, end = report["period"]["start"], report["period"]["end"]
    for row in template_rows(report):
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
    template = report.get("template")
    return {
        "report": report,
        "template": template,
        "template_category_labels": dict(DsaCategory.choices),
        "notice_category_bars": bars(
            template["notices_art16"]["received_by_category"], dict(DsaCategory.choices)
        )
        if template
        else [],
        "category_bars": bars(report["notices"]["by_category"], dict(ReportCategory.choices)),
        "source_bars": bars(report["notices"]["by_source"]),
        "measure_bars": bars(report["actions"]["by_measure"], dict(Measure.choices)),
        "basis_bars": bars(report["legal_requests"]["by_legal_basis"], dict(LegalBasis.choices)),
        "mau_bars": bars(report["monthly_active_users"]["per_month"]),
    }
