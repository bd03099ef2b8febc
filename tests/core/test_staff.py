"""core/staff.py: the one OTP-verified staff gate, and the three surfaces behind it."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from core.refusals import RefusalCode
from core.staff import is_otp_verified, staff_refusal
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db


def test_anonymous_is_not_authenticated():
    assert staff_refusal(AnonymousUser()).code == RefusalCode.NOT_AUTHENTICATED


def test_a_member_is_forbidden(make_user):
    assert staff_refusal(make_user()).code == RefusalCode.FORBIDDEN


def test_staff_without_the_otp_middleware_is_refused(make_staff):
    # No is_verified at all (the middleware did not run): the gate fails closed.
    staff = make_staff()
    assert not hasattr(staff, "is_verified")
    assert not is_otp_verified(staff)
    assert staff_refusal(staff).code == RefusalCode.OTP_REQUIRED


def test_staff_whose_second_factor_is_not_verified_is_refused(make_staff):
    staff = make_staff()
    staff.is_verified = lambda: False
    assert staff_refusal(staff).code == RefusalCode.OTP_REQUIRED


def test_verified_staff_pass_and_permissions_are_checked(make_staff):
    moderator = make_staff("moderator")
    moderator.is_verified = lambda: True
    assert staff_refusal(moderator) is None
    assert staff_refusal(moderator, "moderation.add_sanction") is None
    refusal = staff_refusal(moderator, "compliance.approve_legalrequest")
    assert refusal.code == RefusalCode.FORBIDDEN


def test_an_inactive_staff_account_is_forbidden(make_staff):
    staff = make_staff()
    staff.is_active = False
    staff.is_verified = lambda: True
    assert staff_refusal(staff).code == RefusalCode.FORBIDDEN


@pytest.mark.parametrize(
    "url", ["/metrics", "/api/moderation/queue/"], ids=["metrics", "moderation-api"]
)
def test_the_same_answers_on_every_staff_surface(url, make_user, make_staff):
    assert Client().get(url).status_code == 401
    member = Client()
    member.force_login(make_user())
    answer = member.get(url)
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    unverified = staff_client(make_staff(), otp_verified=False).get(url)
    assert unverified.status_code == 403 and unverified.json()["error"] == "otp_required"
    assert staff_client(make_staff()).get(url).status_code == 200
