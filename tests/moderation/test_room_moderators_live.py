"""A room moderator's kick through the real server (daphne): the API call
closes the member's open socket in that room with 4403, after the
`restriction` frame naming the measure, as a staff kick does."""

import json
import urllib.request

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from rooms.models import RoomMembership, RoomRole
from rooms.protocol import CloseCode
from tests.browser.conftest import asgi_server, asgi_server_env  # noqa: F401
from tests.wsclient import TIMEOUT, close_code, joined, next_frame, open_ws

pytestmark = pytest.mark.django_db(transaction=True)

CSRF_TOKEN = "k" * 32


@database_sync_to_async
def session_of(user, *, second_factor: bool = False) -> str:
    client = Client()
    client.force_login(user)
    if second_factor:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def post(server, path: str, session_key: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        server.url + path,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={CSRF_TOKEN}",
            "X-CSRFToken": CSRF_TOKEN,
            "Origin": server.url,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_a_room_moderators_kick_closes_the_members_socket(asgi_server, make_user, make_room):  # noqa: F811
    room = await database_sync_to_async(make_room)(slug="salon")
    member = await database_sync_to_async(make_user)("membre")
    moderator = await database_sync_to_async(make_user)("modo")
    await database_sync_to_async(RoomMembership.objects.create)(
        room=room, user=moderator, role=RoomRole.MODERATOR
    )
    member_session = await session_of(member)
    ws = await open_ws(asgi_server, room.slug, member_session)
    await joined(ws, "membre")

    kick = {"user": "membre", "kind": "kick", "duration_minutes": 10, "reason": "Flood."}
    path = f"/api/rooms/{room.slug}/moderation/restrict/"
    # Without the second factor: refused, and the socket stays open.
    status, body = await database_sync_to_async(post)(
        asgi_server, path, await session_of(moderator), kick
    )
    assert (status, body["error"]) == (403, "otp_required")

    status, body = await database_sync_to_async(post)(
        asgi_server, path, await session_of(moderator, second_factor=True), kick
    )
    assert status == 201, body
    frame = await next_frame(ws, "restriction")
    assert (frame["measure"], frame["scope"]) == ("kick", "room")
    assert await close_code(ws) == CloseCode.FORBIDDEN
    # Back in the room while the kick lasts: refused at once.
    again = await open_ws(asgi_server, room.slug, member_session)
    assert await close_code(again) == CloseCode.FORBIDDEN
    assert "Traceback" not in asgi_server.log()
