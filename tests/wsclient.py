"""A plain WebSocket and HTTP client for tests against a real daphne server
(tests/servers.py): what a browser does, through autobahn and the network."""

import asyncio
import contextlib
import json
import urllib.error
import urllib.request

from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 10


def cookie_header(session_key: str) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={session_key}"


async def open_ws(server, slug: str, session_key: str | None, after: int | None = None):
    path = f"/ws/rooms/{slug}/" + (f"?after={after}" if after is not None else "")
    headers = {"Cookie": cookie_header(session_key)} if session_key else {}
    return await connect(
        server.url.replace("http://", "ws://", 1) + path,
        origin=server.url,
        additional_headers=headers,
        open_timeout=TIMEOUT,
    )


async def close_code(ws: ClientConnection, timeout: float = TIMEOUT) -> int | None:
    """Reads until the server closes the socket; its close code. Fails (TimeoutError)
    when nothing closes it within `timeout`."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    return ws.close_code


async def next_frame(ws: ClientConnection, frame_type: str, timeout: float = TIMEOUT) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == frame_type:
                return frame


async def joined(ws: ClientConnection, username: str, timeout: float = TIMEOUT) -> None:
    """Waits for the presence frame naming `username`: the socket listens to its room."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "presence" and username in frame["users"]:
                return


def http_get(url: str, session_key: str | None = None) -> tuple[int, bytes]:
    """GET with the session cookie; the status and body (errors included)."""
    headers = {"Cookie": cookie_header(session_key)} if session_key else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http://127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def history(server, slug: str, session_key: str) -> list[dict]:
    status, body = http_get(
        f"{server.url}/api/rooms/{slug}/messages/?after=0&limit=200", session_key
    )
    assert status == 200, (status, body[:200])
    return json.loads(body)["messages"]
