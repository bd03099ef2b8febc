"""Revocation on the embedded default (SQLite, in-memory layer, one daphne, as
`make run`): a sign-out, an account closure and a password change made over HTTP, as a
browser makes them, close the sockets they end with 4401, and a block made from
the page's API closes the direct conversation's sockets of both people with 4403,
within the revocation timeout.
tests/rooms/test_revocation.py proves every path across two processes on
PostgreSQL and Redis."""

import asyncio
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

from tests import embedded
from tests.wsclient import TIMEOUT, close_code, joined, next_frame, open_ws

ROOM = "salon"
PASSWORD = "correct-horse-battery-staple-42"  # tests/embedded.py's accounts
REVOCATION_TIMEOUT = 2


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One browser's cookies (session, CSRF) over plain HTTP, redirects not followed."""

    def __init__(self, server, session_key: str | None = None):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )
        if session_key:
            self._set_cookie(settings.SESSION_COOKIE_NAME, session_key)

    def _set_cookie(self, name: str, value: str) -> None:
        self.jar.set_cookie(
            http.cookiejar.Cookie(
                0, name, value, None, False, "127.0.0.1", False, False, "/", True,
                False, None, False, None, None, {},
            )
        )  # fmt: skip

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    @property
    def session_key(self) -> str:
        return self.cookie(settings.SESSION_COOKIE_NAME)

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def get_json(self, path: str) -> tuple[int, dict]:
        status, body = self._open(urllib.request.Request(self.server.url + path))  # noqa: S310
        return status, json.loads(body)

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        """The page first (its CSRF token), then the form, as a browser submits it."""
        return self.post_form_from(path, path, fields)

    def post_form_from(self, page: str, action: str, fields: dict[str, str] | None = None) -> int:
        """Submits a form of `page` whose action is `action`."""
        status, html = self._open(urllib.request.Request(self.server.url + page))  # noqa: S310
        assert status == 200, (page, status)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **(fields or {})}).encode()
        return self._open(urllib.request.Request(self.server.url + action, data=data))[0]  # noqa: S310

    def post_json(self, path: str, payload: dict) -> tuple[int, dict]:
        """A fetch() from a page of the site: JSON body, the CSRF cookie echoed in its header."""
        if self.cookie(settings.CSRF_COOKIE_NAME) is None:
            self._open(urllib.request.Request(self.server.url + "/rooms/"))  # noqa: S310
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
            self.server.url + path,
            data=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": self.cookie(settings.CSRF_COOKIE_NAME),
                "Origin": self.server.url,
                "Referer": self.server.url + "/rooms/",
            },
        )
        status, body = self._open(request)
        return status, json.loads(body) if body.strip().startswith("{") else {}


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

        status = await asyncio.to_thread(
            Browser(server, leaving).post_form, "/accounts/logout/", {}
        )
        assert status == 302
        assert await close_code(signed_out, timeout=REVOCATION_TIMEOUT) == 4401

        status = await asyncio.to_thread(
            Browser(server, closing).post_form,
            "/accounts/delete/",
            {"password": PASSWORD, "confirm": "on"},
        )
        assert status == 302
        assert await close_code(closed, timeout=REVOCATION_TIMEOUT) == 4401
        log = server.log()
        assert "Traceback" not in log, log[-3000:]
    finally:
        server.kill()


async def test_password_change_and_block_close_their_sockets_on_sqlite(embedded_template, tmp_path):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 2, ROOM)
    server = await asyncio.to_thread(embedded.start_embedded, var_dir, tmp_path / "daphne.log")
    try:
        # Two browsers of person0: the phone changes the password, the laptop's
        # session ends; the phone's own socket stays open.
        phone = Browser(server, cookies["person0"])
        laptop = Browser(server)
        status = await asyncio.to_thread(
            laptop.post_form, "/accounts/login/", {"login": "person0", "password": PASSWORD}
        )
        assert status == 302 and laptop.session_key not in (None, phone.session_key)
        phone_ws = await open_ws(server, ROOM, phone.session_key)
        await joined(phone_ws, "person0")
        laptop_ws = await open_ws(server, ROOM, laptop.session_key)
        # person0 is online already: no presence frame; an echo proves the socket listens.
        await laptop_ws.send(json.dumps({"type": "message.send", "body": "ici", "client_id": "l1"}))
        assert (await next_frame(laptop_ws, "message.new"))["client_id"] == "l1"

        new_password = PASSWORD + "-changed"
        status = await asyncio.to_thread(
            phone.post_form,
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
        )
        assert status == 302
        assert await close_code(laptop_ws, timeout=REVOCATION_TIMEOUT) == 4401
        await phone_ws.send(
            json.dumps({"type": "message.send", "body": "toujours là", "client_id": "p1"})
        )
        while (frame := await next_frame(phone_ws, "message.new"))["client_id"] != "p1":
            pass
        assert frame["body"] == "toujours là"
        await phone_ws.close()

        # A direct conversation, asked and accepted through the site, then a block.
        other = Browser(server, cookies["person1"])
        status, body = await asyncio.to_thread(phone.post_json, "/api/dm/", {"username": "person1"})
        assert status == 200, body
        direct = body["room"]
        asker = await open_ws(server, direct, phone.session_key)
        await asker.send(json.dumps({"type": "message.send", "body": "salut", "client_id": "d1"}))
        await next_frame(asker, "message.new")  # held until accepted, shown to the asker
        status, inbox = await asyncio.to_thread(other.get_json, "/api/conversations/")
        assert status == 200 and inbox["requests"], inbox
        request_id = inbox["requests"][0]["id"]
        status = await asyncio.to_thread(
            other.post_form_from, "/conversations/", f"/conversations/requests/{request_id}/accept/"
        )
        assert status == 302
        answerer = await open_ws(server, direct, other.session_key)
        await answerer.send(json.dumps({"type": "message.send", "body": "oui", "client_id": "d2"}))
        while (await next_frame(answerer, "message.new"))["client_id"] != "d2":
            pass

        status, body = await asyncio.to_thread(
            other.post_json, "/api/blocks/", {"username": "person0"}
        )
        assert status == 201, body
        assert await close_code(asker, timeout=REVOCATION_TIMEOUT) == 4403
        assert await close_code(answerer, timeout=REVOCATION_TIMEOUT) == 4403
        log = server.log()
        assert "Traceback" not in log, log[-3000:]
    finally:
        server.kill()
