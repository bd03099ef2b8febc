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
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from chatsite.logs import SocketLogContextMiddleware  # noqa: E402
from chatsite.routing import websocket_urlpatterns  # noqa: E402

if settings.DEBUG:
    # Development only; in production the reverse proxy serves /static/.
    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(SocketLogContextMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
