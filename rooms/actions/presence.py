"""Who is in a room now (the presence rows behind the online list)."""

from dataclasses import dataclass
from functools import cache, partial

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from rooms import notify, queries
from rooms.actions.messages import (
    _join_public_room,
)
from rooms.actions.presence_intervals import close_presence_interval, open_presence_interval
from rooms.models import (
    PresenceInterval,
    Room,
    RoomKind,
    RoomMembership,
    RoomPresence,
)
from rooms.presence import presence_deadline


@dataclass(frozen=True)
class Entered:
    """What a socket's entry found: the online set before and after it (sorted
    usernames) and the room's member count, all read under the room's lock."""

    before: list[str]
    after: list[str]
    members: int


def do_enter_room(room: Room, channel_name: str, *, actor) -> list[str]:
    """Records an open socket; tells the room if its online set changed.
    Returns the online set after it (`do_enter_room_counted` for the rest)."""
    return do_enter_room_counted(room, channel_name, actor=actor).after


@transaction.atomic(durable=True)
def do_enter_room_counted(room: Room, channel_name: str, *, actor) -> Entered:
    """Records an open socket; tells the room if its online set changed.

    Opening a public room's socket is what makes a newcomer a member (never
    fetching its page: pages change nothing on GET). The handshake carries
    the exact-Origin check, so no other site can make a browser join.

    On PostgreSQL, in three statements at most for a member (the room's lock,
    then one statement for the stale rows, the upsert and every read, then the
    presence interval's write if this is their first socket here): a reconnect
    storm pays each socket's entry, and the ORM's seven or eight queries were
    most of a socket open's CPU (docs/performance.md, "Issue 20, third steps")."""
    if connection.vendor == "postgresql":
        return _enter_room_postgresql(room, channel_name, actor)
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.kind == RoomKind.PUBLIC and not room.is_archived:
        _join_public_room(room, actor)
    # Sockets of a dead process stopped being refreshed: forget them here
    # (online_usernames never counted them).
    RoomPresence.objects.filter(room=room, seen_at__lt=presence_deadline()).delete()
    before = queries.online_usernames(room)
    now = timezone.now()
    if actor.username not in before:  # a second tab changes nothing
        open_presence_interval(room, actor, now)
    # One upsert on the unique channel name, not a read then a write.
    RoomPresence.objects.bulk_create(
        [RoomPresence(channel_name=channel_name, room=room, user=actor, seen_at=now)],
        update_conflicts=True,
        unique_fields=["channel_name"],
        update_fields=["room", "user", "seen_at"],
    )
    return _entered(room, before, actor, queries.member_count(room))


def _entered(room: Room, before: list[str], actor, members: int) -> Entered:
    # The room's lock holds the set still: only this socket's user can have come in.
    after = sorted({*before, actor.username})
    if after != before:
        transaction.on_commit(
            partial(notify.presence_changed, room.id, after, members, before=before)
        )
    return Entered(before, after, members)


@cache
def _entry_statements() -> tuple[str, str]:
    """The room's lock (with whether the actor is a member already), then the
    rest of the entry in one statement. Its CTEs' writes run whether or not
    the SELECT reads them, and every part of it sees the snapshot taken once
    the lock was held, as the ORM's separate reads did."""
    rooms, members = Room._meta.db_table, RoomMembership._meta.db_table
    presences, intervals = RoomPresence._meta.db_table, PresenceInterval._meta.db_table
    users = get_user_model()._meta.db_table
    lock = f"""
        SELECT r.kind, r.is_archived,
               EXISTS (SELECT 1 FROM {members} m WHERE m.room_id = r.id AND m.user_id = %(user)s)
        FROM {rooms} r WHERE r.id = %(room)s FOR UPDATE OF r"""  # noqa: S608 - models' table names
    # The stale delete spares this socket's own row, which the upsert writes:
    # one statement must not change a row twice.
    enter = f"""
        WITH stale AS (
            DELETE FROM {presences}
            WHERE room_id = %(room)s AND seen_at < %(deadline)s AND channel_name <> %(channel)s
        ), upsert AS (
            INSERT INTO {presences} (channel_name, room_id, user_id, connected_at, seen_at)
            VALUES (%(channel)s, %(room)s, %(user)s, %(now)s, %(now)s)
            ON CONFLICT (channel_name) DO UPDATE SET
                room_id = EXCLUDED.room_id, user_id = EXCLUDED.user_id, seen_at = EXCLUDED.seen_at
        )
        SELECT
            ARRAY(SELECT DISTINCT u.username FROM {presences} p JOIN {users} u ON u.id = p.user_id
                  WHERE p.room_id = %(room)s AND p.seen_at >= %(deadline)s),
            (SELECT count(*) FROM {members} WHERE room_id = %(room)s),
            latest.id, latest.ended_at, latest.seen_at
        FROM (SELECT 1) AS one LEFT JOIN LATERAL (
            SELECT id, ended_at, seen_at FROM {intervals}
            WHERE room_id = %(room)s AND user_id = %(user)s ORDER BY started_at DESC LIMIT 1
        ) AS latest ON true"""  # noqa: S608 - the models' own table names, values as parameters
    return lock, enter


