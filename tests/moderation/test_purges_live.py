"""Ban and purge through a real daphne server: the moderator's API call hides the
raider's messages on the open sockets of everyone (`message.deleted`) and closes
the raider's own sockets with 4403, as a browser sees it."""

import json
import secrets
import urllib.error
import urllib.request

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from rooms.models import Message
from rooms.protocol import CloseCode
from tests.browser.conftest import asgi_server, asgi_server_env  # noqa: F401
from tests.conftest import staff_client
from tests.moderation.conftest import post_message
from tests.wsclient import close_code, joined, next_frame, open_ws

pytestmark = pytest.mark.django_db(transaction=True)


def session_of(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def api_post(server, path: str, session_key: str, data: dict) -> tuple[int, dict]:
    """A JSON POST as the page's script sends it: session cookie, CSRF cookie and header."""
    token = secrets.token_hex(16)  # 32 alphanumeric characters, as Django makes them
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        server.url + path,
        data=json.dumps(data).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; csrftoken={token}",
            "X-CSRFToken": token,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@database_sync_to_async
def scene(make_user, make_room, make_staff):
    from django.test import Client

    raider, witness = make_user("raider"), make_user("temoin")
    lobby, games = make_room(slug="lobby"), make_room(slug="jeux")
    hidden = [
        post_message(lobby, raider, "spam 1"),
        post_message(games, raider, "spam 2"),
    ]
    moderator = make_staff()
    sessions = {}
    for user in (raider, witness):
        client = Client()
        client.force_login(user)
        sessions[user.username] = session_of(client)
    sessions["moderator"] = session_of(staff_client(moderator))
    return hidden, sessions


async def test_purge_reaches_open_sockets_through_the_server(
    asgi_server,  # noqa: F811
    make_user,
    make_room,
    make_staff,
):
    hidden, sessions = await scene(make_user, make_room, make_staff)
    witness_lobby = await open_ws(asgi_server, "lobby", sessions["temoin"])
    witness_games = await open_ws(asgi_server, "jeux", sessions["temoin"])
    await joined(witness_lobby, "temoin")
    await joined(witness_games, "temoin")
    raider_socket = await open_ws(asgi_server, "lobby", sessions["raider"])
    await joined(raider_socket, "raider")

    status, body = await database_sync_to_async(api_post)(
        asgi_server,
        "/api/moderation/sanctions/",
        sessions["moderator"],
        {
            "user": "raider",
            "kind": "ban",
            "room": None,
            "duration_minutes": None,
            "reason": "Raid de spam.",
            "purge_hours": 1,
        },
    )
    assert status == 201, body
    assert body["purged_messages"] == 2

    assert (await next_frame(witness_lobby, "message.deleted"))["id"] == hidden[0].pk
    assert (await next_frame(witness_games, "message.deleted"))["id"] == hidden[1].pk
    assert await close_code(raider_socket) == CloseCode.FORBIDDEN
    again = await open_ws(asgi_server, "jeux", sessions["raider"])
    assert await close_code(again) == CloseCode.FORBIDDEN
    count = await database_sync_to_async(
        Message.objects.filter(deleted_at__isnull=False, body__startswith="spam").count
    )()
    assert count == 2
    for ws in (witness_lobby, witness_games):
        await ws.close()
