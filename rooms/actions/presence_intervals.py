"""Who had a room open, and when: the presence intervals behind "Qui a pu le voir"
(docs/moderation.md).

The room's enter and leave actions call `open_presence_interval` and
`close_presence_interval` inside their transaction, under the room's row lock,
and only for a person's first socket in the room and their last one: a second
tab writes nothing, and the socket's cost is one statement at its opening and
one at its closing. An interval a process left open when it died ends at its
`seen_at`, the last refresh of the presence (rooms/presence.py): the reads treat
it so at once (rooms/queries.py `interval_end`), and the refresh's sweep writes it down.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef

from audit.events import AuditEvent
from audit.trail import record
from rooms.app_settings import app_settings
from rooms.models import PresenceInterval, Room, RoomPresence
from rooms.presence import presence_deadline


def merge_gap() -> timedelta:
    return timedelta(seconds=max(0, app_settings.PRESENCE_MERGE_GAP_SECONDS))


# `latest` not given: open_presence_interval reads it.
_UNREAD = object()


def open_presence_interval(room: Room, user, now: datetime, *, latest=_UNREAD) -> None:
    """The person's first socket in the room opened: extends their latest interval
    if it ended less than the merge gap ago (a reconnect), else starts one.
    `latest`: that interval's (id, ended_at, seen_at), or None when they have
    none, if the caller read it already under the same lock.

    Called under the room's row lock (do_enter_room), so two first sockets of
    the same person cannot both start one."""
    if latest is _UNREAD:
        latest = (
            PresenceInterval.objects.filter(room=room, user=user)
            .order_by("-started_at")
            .values_list("pk", "ended_at", "seen_at")
            .first()
        )
    if latest is not None:
        latest_id, ended_at, seen_at = latest
        dead = ended_at is None and seen_at < presence_deadline()
        # An open interval nobody closed: its process died at its last refresh.
        end = seen_at if dead else ended_at
        if end is None or now - end <= merge_gap():
            _write(_REOPEN, now, latest_id)
            return
        if dead:
            _write(_END_AT_LAST_SIGN, latest_id)
    _write(_START, room.pk, user.pk, now, now)


# The model's own table name; values as parameters.
_INTERVALS = PresenceInterval._meta.db_table
_REOPEN = f"UPDATE {_INTERVALS} SET ended_at = NULL, seen_at = %s WHERE id = %s"  # noqa: S608
_END_AT_LAST_SIGN = f"UPDATE {_INTERVALS} SET ended_at = seen_at WHERE id = %s"  # noqa: S608
_START = (
    f"INSERT INTO {_INTERVALS} (room_id, user_id, started_at, ended_at, seen_at)"  # noqa: S608
    " VALUES (%s, %s, %s, NULL, %s)"
)


def _write(sql: str, *values) -> None:
    """One plain statement (PostgreSQL and SQLite alike): a socket's first
    opening writes one, and the ORM's update or save cost several times it.
    No model signal listens to intervals."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(v) if isinstance(v, datetime) else v for v in values])


def close_presence_interval(room: Room, user, now: datetime) -> None:
    """The person's last socket in the room closed."""
    PresenceInterval.objects.filter(room=room, user=user, ended_at__isnull=True).update(
        ended_at=now, seen_at=now
    )


def refresh_presence_intervals(channel_names: list[str], now: datetime) -> int:
    """The open intervals of the people these sockets keep in their rooms are
    still going (rooms/presence.py calls it with each refresh: one statement)."""
    sockets = RoomPresence.objects.filter(
        channel_name__in=channel_names, room_id=OuterRef("room_id"), user_id=OuterRef("user_id")
    )
    return PresenceInterval.objects.filter(Exists(sockets), ended_at__isnull=True).update(
        seen_at=now
    )


def close_dead_presence_intervals() -> int:
    """Ends at their last sign of life the intervals of processes that died
    without closing their sockets; returns how many."""
    return PresenceInterval.objects.filter(
        ended_at__isnull=True, seen_at__lt=presence_deadline()
    ).update(ended_at=F("seen_at"))


def close_member_presence_intervals(user, now: datetime) -> int:
    """Their account closes: every interval still open ends now (do_forget_member)."""
    return PresenceInterval.objects.filter(user=user, ended_at__isnull=True).update(
        ended_at=now, seen_at=now
    )


@transaction.atomic
def do_forget_presence_intervals(interval_ids, *, actor, reason: str) -> int:
    """Deletes presence intervals whose retention period is over (the retention
    purge picks them, holds excepted); returns how many."""
    ids = sorted(
        PresenceInterval.objects.filter(pk__in=list(interval_ids)).values_list("pk", flat=True)
    )
    deleted = PresenceInterval.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        record(
            AuditEvent.PRESENCE_INTERVALS_FORGOTTEN,
            actor=actor,
            target_type="rooms.presenceinterval",
            reason=reason,
            details={"intervals": deleted, "first_id": ids[0], "last_id": ids[-1]},
        )
    return deleted
