"""WebSocket routes of the rooms app (included by chatsite/routing.py)."""

from django.urls import path

from rooms.consumers import ConversationsConsumer, RoomConsumer

websocket_urlpatterns = [
    path("ws/rooms/<slug:slug>/", RoomConsumer.as_asgi()),
    path("ws/conversations/", ConversationsConsumer.as_asgi()),
]
