"""Fixtures of the operations tests: staff with and without a verified second factor."""

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

STAFF_PASSWORD = "staff-password-for-ops-tests-7c1"


@pytest.fixture
def make_staff(db):
    from accounts.actions import do_create_staff_account

    counter = iter(range(1, 1_000_000))

    def make(role="moderator"):
        username = f"ops_{role}{next(counter)}"
        return do_create_staff_account(
            username,
            email=f"{username}@staff.example",
            role=role,
            password=STAFF_PASSWORD,
            actor=None,
        ).user

    return make


def signed_in(user, *, otp_verified: bool = False) -> Client:
    """A client signed in as `user`; with `otp_verified`, its session passed TOTP."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if otp_verified:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
        session.save()
    return client
