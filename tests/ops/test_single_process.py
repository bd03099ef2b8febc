"""One daphne process with DEBUG=0 is a working deployment (issue 15): it
serves its own static files, hashed and compressed, and opens WebSockets
only to its exact origins. Everything here goes through a real daphne server."""

import os
import re
import subprocess
import sys
import urllib.request

import pytest
from django.conf import settings
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.servers import ROOT, database_url, free_port, start_daphne

pytestmark = pytest.mark.django_db(transaction=True)

EXTRA_ORIGIN = "https://chat.example.org"


@pytest.fixture
def production_server(tmp_path):
    """DEBUG=0, no reverse proxy: `collectstatic` then daphne, as `make run` does."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "EMAIL_URL", "AGE_ATTESTATION_PROVIDER_URL", "SITE_URL"}
    }
    env.update(
        DEBUG="0",
        SERVE_STATIC="1",
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        SITE_URL=f"http://127.0.0.1:{port}",
        ALLOWED_ORIGINS=EXTRA_ORIGIN,
        ALLOWED_HOSTS="127.0.0.1",
        CHATSITE_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="chatsite.settings",
        LOG_LEVEL="WARNING",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server = start_daphne(env, tmp_path / "daphne.log", port=port)
    yield server
    server.kill()


def production_server_static(server):
    return server.log_path.parent / "var" / "static"


def fetch(url: str, **headers) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_the_pages_styles_and_scripts_come_from_the_process_itself(production_server):
    status, _headers, body = fetch(production_server.url + "/accounts/login/")
    assert status == 200
    page = body.decode()
    # The page names its files by content hash (ManifestStaticFilesStorage).
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page)
    assert assets, page[:500]
    for path in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", path), path
        status, headers, body = fetch(production_server.url + path, **{"Accept-Encoding": "gzip"})
        assert status == 200 and body
        # Hashed names never change content: cached for good.
        assert "immutable" in headers["cache-control"]
        assert "max-age=315360000" in headers["cache-control"]
        assert headers.get("content-encoding") == "gzip"  # compressed at collectstatic
    # The room page's own script and style, under their hashed names too.
    manifest = (production_server_static(production_server) / "staticfiles.json").read_text()
    for name in ("js/chat.js", "css/rooms.css"):
        hashed = re.search(rf'"{re.escape(name)}": "([^"]+)"', manifest).group(1)
        status, headers, _body = fetch(f"{production_server.url}/static/{hashed}")
        assert status == 200 and "immutable" in headers["cache-control"]


def test_a_socket_opens_only_from_the_exact_origin(production_server):
    url = production_server.ws_url + "/ws/rooms/general/"
    port = production_server.port
    for origin in (production_server.url, EXTRA_ORIGIN):
        # Past the Origin check: accepted, then closed by the app (4401, no session).
        with (
            connect(url, origin=origin, open_timeout=10) as socket,
            pytest.raises(ConnectionClosed) as closed,
        ):
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401, origin
    for origin in (
        f"http://127.0.0.1:{port + 1}",  # another port of the same host
        f"https://127.0.0.1:{port}",  # another scheme
        f"http://localhost:{port}",  # another host name
        "https://chat.example.org:8443",
        "null",
    ):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin=origin, open_timeout=10)
        assert refused.value.response.status_code == 403, origin
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)  # no Origin at all
    assert refused.value.response.status_code == 403
