"""The staff console socket (/ws/staff/) through a real daphne server: refused
without a verified second factor or to a member, an urgent report filed through
the API arrives on an open console, a claim made on one console reaches the
other, and a sign-out closes that session's console (docs/protocol.md)."""

import asyncio
import json
import urllib.request

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect

from moderation.models import Report, ReportStatus
from rooms.protocol import CloseCode
from tests.conftest import staff_client
from tests.moderation.conftest import post_message
from tests.wsclient import TIMEOUT, close_code, cookie_header

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = "c" * 32


async def open_console(server, session_key: str | None, origin: str | None = None):
    headers = {"Cookie": cookie_header(session_key)} if session_key else {}
    return await connect(
        server.url.replace("http://", "ws://", 1) + "/ws/staff/",
        origin=origin or server.url,
        additional_headers=headers,
        open_timeout=TIMEOUT,
    )


async def next_console_frame(ws, frame_type: str, **match) -> dict:
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == frame_type and all(
                frame.get(key) == value for key, value in match.items()
            ):
                return frame


@database_sync_to_async
def staff_session(make_staff, *, otp_verified=True, role="moderator") -> str:
    client = staff_client(make_staff(role), otp_verified=otp_verified)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@database_sync_to_async
def member_session(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def post_json(server, path: str, session_key: str, payload: dict) -> tuple[int, dict]:
    """A fetch() from the site's own page: JSON, the CSRF cookie echoed in its header."""
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        server.url + path,
        data=json.dumps(payload).encode(),
        headers={
            "Content-Type": "application/json",
            "Cookie": f"{cookie_header(session_key)}; {settings.CSRF_COOKIE_NAME}={CSRF}",
            "X-CSRFToken": CSRF,
            "Referer": server.url + "/rooms/",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        return response.status, json.loads(response.read())


async def test_the_console_refuses_who_may_not_hold_it(asgi_server, make_staff, make_user):
    member = await database_sync_to_async(make_user)("membre")
    anonymous = await open_console(asgi_server, None)
    assert await close_code(anonymous) == CloseCode.NOT_AUTHENTICATED
    no_otp = await open_console(asgi_server, await staff_session(make_staff, otp_verified=False))
    assert await close_code(no_otp) == CloseCode.FORBIDDEN
    not_staff = await open_console(asgi_server, await member_session(member))
    assert await close_code(not_staff) == CloseCode.FORBIDDEN
    # Another site's page: refused at the handshake, as the room socket.
    with pytest.raises(Exception, match="403"):
        await open_console(asgi_server, await staff_session(make_staff), "http://evil.example")
    assert "Traceback" not in asgi_server.log()


async def test_an_urgent_report_and_a_claim_reach_every_open_console(
    asgi_server, make_staff, make_user, make_room
):
    room = await database_sync_to_async(make_room)(slug="general")
    author = await database_sync_to_async(make_user)("fautif")
    reporter = await database_sync_to_async(make_user)("temoin")
    message = await database_sync_to_async(post_message)(room, author, "tu as quel âge ?")
    first = await open_console(asgi_server, await staff_session(make_staff))
    second = await open_console(asgi_server, await staff_session(make_staff))
    for console in (first, second):
        hello = await next_console_frame(console, "console.counts")
        assert hello["counts"]["urgent"] == 0

    status, body = await asyncio.to_thread(
        post_json,
        asgi_server,
        "/api/reports/",
        await member_session(reporter),
        {"message": message.pk, "category": "child_safety", "details": "<b>mineure</b>"},
    )
    assert status == 201
    for console in (first, second):
        frame = await next_console_frame(console, "report.new")
        assert frame["report"]["id"] == body["id"]
        assert frame["report"]["severity"] == 1 and frame["counts"]["urgent"] == 1
        # No member's name and no text on a console line.
        assert "temoin" not in json.dumps(frame) and "mineure" not in json.dumps(frame)

    await first.send(json.dumps({"type": "report.claim", "id": body["id"]}))
    claimed = await next_console_frame(second, "report.updated", event="claimed")
    assert claimed["report"]["id"] == body["id"]
    assert claimed["report"]["status"] == ReportStatus.CLAIMED
    assert claimed["by"] == claimed["report"]["claimed_by"]
    report = await database_sync_to_async(Report.objects.get)(pk=body["id"])
    assert report.status == ReportStatus.CLAIMED

    # The second console tries the same: refused with an error frame, socket open.
    await second.send(json.dumps({"type": "report.claim", "id": body["id"]}))
    error = await next_console_frame(second, "error")
    assert error["code"] == "conflict" and error["id"] == body["id"]
    await first.close()
    await second.close()


async def test_signing_out_closes_that_sessions_console(asgi_server, make_staff):
    session = await staff_session(make_staff)
    console = await open_console(asgi_server, session)
    await next_console_frame(console, "console.counts")
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        asgi_server.url + "/accounts/logout/",
        data=b"",
        headers={
            "Cookie": f"{cookie_header(session)}; {settings.CSRF_COOKIE_NAME}={CSRF}",
            "X-CSRFToken": CSRF,
            "Referer": asgi_server.url + "/",
        },
        method="POST",
    )
    await asyncio.to_thread(urllib.request.urlopen, request, timeout=TIMEOUT)
    assert await close_code(console) == CloseCode.NOT_AUTHENTICATED
