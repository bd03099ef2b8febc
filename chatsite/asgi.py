"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Run with `daphne chatsite.asgi:application` (the Makefile does).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from chatsite.logs import SocketLogContextMiddleware  # noqa: E402
from chatsite.routing import websocket_urlpatterns  # noqa: E402

if settings.DEBUG:
    # Development: the source folders, unhashed. With DEBUG off, WhiteNoise's
    # middleware serves the collected files (a reverse proxy may instead).
    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The exact origins of settings.WEBSOCKET_ALLOWED_ORIGINS (scheme, host and
        # port), else HTTP 403 at the handshake: a page of another site, or of
        # another port of this host, cannot open a socket with the user's cookie.
        "websocket": OriginValidator(
            AuthMiddlewareStack(SocketLogContextMiddleware(URLRouter(websocket_urlpatterns))),
            settings.WEBSOCKET_ALLOWED_ORIGINS,
        ),
    }
)
