"""The Python ceiling: a plain `websockets` broadcast server speaking the rooms protocol.

No Django, no database, no checks, no authentication (the cookie is ignored): a
frame `{"type": "message.send", "body", "client_id"}` on /ws/rooms/<slug>/ is
numbered, serialised once and written to every open socket of the room, the
sender's included, as `{"type": "message.new", ...}`.

    python bench/baseline_websockets.py --port 8765
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import signal
from datetime import UTC, datetime

from websockets.asyncio.server import ServerConnection, broadcast, serve

ROOM_PATH = re.compile(r"^/ws/rooms/(?P<slug>[-a-zA-Z0-9_]+)/(?:\?.*)?$")
# Same cap as the real server's frame limit (rooms/protocol.py MAX_FRAME_LENGTH).
MAX_FRAME = 16 * 1024


class BroadcastServer:
    """Rooms are sets of open connections; `deliver` is the one fan-out point."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[ServerConnection]] = {}
        self.next_id = itertools.count(1)

    def deliver(self, slug: str, text: str) -> None:
        broadcast(self.rooms.get(slug, ()), text)

    def message_frame(self, slug: str, frame: dict) -> str | None:
        body = frame.get("body")
        if frame.get("type") != "message.send" or not isinstance(body, str):
            return None
        client_id = frame.get("client_id")
        return json.dumps(
            {
                "type": "message.new",
                "id": next(self.next_id),
                "room": slug,
                "author": "anonymous",
                "body": body,
                "created": datetime.now(UTC).isoformat(),
                "client_id": client_id if isinstance(client_id, str) else None,
            }
        )

    async def handler(self, connection: ServerConnection) -> None:
        match = ROOM_PATH.match(connection.request.path)
        if match is None:
            await connection.close(4404, "no such room")
            return
        slug = match["slug"]
        members = self.rooms.setdefault(slug, set())
        members.add(connection)
        try:
            async for raw in connection:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    continue
                text = self.message_frame(slug, frame) if isinstance(frame, dict) else None
                if text is not None:
                    self.deliver(slug, text)
        finally:
            members.discard(connection)
            if not members:
                self.rooms.pop(slug, None)

    def serve(self, host: str, port: int):
        # No compression: daphne does not negotiate permessage-deflate either.
        return serve(self.handler, host, port, compression=None, max_size=MAX_FRAME, max_queue=64)


async def main(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with BroadcastServer().serve(host, port):
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.host, args.port))
