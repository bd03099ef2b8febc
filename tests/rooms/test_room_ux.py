"""The rooms experience (issue 9): finding rooms by theme and text with their
counts, joining a public room and its read mark, profile cards, the room
header, and the web app's manifest and service worker."""

import datetime
import json
import re
import struct
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.refusals import Refused
from rooms import actions, queries
from rooms.models import RoomKind, RoomMembership, RoomPresence

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.MESSAGE_RATE_LIMIT = "off"


def client_for(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


@pytest.fixture
def directory(make_room):
    """Three public rooms in two themes, and an archived one."""
    rooms = {
        "cinema": make_room(
            slug="cinema", name="Cinéma", theme="loisirs", description="Films et séries."
        ),
        "paris": make_room(slug="paris", name="Paris", theme="ville", description="Sorties."),
        "lyon": make_room(slug="lyon", name="Lyon", theme="ville", description="Bouchons."),
    }
    old = make_room(slug="ancien", name="Ancien", theme="passé")
    old.is_archived = True
    old.save(update_fields=["is_archived"])
    return rooms


def present(room, user, channel: str, *, seconds_ago: int = 0) -> None:
    seen = timezone.now() - datetime.timedelta(seconds=seconds_ago)
    RoomPresence.objects.create(room=room, user=user, channel_name=channel, seen_at=seen)


# --- finding rooms ----------------------------------------------------------------------


def test_directory_filters_by_theme_and_text(make_user, directory):
    alice = make_user("alice")

    def slugs(**filters):
        return [room.slug for room in queries.room_directory(alice, **filters)]

    assert slugs() == ["cinema", "lyon", "paris"]  # by name; the archived room is not listed
    assert slugs(theme="ville") == ["lyon", "paris"]
    assert slugs(theme="VILLE") == ["lyon", "paris"]
    assert slugs(search="bouchons") == ["lyon"]  # the description
    assert slugs(search="loisirs") == ["cinema"]  # the theme
    assert slugs(search="cinema") == ["cinema"]  # accents ignored, through the slug
    assert slugs(search="Ciné") == ["cinema"]
    assert slugs(search="sorties", theme="loisirs") == []
    assert queries.room_themes() == ["loisirs", "ville"]


def test_directory_counts_members_and_distinct_people_online(make_user, directory):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    paris = directory["paris"]
    for user in (alice, bob, carol):
        actions.do_join_public_room(paris, actor=user)
    actions.do_join_public_room(directory["lyon"], actor=alice)
    present(paris, alice, "one")
    present(paris, alice, "two")  # a second tab is the same person
    present(paris, bob, "three")
    present(paris, carol, "stale", seconds_ago=3600)  # a dead process's socket
    counts = {
        room.slug: (room.member_count, room.online_count) for room in queries.room_directory(alice)
    }
    assert counts == {"cinema": (0, 0), "lyon": (1, 0), "paris": (3, 2)}


def test_directory_is_one_query_whatever_the_number_of_rooms(make_user, make_room, directory):
    alice = make_user("alice")
    with CaptureQueriesContext(connection) as few:
        list(queries.room_directory(alice))
    for number in range(10):
        room = make_room(theme="ville")
        actions.do_join_public_room(room, actor=alice)
        actions.do_post_message(room, f"message {number}", actor=make_user())
    with CaptureQueriesContext(connection) as many:
        rooms = list(queries.room_directory(alice))
    assert len(rooms) == 13
    assert len(few) == len(many) == 1


def test_directory_marks_rooms_with_news_from_others(make_user, directory):
    alice, bob = make_user("alice"), make_user("bob")
    paris, lyon = directory["paris"], directory["lyon"]
    actions.do_post_message(paris, "avant", actor=bob)
    actions.do_join_public_room(paris, actor=alice)
    actions.do_join_public_room(lyon, actor=alice)
    actions.do_post_message(lyon, "le mien", actor=alice)

    def news():
        return {room.slug for room in queries.room_directory(alice) if room.has_news}

    assert news() == set()  # joined after "avant"; her own message is not news
    actions.do_post_message(paris, "nouveau", actor=bob)
    actions.do_post_message(directory["cinema"], "pas membre", actor=bob)
    assert news() == {"paris"}  # only rooms she joined


def test_rooms_page_searches_with_a_plain_get_form(make_user, directory):
    client = client_for(make_user("alice"))
    page = client.get("/rooms/").content.decode()
    assert 'role="search"' in page and 'name="q"' in page and 'href="?theme=ville"' in page
    assert all(name in page for name in ("Cinéma", "Paris", "Lyon"))
    assert "3 salons" in page
    page = client.get("/rooms/", {"q": "cinema"}).content.decode()
    assert "Cinéma" in page and "Paris" not in page and "1 salon" in page
    page = client.get("/rooms/", {"theme": "ville"}).content.decode()
    assert "Paris" in page and "Lyon" in page and "Films" not in page
    assert 'href="?theme=ville" aria-current="true"' in page
    assert '<input type="hidden" name="theme" value="ville">' in page  # a search stays in it
    # An unknown theme filters nothing; a search without results says so.
    assert "Cinéma" in client.get("/rooms/", {"theme": "nope"}).content.decode()
    page = client.get("/rooms/", {"q": "zzz"}).content.decode()
    assert "Aucun salon ne correspond à cette recherche." in page


def test_rooms_page_shows_counts(make_user, directory):
    alice, bob = make_user("alice"), make_user("bob")
    actions.do_join_public_room(directory["paris"], actor=alice)
    actions.do_join_public_room(directory["paris"], actor=bob)
    present(directory["paris"], bob, "bob-socket")
    page = client_for(alice).get("/rooms/", {"q": "paris"}).content.decode()
    assert "2 membres" in page and "1 personne en ligne" in page


def test_api_rooms_list_keeps_its_shape_and_adds_counts(make_user, directory):
    alice = make_user("alice")
    actions.do_join_public_room(directory["paris"], actor=alice)
    rooms = client_for(alice).get("/api/rooms/").json()["rooms"]
    paris = next(room for room in rooms if room["slug"] == "paris")
    assert {"slug", "name", "kind"} <= set(paris)
    assert (paris["theme"], paris["member_count"], paris["online_count"]) == ("ville", 1, 0)
    assert paris["rules"] == ""


# --- joining a public room and its read mark ----------------------------------------------


def test_opening_a_public_room_joins_it_with_nothing_unread(make_user, public_room):
    alice, bob = make_user("alice"), make_user("bob")
    before = actions.do_post_message(public_room, "avant", actor=bob).message
    client = client_for(alice)
    page = client.get("/rooms/general/").content.decode()
    # The page shows nothing as new and changes nothing (no write on GET) ...
    assert f'data-last-read="{before.id}"' in page
    assert not RoomMembership.objects.filter(room=public_room, user=alice).exists()
    # ... the room's socket opening is what joins (rooms.actions.do_enter_room).
    actions.do_enter_room(public_room, "channel.alice", actor=alice)
    membership = RoomMembership.objects.get(room=public_room, user=alice)
    assert membership.last_read_message_id == before.id
    later = actions.do_post_message(public_room, "après", actor=bob).message
    actions.do_enter_room(public_room, "channel.alice.2", actor=alice)  # again: nothing new
    assert RoomMembership.objects.filter(room=public_room, user=alice).count() == 1
    assert actions.do_join_public_room(public_room, actor=alice) == (membership, False)
    assert RoomMembership.objects.get(room=public_room, user=alice).last_read_message_id < later.id


def test_join_is_for_public_rooms_only(make_user, make_room):
    alice = make_user()
    private = make_room(RoomKind.PRIVATE, owner=make_user())
    with pytest.raises(Refused):
        actions.do_join_public_room(private, actor=alice)
    assert not RoomMembership.objects.filter(room=private, user=alice).exists()


def test_mark_read(make_user, public_room):
    alice, bob = make_user("alice"), make_user("bob")
    actions.do_join_public_room(public_room, actor=alice)
    first = actions.do_post_message(public_room, "un", actor=bob).message
    second = actions.do_post_message(public_room, "deux", actor=bob).message
    client = client_for(alice)
    url = "/api/rooms/general/read/"

    def mark():
        return RoomMembership.objects.get(room=public_room, user=alice).last_read_message_id

    response = post_json(client, url, {"up_to": first.id})
    assert response.status_code == 200 and response.json() == {"last_read": first.id}
    assert post_json(client, url, {"up_to": 0}).json() == {"last_read": first.id}  # never back
    # Never past the latest message, or what comes next would count as read.
    assert post_json(client, url, {"up_to": second.id + 1000}).json() == {"last_read": second.id}
    assert mark() == second.id
    for bad in ({}, {"up_to": "7"}, {"up_to": -1}, {"up_to": True}):
        response = post_json(client, url, bad)
        assert response.status_code == 400 and response.json()["error"] == "invalid"
    assert post_json(client, "/api/rooms/nope/read/", {"up_to": 1}).status_code == 404
    assert client.get(url).status_code == 405


def test_mark_read_refusals(make_user, make_room, public_room):
    owner, stranger = make_user(), make_user()
    private = make_room(RoomKind.PRIVATE, owner=owner)
    response = post_json(client_for(stranger), f"/api/rooms/{private.slug}/read/", {"up_to": 1})
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    response = post_json(Client(), "/api/rooms/general/read/", {"up_to": 1})
    assert response.status_code == 401
    client = client_for(stranger, csrf=True)
    response = post_json(client, "/api/rooms/general/read/", {"up_to": 1})
    assert response.status_code == 403 and response.json()["error"] == "csrf"


def test_reading_a_public_room_does_not_ping_the_conversations_page(
    make_user, public_room, django_capture_on_commit_callbacks
):
    alice, bob = make_user("alice"), make_user("bob")
    actions.do_join_public_room(public_room, actor=alice)
    message = actions.do_post_message(public_room, "salut", actor=bob).message
    with django_capture_on_commit_callbacks() as callbacks:
        actions.do_mark_room_read(public_room, actor=alice, up_to_id=message.id)
    assert callbacks == []


def test_room_page_shows_where_reading_stopped_and_the_rules(make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    room = make_room(
        slug="club", name="Club", theme="loisirs", rules="Pas de spoilers.\nSoyez gentils."
    )
    client = client_for(alice)
    page = client.get("/rooms/club/").content.decode()
    assert 'data-last-read="0"' in page
    assert "Pas de spoilers.<br>Soyez gentils." in page
    assert '<details class="chat-rules chat-panel" open>' in page  # open on a first visit
    assert 'href="/rules/"' in page and "Loisirs" in page
    assert not room.memberships.filter(user=alice).exists()  # reading joins nobody
    assert 'id="member-count">0 membre' in page and 'id="online-count">0 personne' in page
    assert 'data-read-url="/api/rooms/club/read/"' in page
    actions.do_enter_room(room, "channel.alice", actor=alice)  # the socket joins
    message = actions.do_post_message(room, "salut", actor=bob).message
    post_json(client, "/api/rooms/club/read/", {"up_to": message.id})
    actions.do_post_message(room, "tu es là ?", actor=bob)
    page = client.get("/rooms/club/").content.decode()
    assert f'data-last-read="{message.id}"' in page
    assert '<details class="chat-rules chat-panel">' in page  # then folded


def test_private_room_page_marks_reading_by_post_only(make_user, make_room):
    owner = make_user()
    room = make_room(RoomKind.PRIVATE, owner=owner)
    page = client_for(owner).get(f"/rooms/{room.slug}/").content.decode()
    assert f'data-read-url="/api/rooms/{room.slug}/read/"' in page and 'data-last-read="0"' in page


# --- profile cards ------------------------------------------------------------------------


def test_profile_card_shows_no_birth_date_nor_email(make_user):
    alice = make_user("alice")
    bob = make_user("bob", date_of_birth=datetime.date(1987, 6, 5))
    bob.date_joined = timezone.now() - datetime.timedelta(days=40)
    bob.save(update_fields=["date_joined"])
    response = client_for(alice).get("/api/users/BOB/card/")
    assert response.status_code == 200
    card = response.json()
    assert card == {
        "username": "bob",
        "member_since": timezone.localdate(bob.date_joined).isoformat(),
        "account_age_days": 40,
        "age_verified": True,
        "is_self": False,
        "blocked": False,
        "can_message": True,
    }
    text = response.content.decode()
    assert "1987" not in text and "bob@example.org" not in text


def test_profile_card_of_oneself_and_unverified_accounts(make_user):
    alice = make_user("alice")
    make_user("newbie", age_verified=False)
    client = client_for(alice)
    me = client.get("/api/users/alice/card/").json()
    assert (me["is_self"], me["can_message"]) == (True, False)
    assert client.get("/api/users/newbie/card/").json()["age_verified"] is False


def test_profile_card_respects_blocks_and_settings(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    make_user("carol", direct_messages_from="nobody")
    client = client_for(alice)
    assert client.get("/api/users/carol/card/").json()["can_message"] is False
    actions.do_block_user(bob, actor=alice)
    card = client.get("/api/users/bob/card/").json()
    assert (card["blocked"], card["can_message"]) == (True, False)
    # Someone who blocks you shows the card of anyone who takes no direct
    # message from you: the block itself is not told (docs/protocol.md, "Blocks").
    card = client_for(bob).get("/api/users/alice/card/").json()
    assert (card["username"], card["blocked"], card["can_message"]) == ("alice", False, False)
    assert client.get("/api/users/nobody-here/card/").status_code == 404


def test_profile_card_refusals(make_user):
    make_user("bob")
    assert Client().get("/api/users/bob/card/").status_code == 401
    response = client_for(make_user(age_verified=False)).get("/api/users/bob/card/")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    inactive = make_user("gone")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    assert client_for(make_user()).get("/api/users/gone/card/").status_code == 404


# --- web app: manifest, icons, service worker ---------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_manifest_has_png_icons_that_exist(client):
    data = client.get("/manifest.webmanifest").json()
    assert (data["display"], data["start_url"], data["scope"]) == ("standalone", "/rooms/", "/")
    assert data["name"] and data["short_name"] and data["theme_color"] and data["background_color"]
    pngs = {(icon["sizes"], icon.get("purpose", "any")): icon for icon in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= set(pngs)
    for (sizes, _purpose), icon in pngs.items():
        if icon["type"] != "image/png":
            continue
        name = icon["src"].removeprefix(django_settings.STATIC_URL)
        # With DEBUG off the manifest names the hashed copy that collectstatic made.
        path = Path(django_settings.STATIC_ROOT) / name
        if not path.exists():
            path = Path(django_settings.BASE_DIR) / "static" / name
        width, height = png_size(path)
        assert f"{width}x{height}" == sizes


def test_service_worker_is_served_at_the_root_with_its_shell(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    text = response.content.decode()
    config = json.loads(text.split("const CHATSITE_SW = ", 1)[1].split(";\n", 1)[0])
    # The names pages use: hashed with DEBUG off (so the offline shell matches them).
    shell = " ".join(config["shell"])
    assert re.search(r"/static/css/site(\.[0-9a-f]{12})?\.css", shell)
    assert re.search(r"/static/js/chat(\.[0-9a-f]{12})?\.js", shell)
    assert config["offline"] == "/offline/" and "/offline/" in config["shell"]
    # Only static files and the offline page: never a page or answer with personal data.
    assert all(url.startswith("/static/") or url == "/offline/" for url in config["shell"])
    assert len(config["version"]) == 16
    assert "caches.delete" in text  # old versions are dropped on activate


def test_service_worker_version_follows_the_shell(client, monkeypatch):
    from chatsite import views

    def version():
        views._service_worker_script.cache_clear()
        text = client.get("/sw.js").content.decode()
        return json.loads(text.split(" = ", 1)[1].split(";\n")[0])["version"]

    before = version()
    real = views._shell_files
    monkeypatch.setattr(views, "_shell_files", lambda: [(u, c + b"!") for u, c in real()])
    assert version() != before
    views._service_worker_script.cache_clear()


def test_offline_page_carries_nobodys_data(make_user):
    client = client_for(make_user("alice"))
    response = client.get("/offline/")
    assert response.status_code == 200
    assert "alice" not in response.content.decode()


def test_every_page_registers_the_service_worker(client):
    page = client.get("/").content.decode()
    registration = r'src="/static/js/sw-register(\.[0-9a-f]{12})?\.js" data-worker="/sw.js"'
    assert re.search(registration, page)


def test_contact_request_shows_when_the_first_message_came(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    room = actions.do_open_direct_room(bob, actor=alice)
    message = actions.do_post_message(room, "Bonjour", actor=alice).message
    page = client_for(bob).get("/conversations/").content.decode()
    assert f'<time datetime="{timezone.localtime(message.created).isoformat()}">' in page
