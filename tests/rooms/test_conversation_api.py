"""The JSON API of issue 17: PATCH/DELETE /api/messages/<id>/, reactions,
GET /api/search/, ignores, mentions in /api/conversations/."""

import json

import pytest
from django.test import Client

from rooms import actions, policy
from rooms.models import Ignore, Message, MessageVersion, Reaction, RoomKind
from rooms.protocol import MAX_BODY_LENGTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


def client_of(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/rooms/")  # sets the csrftoken cookie
    return client


def call(client: Client, method: str, url: str, payload=None):
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return getattr(client, method)(
        url,
        data=json.dumps(payload) if payload is not None else None,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )


def post(room, author, body, **kwargs) -> Message:
    return actions.do_post_message(room, body, actor=author, **kwargs).message


# --- edit and delete --------------------------------------------------------------------------


def test_the_author_edits_and_gets_the_message(public_room, alice):
    message = post(public_room, alice, "premier jet")
    response = call(client_of(alice), "patch", f"/api/messages/{message.id}/", {"body": "final"})
    assert response.status_code == 200
    data = response.json()
    assert (data["id"], data["body"], data["author"]) == (message.id, "final", "alice")
    assert data["edited"] is not None
    assert set(data) >= {"reply_to", "mentions", "reactions", "created", "client_id", "room"}
    assert MessageVersion.objects.get().body == "premier jet"


def test_anyone_else_gets_403_forbidden_and_nothing_changes(public_room, alice, bob):
    message = post(public_room, alice, "à moi")
    client = client_of(bob)
    response = call(client, "patch", f"/api/messages/{message.id}/", {"body": "à bob"})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    response = call(client, "delete", f"/api/messages/{message.id}/")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    message.refresh_from_db()
    assert message.body == "à moi" and message.deleted_at is None


def test_bad_edits_are_400_and_change_nothing(public_room, alice):
    message = post(public_room, alice, "avant")
    client = client_of(alice)
    url = f"/api/messages/{message.id}/"
    cases = [
        ({"body": ""}, "invalid"),
        ({"body": "x" * (MAX_BODY_LENGTH + 1)}, "too_long"),
        ({}, "invalid"),
        ({"body": ["liste"]}, "invalid"),
    ]
    for payload, code in cases:
        response = call(client, "patch", url, payload)
        assert (response.status_code, response.json()["error"]) == (400, code)
    message.refresh_from_db()
    assert message.body == "avant" and message.edited is None


def test_unknown_message_is_404(alice):
    response = call(client_of(alice), "patch", "/api/messages/999999/", {"body": "x"})
    assert response.status_code == 404
    assert call(client_of(alice), "delete", "/api/messages/999999/").status_code == 404


def test_the_author_deletes_with_204(public_room, alice):
    message = post(public_room, alice, "à effacer")
    response = call(client_of(alice), "delete", f"/api/messages/{message.id}/")
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.deleted_by == alice and message.deletion_reason == "author"
    history = client_of(alice).get(f"/api/rooms/{public_room.slug}/messages/").json()
    assert history["messages"] == []
    # Deleting again: the message is gone for the API.
    assert call(client_of(alice), "delete", f"/api/messages/{message.id}/").status_code == 404


def test_edit_and_delete_need_csrf_and_an_account(public_room, alice):
    message = post(public_room, alice, "protégé")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.patch(
        f"/api/messages/{message.id}/", data='{"body": "x"}', content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["error"] == "csrf"
    anonymous = Client().delete(f"/api/messages/{message.id}/")
    assert anonymous.status_code == 401


# --- reactions and history fields -------------------------------------------------------------


def test_reactions_by_api_and_in_the_history(public_room, alice, bob):
    message = post(public_room, alice, "sondage")
    post(public_room, bob, "@alice oui", reply_to=message.id)
    client = client_of(bob)
    url = f"/api/messages/{message.id}/reactions/"
    response = call(client, "post", url, {"emoji": "😂"})
    assert response.json() == {"id": message.id, "counts": {"😂": 1}}
    assert call(client, "post", url, {"emoji": "🍕"}).status_code == 400
    assert client.get(url).json() == {"id": message.id, "reactions": {"😂": ["bob"]}}
    history = client.get(f"/api/rooms/{public_room.slug}/messages/").json()
    first, second = history["messages"]
    assert first["reactions"] == {"😂": 1}
    assert second["reply_to"] == {
        "id": message.id,
        "author": "alice",
        "excerpt": "sondage",
        "deleted": False,
    }
    assert second["mentions"] == ["alice"]
    assert history["my_reactions"] == {str(message.id): ["😂"]}
    response = call(client, "delete", f"{url}😂/")
    assert response.json() == {"id": message.id, "counts": {}}
    assert not Reaction.objects.exists()


def test_reactions_of_a_private_message_are_not_found_for_outsiders(make_room, alice, bob):
    private = make_room(RoomKind.PRIVATE, owner=alice)
    message = post(private, alice, "secret")
    url = f"/api/messages/{message.id}/reactions/"
    assert client_of(bob).get(url).status_code == 404
    assert call(client_of(bob), "post", url, {"emoji": "👍"}).status_code == 404


# --- search -----------------------------------------------------------------------------------


def test_search_finds_words_ignoring_accents_and_case_newest_first(public_room, alice, bob):
    older = post(public_room, alice, "On va au cinéma ce soir ?")
    post(public_room, bob, "Rien à voir")
    newer = post(public_room, bob, "CINEMA en plein air demain")
    data = client_of(alice).get("/api/search/", {"q": "cinema"}).json()
    assert [m["id"] for m in data["messages"]] == [newer.id, older.id]
    assert data["next_before"] is None
    first = data["messages"][0]
    start, end = first["highlights"][0]
    assert first["body"][start:end] == "CINEMA"
    start, end = data["messages"][1]["highlights"][0]
    assert data["messages"][1]["body"][start:end] == "cinéma"
    assert set(first) >= {"reply_to", "mentions", "reactions", "edited", "author", "room"}


def test_search_pages_newest_first(public_room, alice):
    ids = [post(public_room, alice, f"concert numéro {n}").id for n in range(5)]
    client = client_of(alice)
    page = client.get("/api/search/", {"q": "concert", "limit": 2}).json()
    assert [m["id"] for m in page["messages"]] == ids[:-3:-1]
    seen = [m["id"] for m in page["messages"]]
    while page["next_before"]:
        page = client.get(
            "/api/search/", {"q": "concert", "limit": 2, "before": page["next_before"]}
        ).json()
        seen += [m["id"] for m in page["messages"]]
    assert seen == ids[::-1]


def test_search_only_in_rooms_readable_now_and_never_deleted(make_room, public_room, alice, bob):
    private = make_room(RoomKind.PRIVATE, owner=alice)
    post(private, alice, "pique-nique privé")
    gone = post(public_room, alice, "pique-nique effacé")
    actions.do_delete_own_message(gone.id, actor=alice)
    shown = post(public_room, alice, "pique-nique public")
    client = client_of(bob)
    data = client.get("/api/search/", {"q": "pique-nique"}).json()
    assert [m["id"] for m in data["messages"]] == [shown.id]
    assert client.get("/api/search/", {"q": "pique", "room": private.slug}).status_code == 403

    def banned_here(user, room):
        if user.pk == bob.pk and room.pk == public_room.pk:
            return policy.refuse_join(4403, "banni")
        return None

    policy.register_join_check(banned_here)
    try:
        assert client.get("/api/search/", {"q": "pique-nique"}).json()["messages"] == []
        refused = client.get("/api/search/", {"q": "pique", "room": public_room.slug})
        assert refused.status_code == 403
    finally:
        policy.unregister_check(banned_here)


def test_search_in_one_room(public_room, make_room, alice):
    other = make_room()
    post(other, alice, "vélo partout")
    here = post(public_room, alice, "vélo ici")
    data = client_of(alice).get("/api/search/", {"q": "velo", "room": public_room.slug}).json()
    assert [m["id"] for m in data["messages"]] == [here.id]


def test_search_refuses_empty_or_huge_queries(alice):
    client = client_of(alice)
    assert client.get("/api/search/", {"q": " a "}).status_code == 400
    assert client.get("/api/search/", {"q": "x" * 201}).json()["error"] == "too_long"
    assert client.get("/api/search/", {"q": "ok", "limit": 0}).status_code == 400
    assert Client().get("/api/search/", {"q": "ok"}).status_code == 401


def test_search_of_a_left_private_room_finds_nothing(make_room, alice, bob):
    private = make_room(RoomKind.PRIVATE, owner=alice)
    invitation = actions.do_invite_to_room(private, bob, actor=alice)
    actions.do_answer_invitation(invitation, actor=bob, accept=True)
    post(private, alice, "randonnée dimanche")
    client = client_of(bob)
    assert len(client.get("/api/search/", {"q": "randonnée"}).json()["messages"]) == 1
    private.memberships.filter(user=bob).delete()
    assert client.get("/api/search/", {"q": "randonnée"}).json()["messages"] == []


# --- ignores and mentions ---------------------------------------------------------------------


def test_ignores_api(alice, bob):
    client = client_of(alice)
    response = call(client, "post", "/api/ignores/", {"username": "BOB"})
    assert response.status_code == 201 and response.json() == {"ignored": "bob"}
    assert client.get("/api/ignores/").json() == {"ignored": ["bob"]}
    assert call(client, "post", "/api/ignores/", {"username": "alice"}).status_code == 400
    assert call(client, "post", "/api/ignores/", {"username": "nobody"}).status_code == 404
    assert call(client, "delete", "/api/ignores/bob/").status_code == 204
    assert not Ignore.objects.exists()


def test_mentions_are_listed_with_the_conversations(public_room, alice, bob):
    message = post(public_room, alice, "@bob tu viens ?")
    data = client_of(bob).get("/api/conversations/").json()
    assert [m["id"] for m in data["mentions"]] == [message.id]
    actions.do_delete_own_message(message.id, actor=alice)
    assert client_of(bob).get("/api/conversations/").json()["mentions"] == []
