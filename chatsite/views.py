"""Site-wide views: the home page, the web app manifest and the health check."""

import asyncio
import functools
import hashlib
import json
import logging
import uuid
from pathlib import Path

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rooms import queries

logger = logging.getLogger(__name__)

# Each probe must answer well inside a load balancer's health-check timeout.
HEALTH_PROBE_TIMEOUT_SECONDS = 2.0


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # The public rooms' life, as figures: the same counts as the rooms page.
    return render(request, "home.html", {"activity": queries.site_activity()})


# Browsers and home screens ask these at the root whatever the page links
# (Safari: no SVG favicon; iOS: the touch icon): each answers with the static file.
ROOT_ICONS = {
    "favicon.ico": "icons/favicon.ico",
    "apple-touch-icon.png": "icons/apple-touch-icon.png",
    "apple-touch-icon-precomposed.png": "icons/apple-touch-icon.png",
}


@require_GET
def root_icon(request: HttpRequest, name: str) -> HttpResponse:
    response = HttpResponse(status=301)
    response["Location"] = static(ROOT_ICONS[name])
    response["Cache-Control"] = "max-age=86400"
    return response


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
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            # Full-bleed, the drawing inside the safe circle: launchers crop it to their shape.
            {
                "src": static("icons/icon-maskable-192.png"),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "maskable",
            },
            {
                "src": static("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


# The app shell the service worker keeps for offline starts: static files and
# the offline page only. Never a page or API answer with someone's data in it.
SHELL_STATIC = [
    "css/site.css",
    "css/rooms.css",
    "css/pages.css",
    "css/onboarding.css",
    "js/sw-register.js",
    "js/chat-features.js",
    "js/chat.js",
    "js/inbox.js",
    "js/inbox-socket.js",
    # Loaded by the room page on first use (a profile card, a search, a measure, an edit).
    "js/chat-card.js",
    "js/chat-actions.js",
    "js/chat-search.js",
    "js/restriction.js",
    "js/room-list.js",
    "js/conversations.js",
    "js/relations.js",
    "moderation/report.js",
    "moderation/report.css",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
]


def _shell_files() -> list[tuple[str, bytes]]:
    """(URL, content) of each shell file that exists: one missing would make
    the worker's install fail, and with it the whole web app."""
    from django.contrib.staticfiles import finders

    files = []
    for name in SHELL_STATIC:
        if path := finders.find(name):
            files.append((static(name), Path(path).read_bytes()))
    return files


@functools.lru_cache(maxsize=1)
def _service_worker_script() -> str:
    from django.contrib.staticfiles import finders

    files = _shell_files()
    script = Path(finders.find("js/sw.js")).read_text()
    digest = hashlib.sha256(script.encode())
    for url, content in files:
        digest.update(url.encode() + b"\0" + content)
    offline_url = reverse("offline")
    config = {
        "version": digest.hexdigest()[:16],
        "shell": [url for url, _content in files] + [offline_url],
        "offline": offline_url,
    }
    return f"const CHATSITE_SW = {json.dumps(config)};\n{script}"


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """static/js/sw.js, served at the root so that its scope is the whole site,
    with the shell's URLs and a version that changes whenever a shell file
    does: the browser then installs the new worker, which drops the old cache.
    Computed once per process (files change with a deploy), each time under DEBUG."""
    script = _service_worker_script.__wrapped__() if settings.DEBUG else _service_worker_script()
    response = HttpResponse(script, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker on navigation: always ask the server.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page the service worker shows when the network is gone. It is
    cached, so it carries nobody's data (it does not extend base.html)."""
    return render(request, "offline.html")


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
