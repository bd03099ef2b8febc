"""Sanctions on live sockets: the in-memory layer, and channels-redis with the
banned user's sockets on two layer instances (two server processes)."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async

from core.refusals import RefusalCode
from moderation import actions
from moderation.models import Sanction
from rooms.models import Message
from rooms.protocol import CloseCode

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def sanction(user, moderator, kind, room=None, minutes=None):
    return actions.do_issue_sanction(
        user, actor=moderator, kind=kind, room=room, duration_minutes=minutes, reason="Motif."
    )


@database_sync_to_async
def move_into_the_past(sanction_, minutes):
    """Moves a sanction back in time instead of waiting for it to end."""
    shift = timedelta(minutes=minutes)
    sanction_ = Sanction.objects.get(pk=sanction_.pk)
    sanction_.starts_at -= shift
    sanction_.ends_at -= shift
    # Saved, not updated in bulk: like every write to a sanction, it tells the
    # processes that keep sanctions in memory (rooms/policy_cache.py).
    sanction_.save(update_fields=["starts_at", "ends_at"])


async def test_a_ban_closes_every_socket_on_every_process_and_reconnects_get_4403(
    two_layers, amake_room, amake_user, moderator, open_socket
):
    banned, bystander = await amake_user("banni"), await amake_user("temoin")
    first, second = await amake_room(slug="premier"), await amake_room(slug="second")
    here = await open_socket(banned, first.slug)
    elsewhere = await open_socket(banned, second.slug, other_process=True)
    watcher = await open_socket(bystander, first.slug, other_process=True)
    await watcher.receive_type("presence")

    await sanction(banned, moderator, "ban")

    assert await here.closed_with() == CloseCode.FORBIDDEN
    assert await elsewhere.closed_with() == CloseCode.FORBIDDEN
    assert await watcher.still_open()
    for slug, other_process in ((first.slug, False), (second.slug, True)):
        again = await open_socket(banned, slug, other_process=other_process)
        assert await again.closed_with() == CloseCode.FORBIDDEN


async def test_a_room_ban_closes_only_that_room(
    two_layers, amake_room, amake_user, moderator, open_socket
):
    banned = await amake_user()
    first, second = await amake_room(), await amake_room()
    here = await open_socket(banned, first.slug, other_process=True)
    elsewhere = await open_socket(banned, second.slug)
    await sanction(banned, moderator, "ban", room=first)
    assert await here.closed_with() == CloseCode.FORBIDDEN
    assert await elsewhere.still_open()
    await elsewhere.post("toujours là", "c1")
    assert (await elsewhere.receive_type("message.new"))["body"] == "toujours là"
    again = await open_socket(banned, first.slug)
    assert await again.closed_with() == CloseCode.FORBIDDEN


async def test_a_kick_closes_the_room_until_it_expires(
    two_layers, room, amake_user, moderator, open_socket
):
    kicked = await amake_user()
    socket = await open_socket(kicked, room.slug, other_process=True)
    kick = await sanction(kicked, moderator, "kick", room=room, minutes=10)
    assert await socket.closed_with() == CloseCode.FORBIDDEN
    refused = await open_socket(kicked, room.slug)
    assert await refused.closed_with() == CloseCode.FORBIDDEN
    await move_into_the_past(kick, 11)
    back = await open_socket(kicked, room.slug)
    await back.post("je suis revenu", "c2")
    assert (await back.receive_type("message.new"))["body"] == "je suis revenu"


async def test_a_muted_user_gets_muted_frames_until_it_expires(
    two_layers, room, amake_user, moderator, open_socket
):
    muted = await amake_user()
    socket = await open_socket(muted, room.slug, other_process=True)
    mute = await sanction(muted, moderator, "mute", minutes=30)
    await socket.post("je parle", "c1")
    frame = await socket.receive_type("error")
    assert frame["code"] == RefusalCode.MUTED
    assert frame["client_id"] == "c1"
    assert await socket.still_open()
    assert not await database_sync_to_async(Message.objects.filter(author=muted).exists)()
    await move_into_the_past(mute, 31)
    await socket.post("je reparle", "c2")
    assert (await socket.receive_type("message.new"))["body"] == "je reparle"


async def test_a_warning_leaves_the_sockets_open(
    two_layers, room, amake_user, moderator, open_socket
):
    warned = await amake_user()
    socket = await open_socket(warned, room.slug)
    await sanction(warned, moderator, "warn")
    assert await socket.still_open()


async def test_removal_broadcasts_message_deleted_to_every_process(
    two_layers, room, amake_user, moderator, open_socket
):
    author, reader = await amake_user(), await amake_user()
    writer = await open_socket(author, room.slug)
    other = await open_socket(reader, room.slug, other_process=True)
    await writer.post("à supprimer", "c1")
    posted = await writer.receive_type("message.new")
    await other.receive_type("message.new")
    message = await database_sync_to_async(Message.objects.get)(pk=posted["id"])
    await database_sync_to_async(actions.do_remove_message)(
        message, actor=moderator, reason="Insulte."
    )
    for socket in (writer, other):
        assert await socket.receive_type("message.deleted") == {
            "type": "message.deleted",
            "id": posted["id"],
        }
