"""The JSON API: always JSON, 401/403 never a redirect, CSRF by X-CSRFToken."""

import json

import pytest
from django.test import Client

from rooms import actions
from rooms.models import Block, ContactRequest, RoomKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for():
    def make(user, *, csrf=False) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(user)
        return client

    return make


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def csrf_token(client) -> str:
    client.get("/rooms/")  # a page with a form sets the csrftoken cookie
    return client.cookies["csrftoken"].value


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/rooms/"),
        ("get", "/api/rooms/general/messages/"),
        ("post", "/api/dm/"),
        ("post", "/api/blocks/"),
        ("delete", "/api/blocks/bob/"),
        ("get", "/api/conversations/"),
    ],
)
def test_anonymous_gets_json_401_not_a_redirect(public_room, method, url):
    response = getattr(Client(), method)(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_authenticated"


def test_unverified_accounts(client_for, make_user, public_room):
    assert client_for(make_user(email_verified=False)).get("/api/rooms/").status_code == 401
    response = client_for(make_user(age_verified=False)).get("/api/rooms/")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_rooms_list(client_for, make_user, make_room, public_room):
    alice, bob = make_user("alice"), make_user("bob")
    private = make_room(RoomKind.PRIVATE, owner=alice, slug="secret", name="Secret")
    make_room(RoomKind.PRIVATE, owner=bob, slug="not-mine")
    room = actions.do_open_direct_room(bob, actor=alice)
    data = client_for(alice).get("/api/rooms/").json()
    slugs = [entry["slug"] for entry in data["rooms"]]
    assert set(slugs) == {"general", "secret", room.slug}
    general = next(entry for entry in data["rooms"] if entry["slug"] == "general")
    assert (general["name"], general["kind"]) == ("Général", "public")
    direct = next(entry for entry in data["rooms"] if entry["slug"] == room.slug)
    assert (direct["kind"], direct["with"], direct["unread"]) == ("direct", "bob", 0)
    assert private.slug in slugs


def test_messages_paging(client_for, make_user, public_room, settings):
    settings.MESSAGE_RATE_LIMIT = "off"
    alice = make_user("alice")
    ids = [actions.do_post_message(public_room, f"m{i}", actor=alice).message.id for i in range(10)]
    client = client_for(alice)
    url = "/api/rooms/general/messages/"

    def bodies(query):
        response = client.get(url + query)
        assert response.status_code == 200, response.content
        return [m["body"] for m in response.json()["messages"]]

    assert bodies("") == [f"m{i}" for i in range(10)]
    assert bodies("?limit=3") == ["m7", "m8", "m9"]
    assert bodies(f"?after={ids[5]}") == ["m6", "m7", "m8", "m9"]
    assert bodies(f"?after={ids[1]}&limit=2") == ["m2", "m3"]
    assert bodies(f"?before={ids[3]}") == ["m0", "m1", "m2"]
    assert bodies(f"?before={ids[8]}&limit=2") == ["m6", "m7"]
    message = client.get(url + "?limit=1").json()["messages"][0]
    assert set(message) == {
        *("id", "room", "author", "body", "created", "client_id"),
        *("edited", "reply_to", "mentions", "reactions"),
    }
    for bad in ("?limit=0", "?limit=201", "?after=x", "?before=-1"):
        response = client.get(url + bad)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid"
    assert client.get("/api/rooms/nope/messages/").status_code == 404


def test_messages_of_a_private_room_are_for_members(client_for, make_user, make_room):
    owner, stranger = make_user(), make_user()
    room = make_room(RoomKind.PRIVATE, owner=owner)
    actions.do_post_message(room, "secret", actor=owner)
    assert client_for(stranger).get(f"/api/rooms/{room.slug}/messages/").status_code == 403
    assert client_for(owner).get(f"/api/rooms/{room.slug}/messages/").status_code == 200


def test_open_dm(client_for, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    client = client_for(alice)
    response = post_json(client, "/api/dm/", {"username": "bob"})
    assert response.status_code == 200
    slug = response.json()["room"]
    assert ContactRequest.objects.get(room__slug=slug).recipient == bob
    assert post_json(client, "/api/dm/", {"username": "bob"}).json() == {"room": slug}
    assert post_json(client, "/api/dm/", {"username": "nobody-here"}).status_code == 404
    assert post_json(client, "/api/dm/", {}).status_code == 400
    assert post_json(client, "/api/dm/", {"username": "alice"}).status_code == 400
    response = client.post("/api/dm/", "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid"


def test_open_dm_refused_with_403(client_for, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    make_user("carol", direct_messages_from="nobody")
    actions.do_block_user(alice, actor=bob)
    client = client_for(alice)
    response = post_json(client, "/api/dm/", {"username": "bob"})
    assert response.status_code == 403 and response.json()["error"] == "blocked"
    assert post_json(client, "/api/dm/", {"username": "carol"}).status_code == 403


def test_blocks(client_for, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    client = client_for(alice)
    response = post_json(client, "/api/blocks/", {"username": "bob"})
    assert response.status_code == 201
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()
    assert client.get("/api/blocks/").json() == {"blocked": ["bob"]}
    assert client.delete("/api/blocks/bob/").status_code == 204
    assert not Block.objects.exists()
    assert client.delete("/api/blocks/ghost/").status_code == 404
    assert client.put("/api/blocks/").status_code == 405


def test_csrf_is_required_for_unsafe_methods(client_for, make_user, public_room):
    make_user("bob")
    client = client_for(make_user("alice"), csrf=True)
    response = post_json(client, "/api/blocks/", {"username": "bob"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "csrf"
    assert client.delete("/api/blocks/bob/").status_code == 403
    token = csrf_token(client)
    response = post_json(client, "/api/blocks/", {"username": "bob"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert client.get("/api/rooms/").status_code == 200  # safe methods need no token


def test_conversations_with_unread_counts_requests_and_invitations(
    client_for, make_user, make_room, settings
):
    settings.MESSAGE_RATE_LIMIT = "off"
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room = actions.do_open_direct_room(bob, actor=alice)
    actions.do_post_message(room, "salut bob", actor=alice)
    actions.do_post_message(room, "ça va ?", actor=alice)
    bob_client = client_for(bob)
    data = bob_client.get("/api/conversations/").json()
    assert data["conversations"] == []  # held behind the request
    [request] = data["requests"]
    assert request["from"] == "alice"
    assert request["first_message"]["body"] == "salut bob"
    assert "account_created" in request
    assert request["account_age_days"] == 0

    actions.do_accept_contact_request(ContactRequest.objects.get(room=room), actor=bob)
    data = bob_client.get("/api/conversations/").json()
    assert data["requests"] == []
    assert [(c["with"], c["unread"]) for c in data["conversations"]] == [("alice", 2)]
    # Fetching the history changes nothing; marking what was seen clears the count.
    [_first, last] = bob_client.get(f"/api/rooms/{room.slug}/messages/").json()["messages"]
    assert bob_client.get("/api/conversations/").json()["conversations"][0]["unread"] == 2
    post_json(bob_client, f"/api/rooms/{room.slug}/read/", {"up_to": last["id"]})
    assert bob_client.get("/api/conversations/").json()["conversations"][0]["unread"] == 0

    private = make_room(RoomKind.PRIVATE, owner=carol, name="Club")
    actions.do_invite_to_room(private, bob, actor=carol)
    [invitation] = bob_client.get("/api/conversations/").json()["invitations"]
    assert (invitation["room"]["name"], invitation["from"]) == ("Club", "carol")
