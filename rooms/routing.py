"""WebSocket routes of the rooms app (the consumer lands with the rooms issue)."""

websocket_urlpatterns: list = []
