"""What a scrape shows: the counters of core/metrics.py (from every daphne
process of the host in multiprocess mode) and figures read from the database
at scrape time: the report backlog, sanctions, legal deadlines, the audit head.

Served two ways (docs/operations.md): `GET /metrics` for OTP-verified staff,
and the host's exporter (chatsite/metrics_exporter.py) on an internal address
for Prometheus, which cannot pass a second factor.
"""

import glob
import logging
import os
import re
from datetime import timedelta

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from core import metrics

logger = logging.getLogger(__name__)

# gauge_livesum_<pid>.db and the like: the files of one process's live gauges.
_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def forget_dead_processes(path: str) -> list[int]:
    """Drops the live gauges (open sockets) of daphne processes that are gone.

    A process killed or restarted cannot clean up after itself; its counters
    stay (they are history), its open-socket count must not.
    """
    dead = set()
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        match = _LIVE_GAUGE_FILE.search(name)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            dead.add(pid)
        except PermissionError:
            pass  # alive, under another user
    for pid in dead:
        multiprocess.mark_process_dead(pid, path)
    return sorted(dead)


def _initialise_labels() -> None:
    """Known label values appear at 0 from the start, so that rate() and alerts see them."""
    from moderation.models import FilterAction
    from rooms.models import RoomKind
    from rooms.protocol import ERROR_FRAME_CODES

    for kind in RoomKind.values:
        metrics.MESSAGES_STORED.labels(room_kind=kind)
    for code in ERROR_FRAME_CODES:
        metrics.MESSAGE_REFUSALS.labels(code=str(code))
    for consumer in ("room", "conversations", "staff"):
        metrics.OPEN_SOCKETS.labels(consumer=consumer)
    metrics.CHANNEL_LAYER_ERRORS.labels(operation="group_send")
    for action in FilterAction.values:
        metrics.FILTER_HITS.labels(action=action)


_initialise_labels()


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def _moderation_families(now):
    from moderation.models import (
        OPEN_STATUSES,
        Appeal,
        AppealStatus,
        HeldMessage,
        HeldStatus,
        Report,
        Sanction,
        SanctionKind,
        Severity,
        ThreatEscalation,
    )

    labels = ["severity"]
    open_reports = GaugeMetricFamily(
        "chatsite_reports_open",
        "Open reports (primaries, not duplicates), by severity.",
        labels=labels,
    )
    overdue = GaugeMetricFamily(
        "chatsite_reports_overdue", "Open reports past their deadline, by severity.", labels=labels
    )
    oldest = GaugeMetricFamily(
        "chatsite_reports_oldest_open_age_seconds",
        "Age of the oldest open report, by severity (0 when none is open).",
        labels=labels,
    )
    rows = {
        row["severity"]: row
        for row in Report.objects.filter(status__in=OPEN_STATUSES, duplicate_of__isnull=True)
        .order_by()
        .values("severity")
        .annotate(
            count=Count("id"), late=Count("id", filter=Q(deadline__lt=now)), first=Min("created")
        )
    }
    for severity in Severity:
        row = rows.get(severity.value)
        name = [severity.name.lower()]
        open_reports.add_metric(name, row["count"] if row else 0)
        overdue.add_metric(name, row["late"] if row else 0)
        oldest.add_metric(name, _seconds(now - row["first"]) if row else 0)
    yield from (open_reports, overdue, oldest)

    held = HeldMessage.objects.filter(status=HeldStatus.PENDING).aggregate(
        count=Count("id"), first=Min("created")
    )
    yield GaugeMetricFamily(
        "chatsite_held_messages_pending",
        "Messages a filter holds for a moderator's review.",
        value=held["count"],
    )
    yield GaugeMetricFamily(
        "chatsite_held_messages_oldest_age_seconds",
        "Age of the oldest held message (0 when none).",
        value=_seconds(now - held["first"]) if held["first"] else 0,
    )
    yield GaugeMetricFamily(
        "chatsite_appeals_open",
        "Appeals waiting for a decision.",
        value=Appeal.objects.filter(status=AppealStatus.OPEN).count(),
    )
    yield GaugeMetricFamily(
        "chatsite_threat_escalations_pending",
        "Threats to life prepared for the authorities but not yet transmitted (DSA Art. 18).",
        value=ThreatEscalation.objects.filter(transmitted_at__isnull=True).count(),
    )

    active = GaugeMetricFamily(
        "chatsite_sanctions_active", "Sanctions in force now, by kind.", labels=["kind"]
    )
    issued = CounterMetricFamily(
        "chatsite_sanctions",
        "Sanctions ever issued, by kind (rows in the database).",
        labels=["kind"],
    )
    active_counts = dict(
        Sanction.objects.active(now).order_by().values_list("kind").annotate(Count("id"))
    )
    issued_counts = dict(Sanction.objects.order_by().values_list("kind").annotate(Count("id")))
    for kind in SanctionKind.values:
        active.add_metric([kind], active_counts.get(kind, 0))
        issued.add_metric([kind], issued_counts.get(kind, 0))
    yield from (active, issued)


