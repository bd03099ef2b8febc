"""Every Prometheus metric the code updates, in one place (docs/operations.md lists them).

On the ground floor (core/): it imports nothing of ours, so any layer may count
through it, as it would log through `logging`. What is computed from the database at
scrape time (report backlog, sanctions, legal deadlines, audit head) lives in
chatsite/metrics_collectors.py instead.

Several daphne processes run on one host: prometheus-client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR, set in the systemd unit) makes every process
write its values to a shared directory, and a scrape of any one process, or of
the host's exporter, adds them up. See docs/operations.md, "Metrics".
"""

import time
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

OPEN_SOCKETS = Gauge(
    "chatsite_websocket_open_sockets",
    "WebSocket connections open now, by consumer (room, conversations).",
    ["consumer"],
    # Only live processes count: a crashed process's sockets are gone.
    multiprocess_mode="livesum",
)
MESSAGES_STORED = Counter(
    "chatsite_messages_stored_total",
    "Messages committed to the database, by room kind.",
    ["room_kind"],
)
MESSAGES_DELIVERED = Counter(
    "chatsite_messages_delivered_total",
    "Live message.new frames sent to sockets (one per receiving socket).",
)
DELIVERY_LATENCY = Histogram(
    "chatsite_message_delivery_seconds",
    "From a message's creation in its committing transaction to its send on a socket.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CHANNEL_LAYER_ERRORS = Counter(
    "chatsite_channel_layer_errors_total",
    "Channel-layer calls that failed (the change is committed; clients catch up on reconnect).",
    ["operation"],
)
MESSAGE_REFUSALS = Counter(
    "chatsite_message_refusals_total",
    # rate_limited counts the token bucket's refusals, filtered the word filters' blocks.
    "Messages refused, by error code (rate_limited, filtered, muted, blocked, invalid...).",
    ["code"],
)
FILTER_HITS = Counter(
    "chatsite_filter_hits_total",
    "Messages a moderation filter matched, by the deciding rule's action (block, hold, "
    "mute, flag).",
    ["action"],
)
STAFF_LOOKS = Counter(
    "chatsite_staff_looks_total",
    "Staff looks at personal data recorded in the audit trail, by audit event code.",
    ["event"],
)
STAFF_LOOK_ALERTS = Counter(
    "chatsite_staff_look_alerts_total",
    "Staff members whose looks at private conversations or identity files went over "
    "AUDIT_LOOK_ALERT_THRESHOLD within the window (one per member and window).",
)
STAFF_REFUSALS = Counter(
    "chatsite_staff_refusals_total",
    "Refused staff attempts recorded in the audit trail, by refusal code.",
    ["code"],
)


def socket_opened(consumer: str) -> None:
    OPEN_SOCKETS.labels(consumer=consumer).inc()


def socket_closed(consumer: str) -> None:
    OPEN_SOCKETS.labels(consumer=consumer).dec()


def message_stored(room_kind: str) -> None:
    MESSAGES_STORED.labels(room_kind=str(room_kind)).inc()


def message_refused(code: str) -> None:
    MESSAGE_REFUSALS.labels(code=str(code)).inc()


def message_delivered(message: dict, *, now: float | None = None) -> None:
    """Counts one live send of a message as JSON (its `created`, ISO 8601, gives the latency)."""
    MESSAGES_DELIVERED.inc()
    try:
        created = datetime.fromisoformat(message["created"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return
    # Clocks of two hosts may disagree slightly: never observe a negative delay.
    DELIVERY_LATENCY.observe(max(0.0, (time.time() if now is None else now) - created))


def channel_layer_error(operation: str) -> None:
    CHANNEL_LAYER_ERRORS.labels(operation=operation).inc()


def filter_hit(action: str) -> None:
    FILTER_HITS.labels(action=str(action)).inc()


def staff_look(event: int) -> None:
    STAFF_LOOKS.labels(event=str(int(event))).inc()


def staff_look_alert() -> None:
    STAFF_LOOK_ALERTS.inc()


def staff_refused(code: str) -> None:
    STAFF_REFUSALS.labels(code=str(code)).inc()
