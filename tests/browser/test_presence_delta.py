"""A large room's presence in a real browser: above PRESENCE_LIST_MAX online the
server sends who came and left (`presence.delta`), and the page keeps its list
from them (static/js/chat.js). The limit is 1 here, so three people make a
"large" room."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_rooms import connected, open_as, people  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def asgi_server_env() -> dict[str, str]:
    return {"PRESENCE_LIST_MAX": "1"}


@pytest.fixture
def carol(people, make_user):  # noqa: F811
    from django.conf import settings
    from django.test import Client

    from tests.browser.test_rooms import Person

    client = Client()
    client.force_login(make_user("carol"))
    return Person("carol", client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_the_page_follows_a_large_room_by_its_deltas(people, carol, asgi_server, new_context):  # noqa: F811
    alice = open_as(new_context, asgi_server, people["alice"], "/rooms/general/")
    connected(alice)
    expect(alice.locator("#presence li")).to_have_text(["alice"])
    bob = open_as(new_context, asgi_server, people["bob"], "/rooms/general/")
    connected(bob)
    # Alice is told "bob joined" (a delta); Bob got the whole list for himself.
    expect(alice.locator("#presence li")).to_have_text(["alice", "bob"])
    expect(bob.locator("#presence li")).to_have_text(["alice", "bob"])
    third = open_as(new_context, asgi_server, carol, "/rooms/general/")
    connected(third)
    for page in (alice, bob, third):
        expect(page.locator("#presence li")).to_have_text(["alice", "bob", "carol"])
        expect(page.locator("#online-count")).to_contain_text("3")
    third.close()
    expect(alice.locator("#presence li")).to_have_text(["alice", "bob"])  # "carol left"
    bob.close()
    # Back under the limit: the whole list again.
    expect(alice.locator("#presence li")).to_have_text(["alice"])
    expect(alice.locator("#online-count")).to_contain_text("1")
