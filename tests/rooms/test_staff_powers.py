"""Staff powers in the chat only with a verified second factor, as in the admin:
staff signed in with a password alone are any member (no archived rooms, slow
mode and filters apply); the same staff in an OTP-verified session keep them."""

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from core.refusals import RefusalCode
from moderation.models import FilterAction, FilterKind, FilterRule
from rooms import actions
from rooms.protocol import CloseCode
from tests.conftest import otp_verified as otp_verified_user
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(make_staff):
    """A moderator who also chats: a verified address and age, as any member."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.models import AgeVerificationMethod

    user = make_staff("moderator")
    user.age_verified_at = timezone.now()
    user.age_verification_method = AgeVerificationMethod.ATTESTATION
    user.save(update_fields=["age_verified_at", "age_verification_method"])
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": True}
    )
    return user


@database_sync_to_async
def staff_session(user, *, otp_verified: bool) -> str:
    client = staff_client(user, otp_verified=otp_verified)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@database_sync_to_async
def archive(room, admin):
    return actions.do_archive_room(room, actor=admin, reason="Fermé.")


@pytest.mark.parametrize("otp_verified", [False, True])
async def test_archived_rooms_only_with_the_second_factor(
    channel_layer_backend, staff, amake_room, open_socket, otp_verified
):
    room = await amake_room(slug="archive")
    # Archiving is a staff power too: done in an OTP-verified session.
    await archive(room, await database_sync_to_async(otp_verified_user)(staff))
    session = await staff_session(staff, otp_verified=otp_verified)
    socket = await open_socket(staff, room.slug, session_key=session)
    if otp_verified:
        assert (await socket.receive_type("presence"))["users"] == [staff.username]
    else:
        assert await socket.closed_with() == CloseCode.NOT_FOUND


@pytest.mark.parametrize("otp_verified", [False, True])
async def test_slow_mode_and_filters_bind_staff_without_the_second_factor(
    channel_layer_backend, staff, amake_room, open_socket, otp_verified
):
    room = await amake_room(slug="lent", slow_mode_seconds=60)
    await database_sync_to_async(FilterRule.objects.create)(
        name="mot", kind=FilterKind.WORDS, action=FilterAction.BLOCK, pattern="interdit"
    )
    session = await staff_session(staff, otp_verified=otp_verified)
    socket = await open_socket(staff, room.slug, session_key=session)

    async def reply_to(body: str, client_id: str) -> dict:
        await socket.post(body, client_id)
        frame = await socket.receive()
        while frame["type"] == "presence":
            frame = await socket.receive()
        return frame

    # A filtered text stores nothing, so slow mode has not started yet.
    filtered = await reply_to("un mot interdit", "c1")
    first = await reply_to("premier", "c2")
    assert (first["type"], first["client_id"]) == ("message.new", "c2")
    second = await reply_to("second", "c3")
    if otp_verified:
        assert (filtered["type"], second["type"]) == ("message.new", "message.new")
    else:
        assert (filtered["type"], filtered["code"]) == ("error", RefusalCode.FILTERED)
        assert (second["type"], second["code"]) == ("error", RefusalCode.RATE_LIMITED)
