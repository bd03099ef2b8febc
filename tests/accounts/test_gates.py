import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.gates import ChatAccess, chat_access

pytestmark = pytest.mark.django_db


def test_a_verified_adult_may_chat(make_user):
    assert chat_access(make_user()) is ChatAccess.ALLOWED


def test_refusals_most_basic_first(make_user):
    assert chat_access(AnonymousUser()) is ChatAccess.NOT_AUTHENTICATED
    assert chat_access(None) is ChatAccess.NOT_AUTHENTICATED
    assert chat_access(make_user(is_active=False)) is ChatAccess.INACTIVE
    unverified = make_user(email_verified=False, age_verified=False)
    assert chat_access(unverified) is ChatAccess.EMAIL_UNVERIFIED
    assert chat_access(make_user(age_verified=False)) is ChatAccess.AGE_UNVERIFIED
