"""Access that ends closes its sockets within a second, on every server process.

Two real daphne processes share PostgreSQL and Redis (the `cluster` fixture);
the person's sockets are spread over both, and the end of access happens as a
user or an administrator makes it: allauth's pages, the account page, Django's
admin way of saving a user or deleting a membership, our actions. Each close
must arrive within REVOCATION_TIMEOUT (a receive timeout, not a measurement).
"""

import asyncio
import json

import pytest
from allauth.account.internal.flows.password_reset import reset_password
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from moderation.actions import do_issue_sanction
from rooms import actions
from rooms.models import RoomKind, RoomMembership
from rooms.protocol import CloseCode
from tests.conftest import DEFAULT_PASSWORD
from tests.wsclient import close_code, next_frame, open_ws

pytestmark = pytest.mark.django_db(transaction=True)

REVOCATION_TIMEOUT = 2
NEW_PASSWORD = "another-long-passphrase-77"


@pytest.fixture
def two_servers(cluster):
    return cluster(2)


@database_sync_to_async
def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def socket(server, slug: str, client: Client, username: str):
    """An open socket. The server accepts the handshake only once the socket
    listens to its groups (user, session, room), so it is in them on return."""
    return await open_ws(server, slug, key(client))


async def still_open(ws, username: str, client_id: str) -> None:
    """The socket still works: a post comes back."""
    await ws.send(json.dumps({"type": "message.send", "body": "encore là", "client_id": client_id}))
    assert (await next_frame(ws, "message.new"))["client_id"] == client_id


async def closed_at_once(ws) -> int:
    return await close_code(ws, timeout=REVOCATION_TIMEOUT)


@pytest.fixture
def people(make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    room = make_room(slug="salon")
    return alice, bob, room


async def test_sign_out_closes_only_that_sessions_sockets(two_servers, people):
    alice, _bob, room = people
    first, second = await signed_in(alice), await signed_in(alice)
    here = await socket(two_servers[0], room.slug, first, "alice")
    there = await socket(two_servers[1], room.slug, first, "alice")
    other_session = await socket(two_servers[1], room.slug, second, "alice")

    await database_sync_to_async(first.post)("/accounts/logout/")

    assert await closed_at_once(here) == CloseCode.NOT_AUTHENTICATED
    assert await closed_at_once(there) == CloseCode.NOT_AUTHENTICATED
    await still_open(other_session, "alice", "s-1")
    await other_session.close()


async def test_a_password_change_closes_every_other_session(two_servers, people):
    alice, _bob, room = people
    changer, other = await signed_in(alice), await signed_in(alice)
    mine = await socket(two_servers[0], room.slug, changer, "alice")
    theirs = [await socket(server, room.slug, other, "alice") for server in two_servers]

    response = await database_sync_to_async(changer.post)(
        "/accounts/password/change/",
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302

    for ws in theirs:
        assert await closed_at_once(ws) == CloseCode.NOT_AUTHENTICATED
    # The session that changed it keeps its socket (past the grace check too).
    await asyncio.sleep(1)
    await still_open(mine, "alice", "p-1")
    await mine.close()


async def test_a_password_reset_closes_every_session(two_servers, people):
    alice, _bob, room = people
    sockets = [
        await socket(server, room.slug, await signed_in(alice), "alice") for server in two_servers
    ]
    user = await database_sync_to_async(get_user_model().objects.get)(pk=alice.pk)
    await database_sync_to_async(reset_password)(user, NEW_PASSWORD)
    for ws in sockets:
        assert await closed_at_once(ws) == CloseCode.NOT_AUTHENTICATED


async def test_deactivation_closes_every_socket(two_servers, people):
    alice, _bob, room = people
    client = await signed_in(alice)
    sockets = [await socket(server, room.slug, client, "alice") for server in two_servers]

    def deactivate():  # as the admin's change form saves it
        user = get_user_model().objects.get(pk=alice.pk)
        user.is_active = False
        user.save()

    await database_sync_to_async(deactivate)()
    for ws in sockets:
        assert await closed_at_once(ws) == CloseCode.NOT_AUTHENTICATED


async def test_account_closure_closes_every_socket(two_servers, people):
    alice, _bob, room = people
    client = await signed_in(alice)
    elsewhere = await signed_in(alice)
    sockets = [
        await socket(two_servers[0], room.slug, client, "alice"),
        await socket(two_servers[1], room.slug, elsewhere, "alice"),
    ]
    response = await database_sync_to_async(client.post)(
        "/accounts/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"}
    )
    assert response.status_code == 302
    for ws in sockets:
        assert await closed_at_once(ws) == CloseCode.NOT_AUTHENTICATED


async def test_removal_from_a_private_room_closes_that_rooms_sockets(
    two_servers, people, make_room
):
    alice, bob, room = people
    private = await database_sync_to_async(make_room)(RoomKind.PRIVATE, owner=bob, slug="prive")
    await database_sync_to_async(RoomMembership.objects.create)(room=private, user=alice)
    client = await signed_in(alice)
    inside = [await socket(server, private.slug, client, "alice") for server in two_servers]
    public = await socket(two_servers[0], room.slug, client, "alice")

    # As the admin's membership inline deletes it.
    membership = await database_sync_to_async(RoomMembership.objects.get)(room=private, user=alice)
    await database_sync_to_async(membership.delete)()

    for ws in inside:
        assert await closed_at_once(ws) == CloseCode.FORBIDDEN
    await still_open(public, "alice", "r-1")
    await public.close()
    again = await open_ws(two_servers[1], private.slug, key(client))
    assert await close_code(again) == CloseCode.FORBIDDEN


async def test_a_block_closes_the_direct_room(two_servers, people):
    alice, bob, _room = people
    room = await database_sync_to_async(actions.do_open_direct_room)(bob, actor=alice)
    client = await signed_in(alice)
    ws = await socket(two_servers[1], room.slug, client, "alice")
    await database_sync_to_async(actions.do_block_user)(alice, actor=bob)
    assert await closed_at_once(ws) == CloseCode.FORBIDDEN


@pytest.mark.parametrize("kind", ["ban", "kick"])
async def test_a_ban_or_a_kick_closes_the_sockets(two_servers, people, make_staff, kind):
    alice, _bob, room = people
    moderator = await database_sync_to_async(make_staff)("moderator")
    client = await signed_in(alice)
    sockets = [await socket(server, room.slug, client, "alice") for server in two_servers]
    await database_sync_to_async(do_issue_sanction)(
        alice,
        actor=moderator,
        kind=kind,
        room=room,
        duration_minutes=10 if kind == "kick" else None,
        reason="Motif.",
    )
    for ws in sockets:
        assert await closed_at_once(ws) == CloseCode.FORBIDDEN
