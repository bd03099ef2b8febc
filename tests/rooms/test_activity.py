"""Life on the rooms page and the home page (issue 18, item 6): who is online
now (presence rows, as the room's socket writes them), the latest message and
the messages of the day, busiest rooms first; the same counts as the room page,
in a bounded number of queries; figures only for anonymous visitors."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.refusals import Refused
from rooms import actions, queries
from rooms.models import ContentOperation, RoomKind, RoomPresence
from rooms.presence import PRESENCE_TTL_SECONDS
from rooms.templatetags.room_activity import ago

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.MESSAGE_RATE_LIMIT = "off"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    """The page's text, tags removed and spaces collapsed."""
    html = unescape(response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def card(page_text: str, name: str) -> str:
    """A room card's text on the rooms page: from its name to the next card."""
    start = page_text.index(f" {name} ")
    following = re.search(
        r"(Pas encore de message|Dernier message il y a [^·]+?|à l'instant)", page_text[start:]
    )
    return page_text[start : start + following.end()]


def enter(room, user, channel: str):
    """What a room's socket does when it opens (rooms.consumers)."""
    actions.do_enter_room(room, channel, actor=user)


def test_rooms_come_busiest_first_with_their_figures(make_user, make_room):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    make_room(slug="calme", name="Calme")
    yesterday_room = make_room(slug="hier", name="Hier")
    talking = make_room(slug="bavard", name="Bavard")
    online = make_room(slug="en-ligne", name="En ligne")
    before_midnight = queries.start_of_today() - timedelta(hours=1)
    actions.do_post_message(yesterday_room, "hier soir", actor=bob, posted_at=before_midnight)
    actions.do_post_message(talking, "hier aussi", actor=bob, posted_at=before_midnight)
    for body in ("un", "deux", "trois"):
        actions.do_post_message(talking, body, actor=bob)
    gone = actions.do_post_message(talking, "effacé", actor=carol).message
    actions.do_delete_own_message(gone.pk, actor=carol)  # a deleted message is not counted
    enter(online, alice, "alice-1")
    enter(online, alice, "alice-2")  # a second tab: still one person
    enter(online, carol, "carol-1")
    RoomPresence.objects.filter(channel_name="carol-1").update(
        seen_at=timezone.now() - timedelta(seconds=PRESENCE_TTL_SECONDS + 1)
    )  # a socket of a process that died: not online

    rooms = list(queries.room_directory(alice))
    assert [room.slug for room in rooms] == ["en-ligne", "bavard", "hier", "calme"]
    figures = {
        room.slug: (room.online_count, room.messages_today, room.active_now) for room in rooms
    }
    assert figures == {
        "en-ligne": (1, 0, True),
        "bavard": (0, 3, True),  # the latest message is seconds old
        "hier": (0, 0, False),
        "calme": (0, 0, False),
    }
    last = {room.slug: room.last_message_at for room in rooms}
    assert last["hier"] == before_midnight and last["calme"] is None
    assert last["bavard"] > before_midnight

    page = text_of(client_for(alice).get("/rooms/"))
    assert page.index(" En ligne ") < page.index(" Bavard ") < page.index(" Hier ")
    assert "Actif maintenant" in card(page, "En ligne") and "1 personne en ligne" in card(
        page, "En ligne"
    )
    assert "3 messages aujourd'hui · Dernier message à l'instant" in card(page, "Bavard")
    assert "Dernier message il y a" in card(page, "Hier") and "aujourd'hui" not in card(
        page, "Hier"
    )
    assert "Actif maintenant" not in card(page, "Hier")
    assert "Pas encore de message" in card(page, "Calme")


def test_a_message_ten_minutes_old_is_not_active_now(make_user, make_room):
    room = make_room(slug="tiede", name="Tiède")
    ten_minutes_ago = timezone.now() - timedelta(minutes=10)
    actions.do_post_message(room, "il y a un moment", actor=make_user(), posted_at=ten_minutes_ago)
    [listed] = queries.room_directory(make_user())
    assert not listed.active_now
    assert listed.messages_today == (1 if ten_minutes_ago >= queries.start_of_today() else 0)


def test_the_rooms_page_and_the_room_page_say_the_same(make_user, make_room):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room = make_room(slug="general", name="Général")
    enter(room, alice, "a")
    enter(room, bob, "b")
    enter(room, bob, "b2")
    actions.do_join_public_room(room, actor=carol)  # a member, not online
    actions.do_post_message(room, "Bonjour", actor=bob)
    client = client_for(alice)
    listed = card(text_of(client.get("/rooms/")), "Général")
    header = text_of(client.get("/rooms/general/"))
    for words in ("3 membres", "2 personnes en ligne"):
        assert words in listed and words in header
    # Someone leaves: both pages follow.
    actions.do_leave_room(room, "b", actor=bob)
    actions.do_leave_room(room, "b2", actor=bob)
    assert "1 personne en ligne" in card(text_of(client.get("/rooms/")), "Général")
    assert "1 personne en ligne" in text_of(client.get("/rooms/general/"))


def _fill(make_user, make_room, count: int) -> None:
    for _number in range(count):
        room = make_room(theme="ville")
        author = make_user()
        actions.do_post_message(room, "un message", actor=author)
        enter(room, author, f"channel-{room.slug}")


@pytest.mark.parametrize("path", ["/rooms/", "/"])
def test_the_pages_read_life_in_a_bounded_number_of_queries(make_user, make_room, path):
    """No query per room: as many queries with twelve rooms as with two."""
    alice = make_user("alice")
    _fill(make_user, make_room, 2)
    member, anonymous = client_for(alice), Client()
    member.get(path)  # sessions, language: warm
    with CaptureQueriesContext(connection) as few_member:
        member.get(path)
    with CaptureQueriesContext(connection) as few_anonymous:
        anonymous.get(path)
    _fill(make_user, make_room, 10)
    with CaptureQueriesContext(connection) as many_member:
        member.get(path)
    with CaptureQueriesContext(connection) as many_anonymous:
        anonymous.get(path)
    assert len(few_member) == len(many_member)
    assert len(few_anonymous) == len(many_anonymous)
    if path == "/":
        # The figures: the rooms with their activity, and the people online; and
        # whether a raid mode is on (its banner: moderation/raid.py), read from the
        # database here since this test process does not listen to the policy
        # invalidations (a server reads its per-process copy instead).
        assert len(many_anonymous) == 3
        assert "12 personnes en ligne" in text_of(anonymous.get("/"))


def test_the_home_page_shows_figures_never_names_nor_text(make_user, make_room):
    alice, bob = make_user("alicepseudo"), make_user("bobpseudo")
    general = make_room(slug="general", name="Général", theme="général")
    enter(general, alice, "alice-socket")
    actions.do_post_message(general, "Un texte que seuls les membres lisent", actor=bob)
    # Private rooms and direct conversations count for nothing here.
    private = make_room(kind=RoomKind.PRIVATE, owner=alice, slug="secret", name="Salon secret")
    actions.do_post_message(private, "privé", actor=alice)
    enter(private, alice, "alice-private")
    direct = actions.do_open_direct_room(bob, actor=alice)
    actions.do_post_message(direct, "en privé", actor=alice)

    response = Client().get("/")
    page = text_of(response)
    assert "En ce moment sur Chatsite" in page
    assert "1 personne en ligne" in page
    assert "1 message aujourd'hui" in page and "1 salon actif aujourd'hui" in page
    assert "Général" in page and "Actif maintenant" in page
    html = response.content.decode()
    for secret in ("alicepseudo", "bobpseudo", "seuls les membres", "Salon secret", "secret"):
        assert secret not in html
    assert 'href="/rooms/general/"' not in html  # anonymous: figures, no way in but signing up
    assert 'href="/accounts/signup/"' in html
    # A member gets the same figures, and the rooms as links.
    assert 'href="/rooms/general/"' in client_for(alice).get("/").content.decode()


def test_a_quiet_site_says_so_without_zeros(db):
    page = text_of(Client().get("/"))
    assert "Les salons sont calmes pour l'instant" in page
    assert "0 personne" not in page and "0 message" not in page


# --- posted_at: the demo's past conversations --------------------------------------------


def test_a_post_in_the_past_takes_no_sending_token_and_keeps_its_time(
    settings, make_user, make_room
):
    settings.MESSAGE_RATE_LIMIT = "1/1"
    room, author = make_room(), make_user()
    earlier = timezone.now() - timedelta(hours=3)
    for number in range(3):
        result = actions.do_post_message(
            room, f"ancien {number}", actor=author, posted_at=earlier + timedelta(minutes=number)
        )
        assert result.message.created == earlier + timedelta(minutes=number)
        operation = ContentOperation.objects.get(content_id=result.message.pk)
        assert operation.at == result.message.created and operation.kind == "create"
    actions.do_post_message(room, "maintenant", actor=author)
    with pytest.raises(Refused) as refused:
        actions.do_post_message(room, "encore", actor=author)
    assert refused.value.code == "rate_limited"
    with pytest.raises(Refused) as refused:
        actions.do_post_message(
            room, "demain", actor=author, posted_at=timezone.now() + timedelta(days=1)
        )
    assert refused.value.code == "invalid"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (20, "à l'instant"),
        (5 * 60 + 3, "il y a 5 min"),
        (3 * 3600 + 60, "il y a 3 h"),
        (26 * 3600, "il y a 1 jour"),
        (3 * 86400 + 10, "il y a 3 jours"),
    ],
)
def test_how_long_ago_in_a_few_words(seconds, words):
    assert ago(timezone.now() - timedelta(seconds=seconds)) == words
    assert ago(None) == ""
