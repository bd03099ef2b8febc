"""Revocation on the embedded default (SQLite, in-memory layer, one daphne, as
`make run`): a sign-out and an account closure made over HTTP, as a browser
makes them, close the sockets they end with 4401 within the revocation timeout.
tests/rooms/test_revocation.py proves every path across two processes on
PostgreSQL and Redis."""

import asyncio
import re
import urllib.parse
import urllib.request

from tests import embedded
from tests.wsclient import TIMEOUT, close_code, cookie_header, joined, open_ws

ROOM = "salon"
PASSWORD = "correct-horse-battery-staple-42"  # tests/embedded.py's accounts
REVOCATION_TIMEOUT = 2


def post_form(url: str, session_key: str, fields: dict[str, str]) -> int:
    """A browser's form POST: the page first (its CSRF token), then the form;
    the status, redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirect)
    cookie = cookie_header(session_key)
    page = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - http://127.0.0.1
    with opener.open(page, timeout=TIMEOUT) as response:
        html = response.read().decode()
        csrf_cookie = re.search(r"csrftoken=([^;]+)", response.headers["Set-Cookie"]).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        url,
        data=urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode(),
        headers={"Cookie": f"{cookie}; csrftoken={csrf_cookie}"},
    )
    try:
        with opener.open(form, timeout=TIMEOUT) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


async def test_sign_out_and_closure_close_their_sockets_on_sqlite(embedded_template, tmp_path):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 2, ROOM)
    server = await asyncio.to_thread(embedded.start_embedded, var_dir, tmp_path / "daphne.log")
    try:
        leaving, closing = cookies["person0"], cookies["person1"]
        signed_out = await open_ws(server, ROOM, leaving)
        await joined(signed_out, "person0")
        closed = await open_ws(server, ROOM, closing)
        await joined(closed, "person1")

        status = await asyncio.to_thread(post_form, f"{server.url}/accounts/logout/", leaving, {})
        assert status == 302
        assert await close_code(signed_out, timeout=REVOCATION_TIMEOUT) == 4401

        status = await asyncio.to_thread(
            post_form,
            f"{server.url}/accounts/delete/",
            closing,
            {"password": PASSWORD, "confirm": "on"},
        )
        assert status == 302
        assert await close_code(closed, timeout=REVOCATION_TIMEOUT) == 4401
        log = server.log()
        assert "Traceback" not in log, log[-3000:]
    finally:
        server.kill()
