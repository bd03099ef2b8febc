"""A member's second factor (/accounts/otp/): room moderators enrol a TOTP app
and, at each new session, verify it before they may moderate
(docs/moderation.md, "Modérateurs de salon")."""

import json

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from rooms.models import RoomMembership, RoomRole
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db

URL = "/accounts/otp/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def code_of(device: TOTPDevice, *, ahead: int = 0) -> str:
    """The app's code, `ahead` steps on (a code once used is refused again;
    the device accepts the next step's)."""
    device.throttle_reset()
    t0 = device.t0 - ahead * device.step
    return f"{totp(device.bin_key, device.step, t0, device.digits, device.drift):06d}"


def test_a_room_moderator_enrols_then_verifies_each_new_session(make_user, make_room, settings):
    settings.MESSAGE_RATE_LIMIT = "off"
    room = make_room(slug="salon")
    moderator = make_user("modo")
    RoomMembership.objects.create(room=room, user=moderator, role=RoomRole.MODERATOR)
    said = post_message(room, make_user("membre"), "hors sujet")
    hide = f"/api/rooms/{room.slug}/moderation/hide/"
    payload = json.dumps({"message": said.pk, "reason": "Hors sujet."})

    client = signed_in(moderator)
    refused = client.post(hide, payload, content_type="application/json")
    assert refused.json()["error"] == "otp_required"
    assert signed_in(moderator).get("/accounts/profile/").content.decode().count(URL) == 1

    page = client.get(URL, {"next": "/rooms/salon/"})
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text
    device = TOTPDevice.objects.get(user=moderator, confirmed=False)
    assert client.post(URL, {"token": "000000"}).status_code == 400
    done = client.post(URL, {"token": code_of(device), "next": "/rooms/salon/"})
    assert done.status_code == 200 and 'id="otp-verified"' in done.text
    assert StaticToken.objects.filter(device__user=moderator).count() == 10
    assert client.post(hide, payload, content_type="application/json").status_code == 201

    # A new session: the password alone is not enough; a code verifies it.
    later = signed_in(moderator)
    assert later.post(hide, payload, content_type="application/json").status_code == 403
    page = later.get(URL)
    assert page.status_code == 200 and "data:image/svg+xml" not in page.text  # no new app
    device.refresh_from_db()
    assert later.post(URL, {"token": "123456"}).status_code == 400
    back = later.post(URL, {"token": code_of(device, ahead=1), "next": "/rooms/salon/"})
    assert (back.status_code, back["Location"]) == (302, "/rooms/salon/")
    assert later.get(URL).text.count('id="otp-verified"') == 1


def test_the_next_address_stays_on_this_site(make_user):
    user = make_user()
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    client = signed_in(user)
    answer = client.post(URL, {"token": code_of(device), "next": "https://ailleurs.example/"})
    assert answer.status_code == 200 and "ailleurs.example" not in answer.text


def test_signed_out_visitors_are_sent_to_sign_in():
    answer = Client().get(URL)
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]
