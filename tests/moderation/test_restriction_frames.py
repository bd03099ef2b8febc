"""The `restriction` frame: a mute, a kick or a ban named to the open pages it
concerns, live, on every server process (docs/protocol.md, "Restrictions")."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from moderation import actions
from moderation.models import Sanction, StatementOfReasons
from rooms import notify
from rooms.protocol import CloseCode
from tests.moderation.test_live import sanction

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def statement_url(sanction_) -> str:
    return StatementOfReasons.objects.get(sanction=sanction_).get_absolute_url()


async def no_restriction_frame(socket, timeout: float = 0.5) -> bool:
    """No `restriction` frame within `timeout` (others are skipped)."""
    while not await socket.communicator.receive_nothing(timeout=timeout):
        frame = await socket.receive()
        if frame["type"] == "restriction":
            return False
    return True


async def test_a_site_wide_mute_is_named_live_on_every_process_then_its_lifting(
    two_layers, amake_room, amake_user, moderator, open_socket
):
    muted = await amake_user()
    first, second = await amake_room(), await amake_room()
    here = await open_socket(muted, first.slug)
    elsewhere = await open_socket(muted, second.slug, other_process=True)

    mute = await sanction(muted, moderator, "mute", minutes=90)

    url = await statement_url(mute)
    for socket in (here, elsewhere):
        frame = await socket.receive_type("restriction")
        assert frame == {
            "type": "restriction",
            "measure": "mute",
            "scope": "site",
            "until": mute.ends_at.isoformat(),
            "label": "Mise en sourdine sur tout le site",
            "detail": "Vous pouvez lire, pas écrire.",
            "statement": url,
            "can_appeal": True,
        }
        assert await socket.still_open()

    await database_sync_to_async(actions.do_lift_sanction)(mute, actor=moderator, reason="Levée.")
    for socket in (here, elsewhere):
        frame = await socket.receive_type("restriction")
        assert frame["measure"] is None and frame["statement"] is None
    await here.post("je reparle", "c1")
    assert (await here.receive_type("message.new"))["body"] == "je reparle"


async def test_a_room_mute_is_named_in_that_room_only(
    two_layers, amake_room, amake_user, moderator, open_socket
):
    muted = await amake_user()
    first, second = await amake_room(), await amake_room()
    here = await open_socket(muted, first.slug, other_process=True)
    elsewhere = await open_socket(muted, second.slug)
    await sanction(muted, moderator, "mute", room=first, minutes=10)
    frame = await here.receive_type("restriction")
    assert (frame["measure"], frame["scope"]) == ("mute", "room")
    assert await no_restriction_frame(elsewhere)


async def test_a_socket_opened_while_muted_is_told_first(room, amake_user, moderator, open_socket):
    muted = await amake_user()
    mute = await sanction(muted, moderator, "mute")  # permanent
    socket = await open_socket(muted, room.slug)
    frame = await socket.receive()
    assert frame["type"] == "restriction"
    assert (frame["measure"], frame["until"]) == ("mute", None)
    assert frame["statement"] == await statement_url(mute)


async def test_a_timed_mute_that_ends_is_told_without_any_event(
    room, amake_user, moderator, open_socket
):
    muted = await amake_user()
    socket = await open_socket(muted, room.slug)
    mute = await sanction(muted, moderator, "mute", minutes=30)
    assert (await socket.receive_type("restriction"))["measure"] == "mute"

    # The mute now ends in a moment: the socket reads it again after its end.
    soon = timezone.now() + timedelta(milliseconds=300)
    await database_sync_to_async(Sanction.objects.filter(pk=mute.pk).update)(ends_at=soon)
    await database_sync_to_async(notify.restriction_changed)(muted.pk, None)
    assert (await socket.receive_type("restriction"))["until"] == soon.isoformat()
    ended = await socket.receive_type("restriction")
    assert ended["measure"] is None


async def test_a_ban_is_named_before_the_socket_closes_and_on_reconnect(
    two_layers, room, amake_user, moderator, open_socket
):
    banned = await amake_user()
    socket = await open_socket(banned, room.slug, other_process=True)
    ban = await sanction(banned, moderator, "ban", room=room, minutes=60 * 24)
    frame = await socket.receive_type("restriction")
    assert (frame["measure"], frame["scope"]) == ("ban", "room")
    assert frame["until"] == ban.ends_at.isoformat()
    assert frame["statement"] == await statement_url(ban)
    assert await socket.closed_with() == CloseCode.FORBIDDEN

    again = await open_socket(banned, room.slug)
    frame = await again.receive()
    assert (frame["type"], frame["measure"]) == ("restriction", "ban")
    assert await again.closed_with() == CloseCode.FORBIDDEN


async def test_a_kick_is_named_before_the_socket_closes(room, amake_user, moderator, open_socket):
    kicked = await amake_user()
    socket = await open_socket(kicked, room.slug)
    await sanction(kicked, moderator, "kick", room=room, minutes=15)
    frame = await socket.receive_type("restriction")
    assert (frame["measure"], frame["scope"]) == ("kick", "room")
    assert frame["label"] == "Exclusion temporaire de ce salon"
    assert await socket.closed_with() == CloseCode.FORBIDDEN


async def test_a_warning_sends_no_restriction(room, amake_user, moderator, open_socket):
    warned = await amake_user()
    socket = await open_socket(warned, room.slug)
    await sanction(warned, moderator, "warn")
    assert await no_restriction_frame(socket)
