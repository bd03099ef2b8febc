"""Telling connected sockets that something changed, through the channel layer.

Called only from `transaction.on_commit` callbacks (the database is the truth,
the layer a notifier). Each event carries what the sockets send as is, so that
a message is serialised once per event, not once per socket. Moderation uses
`close_user_sockets` to disconnect the banned and the kicked, and
`restriction_changed` to tell open pages of a mute.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core import metrics
from rooms.app_settings import app_settings
from rooms.models import room_group, session_group, user_group
from rooms.protocol import GroupEvent

logger = logging.getLogger(__name__)


# Set by `collected()`: the events are kept for the caller to send, not sent here.
_collected: ContextVar[list[tuple[str, dict]] | None] = ContextVar("notify_collected", default=None)


@contextmanager
def collected() -> Iterator[list[tuple[str, dict]]]:
    """Keeps the events sent inside the block (on commit of an action called in
    it) in a list, in order, instead of sending them. A room socket stores a
    post on a worker thread this way and sends the events from its event loop
    (`publish`), without the thread's hop back to the loop (`async_to_sync`)
    for every event."""
    events: list[tuple[str, dict]] = []
    token = _collected.set(events)
    try:
        yield events
    finally:
        _collected.reset(token)


async def publish(layer, events: list[tuple[str, dict]]) -> None:
    """Sends what `collected()` kept, in order, from the event loop."""
    for group, event in events:
        try:
            await layer.group_send(group, event)
        except Exception:
            # As send_to_group: committed; clients catch up from the database.
            logger.exception("could not notify group %s of %s", group, event.get("type"))
            metrics.channel_layer_error("group_send")


def send_to_group(group: str, event: dict) -> None:
    events = _collected.get()
    if events is not None:
        events.append((group, event))
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        # The change is committed; clients catch up from the database on reconnect.
        logger.exception("could not notify group %s of %s", group, event.get("type"))
        metrics.channel_layer_error("group_send")


def message_posted(room_id: int, payload: dict, notify_user_ids: list[int]) -> None:
    send_to_group(room_group(room_id), {"type": GroupEvent.ROOM_MESSAGE, "message": payload})
    for user_id in notify_user_ids:
        conversation_changed(user_id, payload["room"])


def message_restored(room_id: int, payload: dict) -> None:
    """A hidden message shown again: a `message.new` frame with its original id.
    `restored` tells the sockets not to skip an id they may have sent before."""
    send_to_group(
        room_group(room_id), {"type": GroupEvent.ROOM_MESSAGE, "message": payload, "restored": True}
    )


def message_deleted(room_id: int, message_id: int) -> None:
    send_to_group(room_group(room_id), {"type": GroupEvent.ROOM_MESSAGE_DELETED, "id": message_id})


def message_updated(room_id: int, update: dict) -> None:
    send_to_group(room_group(room_id), {"type": GroupEvent.ROOM_MESSAGE_UPDATED, **update})


def reactions_changed(room_id: int, message_id: int, counts: dict) -> None:
    send_to_group(
        room_group(room_id),
        {"type": GroupEvent.ROOM_REACTIONS, "id": message_id, "counts": counts},
    )


def mentioned(user_id: int, room_slug: str, payload: dict) -> None:
    send_to_group(
        user_group(user_id),
        {"type": GroupEvent.USER_MENTION, "room": room_slug, "message": payload},
    )


def relations_changed(user_id: int) -> None:
    """The user's blocks or ignores changed: their sockets reload them (typing)."""
    send_to_group(user_group(user_id), {"type": GroupEvent.USER_RELATIONS})


def presence_changed(
    room_id: int, usernames: list[str], members: int, *, before: list[str] | None = None
) -> None:
    """The online set changed; `members` comes along so that the page's two
    counts are read at the same moment and agree. With `before` (the set it
    replaced) and more than PRESENCE_LIST_MAX online, only the difference goes
    out: each socket started from a whole list of its own (rooms/consumers.py)."""
    event = {"type": GroupEvent.ROOM_PRESENCE, "users": usernames, "members": members}
    if before is not None and len(usernames) > app_settings.PRESENCE_LIST_MAX:
        now, then = set(usernames), set(before)
        event = {
            "type": GroupEvent.ROOM_PRESENCE,
            "joined": sorted(now - then),
            "left": sorted(then - now),
            "online": len(now),
            "members": members,
        }
    send_to_group(room_group(room_id), event)


def restriction_changed(user_id: int, room_id: int | None = None) -> None:
    """A measure against the user began or ended (moderation): their sockets in
    that room, or all of them, read it again and tell their page."""
    send_to_group(user_group(user_id), {"type": GroupEvent.USER_RESTRICTION, "room": room_id})


def conversation_changed(user_id: int, room_slug: str, *, request: str | None = None) -> None:
    """Something changed in one of the user's conversations (`room_slug`; ""
    when not about one room: notifications read). `request`: "accepted" when
    the user's own contact request was just accepted."""
    event = {"type": GroupEvent.USER_CONVERSATION, "room": room_slug}
    if request is not None:
        event["request"] = request
    send_to_group(user_group(user_id), event)


def close_user_sockets(user_id: int, code: int, room_id: int | None = None) -> None:
    """Closes the user's room sockets with `code`: those in one room, or all."""
    send_to_group(
        user_group(user_id), {"type": GroupEvent.USER_CLOSE, "code": code, "room": room_id}
    )


def close_room_sockets(room_id: int, code: int) -> None:
    send_to_group(room_group(room_id), {"type": GroupEvent.ROOM_CLOSE, "code": code})


def revalidate_user_sockets(user_id: int, room_id: int | None = None) -> None:
    """The account changed (or its access to one room): each of its sockets, or
    those in that room, checks its session and access again and closes with the
    code of whatever ended (4401 for the account, 4403 for the room)."""
    send_to_group(user_group(user_id), {"type": GroupEvent.USER_REVALIDATE, "room": room_id})


def close_session_sockets(session_key: str, code: int) -> None:
    """Closes the sockets one session opened (it signed out)."""
    send_to_group(session_group(session_key), {"type": GroupEvent.SESSION_CLOSE, "code": code})


def rekey_session_sockets(old_key: str, new_key: str) -> None:
    """The session changed its key (a password change by that session): its
    sockets follow the new key instead of finding their session gone. The key
    travels only over the channel layer, between our own processes."""
    send_to_group(session_group(old_key), {"type": GroupEvent.SESSION_REKEY, "key": new_key})
