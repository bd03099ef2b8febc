"""One channel-layer subscription per room per process, fanned out locally.

Without this, every socket of a room subscribes to `room.<id>` itself: each
event is then deserialised, queued, dispatched and JSON-encoded once per
socket. Here, per event loop (that is, per server process), each room with at
least one local socket has one relay channel in the room's group; its task
encodes each event's frame once and writes that text to every local socket of
the room.

Per socket the relay only checks the socket's backfill memory and writes one
WebSocket frame. A socket still sending its backfill gets its live events
queued (`RoomConsumer.relay_event`) and replayed in order afterwards.
The user.<id> groups (sanctions, conversation updates) stay per socket: they
are rare and must reach exactly that user's sockets on every process.
"""

import asyncio
import json
import logging
from typing import Protocol

from rooms.models import room_group
from rooms.protocol import GroupEvent, ServerEvent

try:
    # What daphne raises on a write to a socket whose peer has just gone.
    from autobahn.exception import Disconnected as PeerGone
except ImportError:  # another ASGI server: nothing of the kind to expect
    PeerGone = ()

logger = logging.getLogger(__name__)


class RoomSocket(Protocol):
    async def relay_event(self, event: dict, text: str | None) -> None: ...


def frame_text(event: dict) -> str | None:
    """The frame a group event becomes, encoded once; None for a close event."""
    kind = event.get("type")
    if kind == GroupEvent.ROOM_MESSAGE:
        frame = {"type": ServerEvent.MESSAGE_NEW, **event["message"]}
    elif kind == GroupEvent.ROOM_MESSAGE_DELETED:
        frame = {"type": ServerEvent.MESSAGE_DELETED, "id": event["id"]}
    elif kind == GroupEvent.ROOM_MESSAGE_UPDATED:
        frame = {
            "type": ServerEvent.MESSAGE_UPDATED,
            "id": event["id"],
            "body": event["body"],
            "edited": event["edited"],
            "mentions": event.get("mentions", []),
        }
    elif kind == GroupEvent.ROOM_REACTIONS:
        frame = {"type": ServerEvent.REACTIONS, "id": event["id"], "counts": event["counts"]}
    elif kind == GroupEvent.ROOM_PRESENCE and "joined" in event:
        frame = {
            "type": ServerEvent.PRESENCE_DELTA,
            "joined": event["joined"],
            "left": event["left"],
            "online": event["online"],
            "members": event["members"],
        }
    elif kind == GroupEvent.ROOM_PRESENCE:
        frame = {"type": ServerEvent.PRESENCE, "users": event["users"]}
        if "members" in event:
            frame["members"] = event["members"]
    else:
        return None
    # The same encoding as AsyncJsonWebsocketConsumer.send_json.
    return json.dumps(frame)


class RoomFanout:
    """One room's subscription in this process: a channel of its own in the
    room's group, read by one task that writes each event to the local sockets."""

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.sockets: set[RoomSocket] = set()
        self.channel_name: str | None = None
        self.task: asyncio.Task | None = None

    async def deliver(self, event: dict) -> None:
        try:
            text = frame_text(event)
        except (KeyError, TypeError, ValueError):
            logger.exception("malformed room event %r", event.get("type"))
            return
        # A copy: a socket may leave while an earlier one is being written to.
        for socket in list(self.sockets):
            try:
                await socket.relay_event(event, text)
            except PeerGone:
                # The relay writes outside the consumer's queue: the peer's
                # disconnect, already queued there, will unsubscribe the socket.
                continue
            except Exception:
                logger.exception("could not relay %s to a socket", event.get("type"))


class RoomRelay:
    """The room subscriptions of one event loop (one server process) on one layer."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.rooms: dict[int, RoomFanout] = {}
        # Serialises subscription changes, so that a room's first socket and its
        # last one leaving at the same time cannot leave the group half-joined.
        self._lock = asyncio.Lock()

    async def add(self, room_id: int, socket: RoomSocket) -> None:
        async with self._lock:
            fanout = self.rooms.get(room_id)
            if fanout is None:
                fanout = RoomFanout(room_id)
                fanout.channel_name = await self.layer.new_channel("rooms.relay.")
                await self.layer.group_add(room_group(room_id), fanout.channel_name)
                fanout.task = asyncio.get_running_loop().create_task(self._relay_forever(fanout))
                self.rooms[room_id] = fanout
            fanout.sockets.add(socket)

    async def remove(self, room_id: int, socket: RoomSocket) -> None:
        async with self._lock:
            fanout = self.rooms.get(room_id)
            if fanout is None or socket not in fanout.sockets:
                return
            fanout.sockets.discard(socket)
            if fanout.sockets:
                return
            del self.rooms[room_id]
            try:
                await self.layer.group_discard(room_group(room_id), fanout.channel_name)
            except Exception:
                # An unused subscription costs only its traffic until the process ends.
                logger.exception("could not leave the group of room %s", room_id)
            # Cancelling the read also drops the relay channel (pub/sub layer).
            fanout.task.cancel()

    async def _relay_forever(self, fanout: RoomFanout) -> None:
        while True:
            try:
                event = await self.layer.receive(fanout.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("room relay %s could not read its channel", fanout.room_id)
                await asyncio.sleep(1)
                continue
            await fanout.deliver(event)


_relays: dict[asyncio.AbstractEventLoop, RoomRelay] = {}


def relay_for(layer) -> RoomRelay:
    """This event loop's relay on `layer` (tests switch layers between loops)."""
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None or relay.layer is not layer:
        for other in [other for other in _relays if other.is_closed()]:
            del _relays[other]
        relay = _relays[loop] = RoomRelay(layer)
    return relay