def _moderation_team_families(now):
    """The team's measures over moderation.measures.WINDOW (docs/operations.md)."""
    from moderation import measures
    from moderation.models import Severity

    figures = measures.measures(until=now)
    window = f"{measures.WINDOW.days}d"
    for name, help_text, durations in (
        (
            "chatsite_moderation_time_to_claim_seconds",
            "From filing to claim, by severity and quantile, over the window (primaries).",
            figures.to_claim,
        ),
        (
            "chatsite_moderation_time_to_decision_seconds",
            "From filing to decision, by severity and quantile, over the window (primaries).",
            figures.to_decision,
        ),
    ):
        family = GaugeMetricFamily(name, help_text, labels=["severity", "quantile", "window"])
        counted = GaugeMetricFamily(
            name.removesuffix("_seconds") + "_reports",
            "Reports behind the quantiles of " + name + ".",
            labels=["severity", "window"],
        )
        for severity in Severity:
            entry = durations[severity.value]
            label = severity.name.lower()
            counted.add_metric([label, window], entry.count)
            for quantile, value in entry.quantiles.items():
                if value is not None:
                    family.add_metric([label, str(quantile), window], value)
        yield from (family, counted)
    holding = GaugeMetricFamily(
        "chatsite_moderation_reports_held",
        "Open reports each moderator holds now.",
        labels=["moderator"],
    )
    decided = GaugeMetricFamily(
        "chatsite_moderation_reports_decided",
        "Report groups each moderator decided over the window.",
        labels=["moderator", "window"],
    )
    for load in figures.workload:
        holding.add_metric([load.username], load.holding)
        decided.add_metric([load.username, window], load.decided)
    yield from (holding, decided)
    yield _windowed(
        "chatsite_moderation_appeals_decided",
        "Appeals decided over the window.",
        window,
        figures.appeals.decided,
    )
    yield _windowed(
        "chatsite_moderation_appeals_reversed",
        "Appeals that reversed the decision, over the window.",
        window,
        figures.appeals.reversed,
    )
    rate = figures.appeals.reversal_rate
    yield _windowed(
        "chatsite_moderation_appeal_reversal_ratio",
        "Reversed over decided appeals, over the window (0 when none was decided).",
        window,
        rate if rate is not None else 0,
    )
    yield GaugeMetricFamily(
        "chatsite_moderation_reports_last_hour",
        "Reports filed in the last hour (every reporter counts): the inflow.",
        value=figures.coverage.reports_last_hour,
    )
    yield GaugeMetricFamily(
        "chatsite_moderation_staff_online",
        "Staff accounts with a live console open now (/ws/staff/): the coverage.",
        value=figures.coverage.staff_online,
    )


def _windowed(name: str, help_text: str, window: str, value) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=["window"])
    family.add_metric([window], value)
    return family


def _compliance_families(now):
    try:
        from compliance.models import (
            CLOSED_STATUSES,
            DEADLINE_WARNING_DAYS,
            LegalRequest,
        )
    except ImportError:
        # A deployment without the compliance app's models: nothing to report.
        return
    # A removal or preservation order carried out ("effected") no longer runs
    # against its deadline, even before the authority is told.
    open_requests = LegalRequest.objects.exclude(status__in=(*CLOSED_STATUSES, "effected"))
    counts = open_requests.aggregate(
        total=Count("id"),
        near=Count("id", filter=Q(deadline__lte=now + timedelta(days=DEADLINE_WARNING_DAYS))),
        late=Count("id", filter=Q(deadline__lt=now)),
        next_deadline=Min("deadline"),
    )
    yield GaugeMetricFamily(
        "chatsite_legal_requests_open",
        "Requisitions and orders not yet answered, refused or carried out.",
        value=counts["total"],
    )
    yield GaugeMetricFamily(
        "chatsite_legal_requests_deadline_near",
        f"Open requisitions due within {DEADLINE_WARNING_DAYS} days or already late.",
        value=counts["near"],
    )
    yield GaugeMetricFamily(
        "chatsite_legal_requests_overdue",
        "Open requisitions past their deadline.",
        value=counts["late"],
    )
    if counts["next_deadline"] is not None:
        yield GaugeMetricFamily(
            "chatsite_legal_request_next_deadline_seconds",
            "Seconds until the nearest open requisition's deadline (negative: late).",
            value=_seconds(counts["next_deadline"] - now),
        )
    yield from _order_families(now)


