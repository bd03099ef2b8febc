"""The WebSocket entry: origin check and refusal of unknown paths."""

import pytest
from channels.testing import WebsocketCommunicator

from chatsite.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def test_websocket_to_an_unknown_path_is_refused(channel_layer_backend):
    communicator = WebsocketCommunicator(
        application, "/ws/nowhere/", headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    connected, _ = await communicator.connect()
    assert connected is False
    await communicator.disconnect()


async def test_websocket_with_a_foreign_origin_is_refused(channel_layer_backend):
    communicator = WebsocketCommunicator(
        application, "/ws/rooms/general/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert connected is False
    await communicator.disconnect()


async def test_websocket_without_origin_is_refused(channel_layer_backend):
    communicator = WebsocketCommunicator(application, "/ws/rooms/general/")
    connected, _ = await communicator.connect()
    assert connected is False
    await communicator.disconnect()
