"""Cache-Control: no-store on every /api/ answer and on the personal pages
(chatsite/caching.py): no browser cache or shared proxy keeps a copy."""

import pytest
from django.test import Client

from rooms import actions

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def member_client(make_user, make_room):
    make_room(slug="general", name="Général")
    alice, bob = make_user("alice"), make_user("bob")
    actions.do_open_direct_room(bob, actor=alice)
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/rooms/",
        "/rooms/general/",
        "/dm/bob/",
        "/dm/nobody/",  # a 404 too
        "/conversations/",
        "/accounts/profile/",
        "/accounts/age/",
        "/accounts/email/",
        "/accounts/delete/",
        "/api/rooms/",
        "/api/rooms/general/messages/",
        "/api/rooms/nowhere/messages/",
        "/api/conversations/",
        "/api/me/export/",
        "/api/users/bob/card/",
        "/",  # a signed-in member's home page is personal too
    ],
)
def test_personal_pages_and_api_answers_are_never_stored(member_client, path):
    response = member_client.get(path)
    assert no_store(response), (path, response.status_code, response.get("Cache-Control"))


@pytest.mark.parametrize("path", ["/api/rooms/", "/api/me/export/", "/accounts/login/"])
def test_refusals_and_sign_in_pages_are_never_stored_either(path):
    response = Client().get(path)
    assert no_store(response), (path, response.status_code)


def test_public_pages_of_anonymous_visitors_stay_cacheable():
    # Nothing personal: the rules page keeps the browser's default caching.
    assert not no_store(Client().get("/rules/"))
