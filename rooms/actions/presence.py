"""Who is in a room now (the presence rows behind the online list)."""

from functools import partial

from django.db import transaction
from django.utils import timezone

from rooms import notify, queries
from rooms.actions.messages import (
    _join_public_room,
)
from rooms.actions.presence_intervals import close_presence_interval, open_presence_interval
from rooms.models import (
    Room,
    RoomKind,
    RoomPresence,
)
from rooms.presence import presence_deadline


@transaction.atomic(durable=True)
def do_enter_room(room: Room, channel_name: str, *, actor) -> list[str]:
    """Records an open socket; tells the room if its online set changed.

    Opening a public room's socket is what makes a newcomer a member (never
    fetching its page: pages change nothing on GET). The handshake carries
    the exact-Origin check, so no other site can make a browser join."""
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
    # The room's lock holds the set still: only this socket's user can have come in.
    after = sorted({*before, actor.username})
    if after != before:
        members = queries.member_count(room)
        transaction.on_commit(
            partial(notify.presence_changed, room.id, after, members, before=before)
        )
    return after


@transaction.atomic(durable=True)
def do_leave_room(room: Room, channel_name: str, *, actor) -> list[str]:
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