def _order_families(now):
    """Orders still to carry out, by kind and urgency: "short" is a deadline in
    hours (terrorist content, LCEN removal, emergency EU production), which
    pages the on-call officer as soon as one is open (deploy/prometheus)."""
    from compliance import orders
    from compliance.models import CLOSED_STATUSES, LegalRequest, OrderKind

    labels = ["kind", "urgency"]
    pending = GaugeMetricFamily(
        "chatsite_authority_orders_open",
        "Authority orders received and not yet carried out, by kind and urgency.",
        labels=labels,
    )
    overdue = GaugeMetricFamily(
        "chatsite_authority_orders_overdue",
        "Authority orders not carried out by their deadline, by kind and urgency.",
        labels=labels,
    )
    next_deadline = GaugeMetricFamily(
        "chatsite_authority_order_next_deadline_seconds",
        "Seconds until the nearest deadline of an order not yet carried out, by urgency "
        "(negative: late; absent when none).",
        labels=["urgency"],
    )
    counts, late, nearest = {}, {}, {}
    rows = (
        LegalRequest.objects.exclude(status__in=CLOSED_STATUSES)
        .filter(taken_effect_at__isnull=True)
        .values_list("kind", "emergency", "deadline")
    )
    for kind, emergency, deadline in rows:
        key = (kind, "short" if orders.is_short(kind, emergency=emergency) else "long")
        counts[key] = counts.get(key, 0) + 1
        late[key] = late.get(key, 0) + (deadline < now)
        nearest[key[1]] = min(nearest.get(key[1], deadline), deadline)
    for kind in OrderKind.values:
        urgencies = {"short" if orders.is_short(kind) else "long"}
        if orders.rule(kind).emergency_deadline is not None:
            urgencies.add("short")
        for urgency in sorted(urgencies):
            pending.add_metric([kind, urgency], counts.get((kind, urgency), 0))
            overdue.add_metric([kind, urgency], late.get((kind, urgency), 0))
    for urgency, deadline in sorted(nearest.items()):
        next_deadline.add_metric([urgency], _seconds(deadline - now))
    yield from (pending, overdue, next_deadline)


def _audit_families(now):
    from audit import queries
    from audit.events import AuditEvent
    from audit.models import AuditEntry

    head = queries.chain_head()
    yield GaugeMetricFamily(
        "chatsite_audit_chain_head_seq",
        "Sequence number of the audit trail's last entry.",
        value=head.seq if head else 0,
    )
    last = AuditEntry.objects.aggregate(
        checkpoint=Max("created", filter=Q(event=AuditEvent.AUDIT_CHECKPOINT_SIGNED)),
        purge=Max(
            "created",
            filter=Q(event=getattr(AuditEvent, "RETENTION_PURGE_RUN", -1), details__dry_run=False),
        ),
        rotation=Max(
            "created",
            filter=Q(event=getattr(AuditEvent, "BACKUPS_ROTATED", -1), details__dry_run=False),
        ),
    )
    # Scheduled jobs leave their mark in the trail: these say when each last ran.
    if last["checkpoint"] is not None:
        yield GaugeMetricFamily(
            "chatsite_audit_last_checkpoint_timestamp_seconds",
            "When the last signed audit checkpoint was recorded (Unix time).",
            value=last["checkpoint"].timestamp(),
        )
    if last["purge"] is not None:
        yield GaugeMetricFamily(
            "chatsite_retention_last_purge_timestamp_seconds",
            "When purge_expired last ran for real, not as a dry run (Unix time).",
            value=last["purge"].timestamp(),
        )
    if last["rotation"] is not None:
        yield GaugeMetricFamily(
            "chatsite_backups_last_rotation_timestamp_seconds",
            "When rotate_backups last ran for real, not as a dry run (Unix time).",
            value=last["rotation"].timestamp(),
        )


class DatabaseCollector:
    """Figures read at scrape time; a source that fails says so in chatsite_collector_up."""

    sources = (
        ("moderation", _moderation_families),
        ("moderation_team", _moderation_team_families),
        ("compliance", _compliance_families),
        ("audit", _audit_families),
    )

    def collect(self):
        now = timezone.now()
        up = GaugeMetricFamily(
            "chatsite_collector_up",
            "1 when a scrape-time source answered, 0 when its queries failed.",
            labels=["source"],
        )
        for source, families in self.sources:
            try:
                collected = list(families(now))
            except Exception:  # one failing source must not hide the others
                logger.exception("metrics: the %s source failed", source)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from collected
        yield up


class _ThisProcess:
    """The process's own registry, for a single-process server (no multiprocess dir)."""

    def collect(self):
        return REGISTRY.collect()


class _LiveMultiProcess(multiprocess.MultiProcessCollector):
    def collect(self):
        forget_dead_processes(self._path)
        return super().collect()


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    path = multiprocess_dir()
    if path:
        _LiveMultiProcess(registry, path)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return registry


def exposition() -> bytes:
    return generate_latest(scrape_registry())
