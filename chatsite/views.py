"""Site-wide views: the home page, the web app manifest and the health check."""

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Each probe must answer well inside a load balancer's health-check timeout.
HEALTH_PROBE_TIMEOUT_SECONDS = 2.0


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": "Chatsite",
        "short_name": "Chatsite",
        "description": _("Des salons de discussion entre adultes vérifiés, modérés."),
        "lang": request.LANGUAGE_CODE,
        "start_url": "/rooms/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#3b4cca",
        "icons": [
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


# One probe channel per layer instance (a layer lives per event loop): the
# pub/sub layer has no call to delete a channel, so a fresh one per probe would
# leave a Redis subscription behind every time.
_probe_channels: dict[int, tuple[str, asyncio.Lock]] = {}


async def _check_channel_layer() -> None:
    """A real round trip: send to this process's probe channel and read it back."""
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    key = id(layer)
    if key not in _probe_channels:
        _probe_channels[key] = (await layer.new_channel("healthz."), asyncio.Lock())
    channel, lock = _probe_channels[key]
    token = uuid.uuid4().hex
    async with lock:
        try:
            await layer.send(channel, {"type": "healthz.ping", "token": token})
            while (await layer.receive(channel)).get("token") != token:
                pass  # a ping left over from an earlier probe
        except BaseException:
            # A cancelled receive unsubscribes the channel: start afresh next time.
            _probe_channels.pop(key, None)
            raise


async def _probe(name: str, check) -> str:
    try:
        await asyncio.wait_for(check(), HEALTH_PROBE_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: %s is down: %r", name, exc)
        return "down"
    return "ok"


@never_cache
@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    database, channel_layer = await asyncio.gather(
        _probe("database", sync_to_async(_check_database)),
        _probe("channel_layer", _check_channel_layer),
    )
    checks = {"database": database, "channel_layer": channel_layer}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503
    )
