"""The moderator's menu of a room's own moderators, in real browsers
(docs/moderation.md, "Modérateurs de salon"): without a verified second factor
the menu says so and links to its setup; with it, hiding a message takes it
off the members' open pages at once."""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from playwright.sync_api import expect

from tests.browser.test_moderation import open_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAID = "<b>hors sujet</b> et insultant"


@dataclass
class Setup:
    member_session: str
    moderator_session: str
    unverified_session: str
    message_id: int


def session_of(user, device=None) -> str:
    client = Client()
    client.force_login(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def setup(transactional_db, make_user, asgi_server) -> Setup:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from rooms import actions
    from rooms.models import RoomKind, RoomMembership, RoomRole

    room = actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="general", name="Général")
    member, moderator = make_user("membre"), make_user("modo")
    RoomMembership.objects.create(room=room, user=moderator, role=RoomRole.MODERATOR)
    device = TOTPDevice.objects.create(user=moderator, name="default", confirmed=True)
    message = actions.do_post_message(room, SAID, actor=member).message
    return Setup(
        member_session=session_of(member),
        moderator_session=session_of(moderator, device),
        unverified_session=session_of(moderator),
        message_id=message.pk,
    )


def test_a_room_moderator_hides_a_message_from_the_menu(setup, asgi_server, new_context):
    member = open_as(new_context, asgi_server, setup.member_session, "/rooms/general/")
    expect(member.locator("#chat-status")).to_have_text("Connecté")
    # Members get no menu at all.
    expect(member.locator("#room-moderate-dialog")).to_have_count(0)

    unverified = open_as(new_context, asgi_server, setup.unverified_session, "/rooms/general/")
    item = unverified.locator(f'#messages li[data-id="{setup.message_id}"]')
    item.locator(".room-moderate-button").click()
    dialog = unverified.locator("#room-moderate-dialog")
    # The member's words are quoted as text, never as markup.
    expect(dialog.locator(".room-moderate-quote")).to_have_text(SAID)
    dialog.locator("input[value=hide]").check()
    dialog.locator("textarea[name=reason]").fill("Hors sujet.")
    dialog.locator(".moderate-send").click()
    expect(dialog.locator(".moderate-error")).to_contain_text("double authentification")
    expect(dialog.locator(".room-moderate-otp a")).to_have_attribute(
        "href", "/accounts/otp/?next=%2Frooms%2Fgeneral%2F"
    )

    moderator = open_as(new_context, asgi_server, setup.moderator_session, "/rooms/general/")
    item = moderator.locator(f'#messages li[data-id="{setup.message_id}"]')
    item.locator(".room-moderate-button").click()
    dialog = moderator.locator("#room-moderate-dialog")
    expect(dialog.locator(".moderate-author")).to_have_text("membre")
    dialog.locator(".moderate-send").click()  # nothing chosen in advance
    expect(dialog.locator(".moderate-error")).to_have_text("Choisissez une mesure.")
    dialog.locator("input[value=hide]").check()
    dialog.locator("textarea[name=reason]").fill("Hors sujet.")
    dialog.locator(".moderate-send").click()
    expect(dialog.locator(".moderate-done")).to_be_visible()

    hidden = member.locator(f'#messages li[data-id="{setup.message_id}"]')
    expect(hidden).to_have_class("message mine deleted")
    for page in (member, unverified, moderator):
        assert page.csp_violations == []
