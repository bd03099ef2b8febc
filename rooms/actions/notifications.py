"""In-app notifications: what the navigation counts and the notifications page lists."""

from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rooms import notify, queries
from rooms.models import Notification, NotificationKind, Room, RoomMembership


def notify_member(
    user_id: int,
    kind: NotificationKind,
    *,
    actor,
    room: Room | None = None,
    message=None,
) -> Notification | None:
    """Stores a notification for `user_id` inside the caller's transaction.
    None when the member muted the room or does not hear from `actor` (a block
    either way, an ignore). The caller's own event (a mention, a changed
    conversation) tells their sockets, which then read the counts again."""
    if actor is not None and actor.pk == user_id:
        return None
    if (
        room is not None
        and RoomMembership.objects.filter(room=room, user_id=user_id, muted=True).exists()
    ):
        return None
    if actor is not None and actor.pk in queries.hidden_from_id(user_id):
        return None
    return Notification.objects.create(
        user_id=user_id, kind=kind, actor=actor, room=room, message=message
    )


@transaction.atomic(durable=True)
def do_mark_notifications_read(*, actor, ids: list[int] | None = None) -> int:
    """Marks the member's notifications read: these ids (others' are left
    alone), or all of them. Returns how many changed."""
    unread = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(Q(pk__in=ids))
    changed = unread.update(read_at=timezone.now())
    if changed:
        transaction.on_commit(partial(notify.conversation_changed, actor.pk, ""))
    return changed
