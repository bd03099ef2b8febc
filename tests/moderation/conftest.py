"""Fixtures of the moderation tests: rooms, moderators with a verified second
factor, and room sockets on one or two channel-layer instances."""

import contextlib
import uuid

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import path

from chatsite.asgi import application
from chatsite.services import redis_channel_layer
from rooms.consumers import RoomConsumer
from tests.conftest import staff_client

# The moderation tests sign in OTP-verified moderators.
verified_client = staff_client

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
RECEIVE_TIMEOUT = 3
OTHER_LAYER = "other"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    # Tests post many messages at once: rooms' sending limit is tested there.
    settings.MESSAGE_RATE_LIMIT = "off"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def room(make_room):
    return make_room(slug="general", name="Général")


@pytest.fixture
def moderator(make_staff):
    return make_staff()


@pytest.fixture
def other_moderator(make_staff):
    return make_staff()


@pytest.fixture
def moderator_client(moderator) -> Client:
    return verified_client(moderator)


def post_message(room, author, body):
    from rooms import actions

    return actions.do_post_message(room, body, actor=author).message


# --- sockets -----------------------------------------------------------------------------------


class OtherProcessRoomConsumer(RoomConsumer):
    """The room consumer on a second layer instance: another server process."""

    channel_layer_alias = OTHER_LAYER


other_process_application = AuthMiddlewareStack(
    URLRouter([path("ws/rooms/<slug:slug>/", OtherProcessRoomConsumer.as_asgi())])
)


@pytest.fixture(params=["memory", "redis"])
def two_layers(request):
    """The in-memory layer, or two channels-redis instances sharing one Redis
    (two processes): sockets opened with `other_process=True` use the second."""
    if request.param == "memory":
        layers = {
            "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
            OTHER_LAYER: {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        }
    else:
        from tests.conftest import _require_redis

        prefix = f"test{uuid.uuid4().hex[:8]}"
        url = _require_redis()
        layers = {
            "default": redis_channel_layer(url, prefix),
            OTHER_LAYER: redis_channel_layer(url, prefix),
        }
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        if request.param == "memory":
            # One process's memory: the second alias is the same instance.
            channel_layers.backends[OTHER_LAYER] = channel_layers["default"]
        yield request.param
    channel_layers.backends.clear()


async def session_cookie(user) -> str:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Socket:
    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator

    async def post(self, body: str, client_id: str | None = None) -> None:
        await self.communicator.send_json_to(
            {"type": "message.send", "body": body, "client_id": client_id}
        )

    async def receive(self) -> dict:
        return await self.communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)

    async def receive_type(self, frame_type: str) -> dict:
        while True:
            frame = await self.receive()
            if frame["type"] == frame_type:
                return frame

    async def closed_with(self) -> int:
        """The close code, skipping frames sent before the close."""
        while True:
            output = await self.communicator.receive_output(timeout=RECEIVE_TIMEOUT)
            if output["type"] == "websocket.close":
                return output.get("code")

    async def still_open(self, timeout: float = 0.3) -> bool:
        """No close arrives within `timeout` (other frames are skipped)."""
        while not await self.communicator.receive_nothing(timeout=timeout):
            output = await self.communicator.receive_output(timeout=RECEIVE_TIMEOUT)
            if output["type"] == "websocket.close":
                return False
        return True

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def open_socket():
    sockets: list[Socket] = []

    async def open_(
        user, slug: str, *, other_process: bool = False, after: int | None = None
    ) -> Socket:
        cookie = await session_cookie(user)
        headers = [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
        app = other_process_application if other_process else application
        path = f"/ws/rooms/{slug}/" + (f"?after={after}" if after is not None else "")
        communicator = WebsocketCommunicator(app, path, headers=headers)
        connected, _ = await communicator.connect(timeout=RECEIVE_TIMEOUT)
        assert connected
        socket = Socket(communicator)
        sockets.append(socket)
        return socket

    yield open_
    for socket in sockets:
        with contextlib.suppress(Exception):
            await socket.close()


@pytest.fixture
def amake_user(make_user):
    """make_user from async tests (the ORM is synchronous)."""
    return database_sync_to_async(make_user)


@pytest.fixture
def amake_room(make_room):
    return database_sync_to_async(make_room)


# A real daphne server for the staff console's tests (test_console_live.py).
from tests.browser.conftest import asgi_server, asgi_server_env  # noqa: E402, F401
