"""Fixtures of the rooms tests: rooms, and sockets opened as a signed-in user."""

import contextlib

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from chatsite.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
RECEIVE_TIMEOUT = 3


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def amake_user(make_user):
    """make_user for async tests."""
    return database_sync_to_async(make_user)


@pytest.fixture
def amake_room(make_room):
    """make_room for async tests."""
    return database_sync_to_async(make_room)


@pytest.fixture
def client_for():
    """A test client signed in as `user`."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def public_room(make_room):
    return make_room(slug="general", name="Général")


async def session_cookie(user) -> str:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Socket:
    """A WebsocketCommunicator with the helpers these tests need."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator

    async def send(self, frame: dict) -> None:
        await self.communicator.send_json_to(frame)

    async def send_text(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def post(self, body: str, client_id: str | None = None) -> None:
        await self.send({"type": "message.send", "body": body, "client_id": client_id})

    async def receive(self) -> dict:
        return await self.communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)

    async def receive_type(self, frame_type: str) -> dict:
        """The next frame of this type, skipping others (presence, mostly)."""
        while True:
            frame = await self.receive()
            if frame["type"] == frame_type:
                return frame

    async def messages(self, count: int) -> list[dict]:
        return [await self.receive_type("message.new") for _ in range(count)]

    async def nothing_but_presence(self, timeout: float = 0.5) -> None:
        """Asserts no frame other than presence arrives within `timeout`."""
        while not await self.communicator.receive_nothing(timeout=timeout):
            frame = await self.receive()
            assert frame["type"] == "presence", frame

    async def closed_with(self, *, skip_frames: bool = False) -> int:
        """The close code; strict by default: no frame may come before it."""
        while True:
            output = await self.communicator.receive_output(timeout=RECEIVE_TIMEOUT)
            if skip_frames and output["type"] == "websocket.send":
                continue
            assert output["type"] == "websocket.close", output
            return output.get("code")

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def open_socket():
    """Opens /ws/rooms/<slug>/ as `user` (None: anonymous), with an allowed Origin."""
    sockets: list[Socket] = []

    async def open_(
        user, slug: str, *, after: int | str | None = None, session_key: str | None = None
    ) -> Socket:
        """`session_key`: that session's (a test client's) rather than a new one."""
        headers = [ORIGIN]
        if user is not None or session_key is not None:
            cookie = session_key or await session_cookie(user)
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
        path = f"/ws/rooms/{slug}/" + (f"?after={after}" if after is not None else "")
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=RECEIVE_TIMEOUT)
        assert connected, "the handshake is accepted, refusals close afterwards"
        socket = Socket(communicator)
        sockets.append(socket)
        return socket

    yield open_
    for socket in sockets:
        # Some were already closed by the server.
        with contextlib.suppress(Exception):
            await socket.close()


# The real app under daphne against the test database (the browser tests' harness).
from tests.browser.conftest import asgi_server, asgi_server_env  # noqa: E402, F401

# Several daphne processes on PostgreSQL and Redis (revocation on every process).
from tests.scale.conftest import cluster  # noqa: E402, F401
