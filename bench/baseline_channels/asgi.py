"""ASGI application of the tutorial chat (WebSockets only, no auth middleware)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline_channels.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from bench.baseline_channels.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {"websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns))}
)