@cache
def _leave_statements() -> tuple[str, str]:
    """The room's lock, then the rest of the leave in one statement. Every part
    sees the rows as they were before its own DELETE: the online set before,
    and whether another live socket keeps the person here (this one aside)."""
    rooms, members = Room._meta.db_table, RoomMembership._meta.db_table
    presences, intervals = RoomPresence._meta.db_table, PresenceInterval._meta.db_table
    users = get_user_model()._meta.db_table
    lock = f"SELECT id FROM {rooms} WHERE id = %(room)s FOR UPDATE"  # noqa: S608 - table name
    leave = f"""
        WITH gone AS (
            DELETE FROM {presences} WHERE channel_name = %(channel)s AND user_id = %(user)s
        ), others AS (
            SELECT 1 FROM {presences}
            WHERE room_id = %(room)s AND user_id = %(user)s AND seen_at >= %(deadline)s
              AND channel_name <> %(channel)s
        ), ended AS (
            UPDATE {intervals} SET ended_at = %(now)s, seen_at = %(now)s
            WHERE room_id = %(room)s AND user_id = %(user)s AND ended_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM others)
        )
        SELECT
            ARRAY(SELECT DISTINCT u.username FROM {presences} p JOIN {users} u ON u.id = p.user_id
                  WHERE p.room_id = %(room)s AND p.seen_at >= %(deadline)s),
            EXISTS (SELECT 1 FROM others),
            (SELECT count(*) FROM {members} WHERE room_id = %(room)s)"""  # noqa: S608 - table names
    return lock, leave


def _leave_room_postgresql(room: Room, channel_name: str, actor) -> list[str]:
    lock, leave = _leave_statements()
    params = {
        "room": room.pk,
        "user": actor.pk,
        "channel": channel_name,
        "now": timezone.now(),
        "deadline": presence_deadline(),
    }
    with connection.cursor() as cursor:
        cursor.execute(lock, params)
        if cursor.fetchone() is None:
            raise Room.DoesNotExist(f"room {room.pk}")
        cursor.execute(leave, params)
        online, still_here, members = cursor.fetchone()
    before = sorted(set(online))
    after = before if still_here else [name for name in before if name != actor.username]
    if after != before:
        transaction.on_commit(
            partial(notify.presence_changed, room.id, after, members, before=before)
        )
    return after


def _enter_room_postgresql(room: Room, channel_name: str, actor) -> Entered:
    lock, enter = _entry_statements()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(lock, {"room": room.pk, "user": actor.pk})
        row = cursor.fetchone()
        if row is None:
            raise Room.DoesNotExist(f"room {room.pk}")
        kind, archived, member = row
        if kind == RoomKind.PUBLIC and not archived and not member:
            # A newcomer, through the ORM: its post_save is what raid detection counts.
            _join_public_room(room, actor)
        params = {
            "room": room.pk,
            "user": actor.pk,
            "channel": channel_name,
            "now": now,
            "deadline": presence_deadline(),
        }
        cursor.execute(enter, params)
        online, members, latest_id, ended_at, seen_at = cursor.fetchone()
    # Sorted here, not by the database's collation: as online_usernames sorts.
    before = sorted(set(online))
    if actor.username not in before:  # a second tab changes nothing
        latest = None if latest_id is None else (latest_id, ended_at, seen_at)
        open_presence_interval(room, actor, now, latest=latest)
    return _entered(room, before, actor, members)


@transaction.atomic(durable=True)
def do_leave_room(room: Room, channel_name: str, *, actor) -> list[str]:
    """Forgets a closed socket; ends the person's presence interval with their
    last socket here; tells the room if its online set changed. On PostgreSQL
    in two statements (the room's lock, then the rest), as `do_enter_room`."""
    if connection.vendor == "postgresql":
        return _leave_room_postgresql(room, channel_name, actor)
    room = Room.objects.select_for_update().get(pk=room.pk)
    before = queries.online_usernames(room)
    RoomPresence.objects.filter(channel_name=channel_name, user=actor).delete()
    after = queries.online_usernames(room)
    if actor.username not in after:  # their last socket here
        close_presence_interval(room, actor, timezone.now())
    if after != before:
        members = queries.member_count(room)
        transaction.on_commit(
            partial(notify.presence_changed, room.id, after, members, before=before)
        )
    return after
