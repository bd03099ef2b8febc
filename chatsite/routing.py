"""WebSocket routes of every app, then a catch-all that refuses the rest."""

from channels.generic.websocket import WebsocketConsumer
from django.urls import re_path

from moderation.routing import websocket_urlpatterns as moderation_websocket_urlpatterns
from rooms.routing import websocket_urlpatterns as rooms_websocket_urlpatterns


class UnknownPathConsumer(WebsocketConsumer):
    """Refuses the handshake for a path no app serves (the client sees HTTP 403)."""

    def connect(self) -> None:
        self.close()


websocket_urlpatterns = [
    *rooms_websocket_urlpatterns,
    *moderation_websocket_urlpatterns,
    re_path(r"", UnknownPathConsumer.as_asgi()),
]
