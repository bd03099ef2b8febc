"""The room relay (rooms/fanout.py) writes outside each consumer's queue, so it
meets sockets whose peer has just gone: those are skipped quietly, the others
still get the frame."""

import logging

from autobahn.exception import Disconnected

from rooms.fanout import RoomFanout
from rooms.protocol import GroupEvent


class Socket:
    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.frames = error, []

    async def relay_event(self, event: dict, text: str | None) -> None:
        if self.error is not None:
            raise self.error
        self.frames.append(text)


EVENT = {"type": GroupEvent.ROOM_PRESENCE, "users": ["camille"]}


async def test_a_gone_peer_is_skipped_quietly(caplog):
    fanout = RoomFanout(room_id=1)
    gone, live = Socket(Disconnected("Attempt to send on a closed protocol")), Socket()
    fanout.sockets.update({gone, live})
    with caplog.at_level(logging.ERROR, logger="rooms.fanout"):
        await fanout.deliver(EVENT)
    assert live.frames == ['{"type": "presence", "users": ["camille"]}']
    assert caplog.records == []


async def test_any_other_failure_is_logged_and_the_others_still_served(caplog):
    fanout = RoomFanout(room_id=1)
    broken, live = Socket(RuntimeError("bug")), Socket()
    fanout.sockets.update({broken, live})
    with caplog.at_level(logging.ERROR, logger="rooms.fanout"):
        await fanout.deliver(EVENT)
    assert len(live.frames) == 1
    assert [record.message for record in caplog.records] == [
        "could not relay room.presence to a socket"
    ]
