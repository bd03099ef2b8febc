"""Fixtures of the operations tests: staff with and without a verified second factor."""

from django.test import Client

from tests.conftest import staff_client


def signed_in(user, *, otp_verified: bool = False) -> Client:
    """A client signed in as `user`; with `otp_verified`, its session passed TOTP."""
    return staff_client(user, otp_verified=otp_verified)
