"""Who had a room open around a moment: the reads of the presence intervals
(docs/moderation.md, "Qui a pu le voir"). The writes are rooms/actions/presence_intervals.py.

The answer is socket presence: a person counts from the opening of their first
room socket to the closing of their last one (a reconnect within the merge gap
counting as staying). It is not who read the message: history pages, a later
backfill, search and the inbox are not presence.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from rooms.models import PresenceInterval, Room
from rooms.presence import presence_deadline

# The windows staff may ask for around a message, in minutes (0: the moment itself).
WINDOW_MINUTES = (0, 1, 5, 15, 60)
# At most this many intervals in one answer (a busy room over an hour).
ANSWER_LIMIT = 500


def interval_end(now: datetime | None = None):
    """An interval's end as a query expression: `ended_at` once closed; while
    open, now if its process still refreshes it, else its last `seen_at` (the
    process died: rooms/actions/presence_intervals.py closes it so later)."""
    return Coalesce(
        "ended_at",
        Case(
            When(seen_at__gte=presence_deadline(), then=Value(now or timezone.now())),
            default=F("seen_at"),
            output_field=DateTimeField(),
        ),
    )


@dataclass(frozen=True)
class Presence:
    user_id: int
    username: str
    started_at: datetime
    # None: the room is still open on their side.
    ended_at: datetime | None
    # Present at the moment itself, not only in the window around it.
    at_moment: bool


def present_around(room: Room, moment: datetime, window: timedelta = timedelta(0)) -> list:
    """The presence intervals of `room` that meet [moment - window, moment + window],
    those present at `moment` first, then by name and start."""
    now, deadline = timezone.now(), presence_deadline()
    low, high = moment - window, moment + window
    rows = (
        PresenceInterval.objects.filter(room=room, started_at__lte=high)
        .annotate(end=interval_end(now))
        .filter(end__gte=low)
        .select_related("user")
        .order_by("user__username", "started_at")[:ANSWER_LIMIT]
    )
    answer = [
        Presence(
            user_id=row.user_id,
            username=row.user.username,
            started_at=row.started_at,
            ended_at=None if row.ended_at is None and row.seen_at >= deadline else row.end,
            at_moment=row.started_at <= moment <= row.end,
        )
        for row in rows
    ]
    return sorted(answer, key=lambda presence: not presence.at_moment)
