"""WebSocket routes of the moderation app (included by chatsite/routing.py)."""

from django.urls import path

from moderation.consumers import StaffConsumer

websocket_urlpatterns = [
    path("ws/staff/", StaffConsumer.as_asgi()),
]
