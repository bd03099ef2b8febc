from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from accounts.gates import ChatAccess, chat_access
from rooms import queries
from rooms.management.commands.seed_demo import (
    DEMO_CONVERSATIONS,
    DEMO_DIRECT,
    DEMO_MEMBERS,
    DEMO_USERS,
)
from rooms.models import (
    ContactRequest,
    ContactRequestStatus,
    ContentOperation,
    Message,
    Reaction,
    Room,
    RoomKind,
    RoomMembership,
)

pytestmark = pytest.mark.django_db

NAMES = ["Général", "Paris", "Lyon", "Musique", "Cinéma", "Jeux vidéo", "Sport", "LGBTQ+"]


def run() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_rooms_without_demo_users_when_debug_is_off(settings):
    settings.DEBUG = False
    run()
    rooms = Room.objects.filter(kind=RoomKind.PUBLIC)
    assert sorted(rooms.values_list("name", flat=True)) == sorted(NAMES)
    assert not get_user_model().objects.exists()


def test_demo_users_under_debug_are_verified_and_printed(settings, client):
    settings.DEBUG = True
    output = run()
    for username, password in DEMO_USERS:
        user = get_user_model().objects.get(username=username)
        assert chat_access(user) is ChatAccess.ALLOWED
        assert password in output
        assert client.login(username=username, password=password)


def snapshot() -> dict:
    return {
        "rooms": Room.objects.count(),
        "users": get_user_model().objects.count(),
        "messages": list(Message.objects.order_by("id").values_list("id", "created", "body")),
        "operations": ContentOperation.objects.count(),
        "memberships": RoomMembership.objects.count(),
        "reactions": Reaction.objects.count(),
        "requests": list(ContactRequest.objects.values_list("room_id", "status")),
    }


def test_idempotent(settings):
    settings.DEBUG = True
    run()
    first = snapshot()
    output = run()
    assert snapshot() == first
    assert "0 message(s) de démonstration écrit(s)" in output
    assert first["rooms"] == len(NAMES) + len(DEMO_DIRECT)  # the public rooms, the conversations
    assert first["users"] == len(DEMO_USERS) + len(DEMO_MEMBERS)


def test_no_conversation_when_debug_is_off(settings):
    settings.DEBUG = False
    run()
    assert not Message.objects.exists()


def test_conversations_go_through_the_write_path_spread_over_the_last_days(settings, client):
    settings.DEBUG = True
    started = timezone.now()
    output = run()
    messages = Message.objects.select_related("room", "author")
    expected = sum(len(lines) for lines in DEMO_CONVERSATIONS.values())
    expected += sum(len(conversation.lines) for conversation in DEMO_DIRECT)
    assert messages.count() == expected
    assert f"{expected} message(s) de démonstration écrit(s)" in output
    # Each has its content operation, as any post (rooms/actions/write_path.py), at its time.
    operations = dict(ContentOperation.objects.values_list("content_id", "at"))
    assert operations == {message.pk: message.created for message in messages}
    # Over the last days, in time order within each room (ids follow time).
    times = [message.created for message in messages]
    assert min(times) < started - timedelta(days=1) and max(times) <= started
    assert max(times) > started - timedelta(minutes=10)  # a room is active now
    for room in Room.objects.all():
        in_room = list(messages.filter(room=room).order_by("id").values_list("created", flat=True))
        assert in_room == sorted(in_room)
    # Several public rooms talk; their authors are members, who read up to their own last line.
    talking = Room.objects.filter(kind=RoomKind.PUBLIC, messages__isnull=False).distinct()
    assert talking.count() >= 5
    general = Room.objects.get(slug="general")
    authors = set(messages.filter(room=general).values_list("author__username", flat=True))
    assert set(general.memberships.values_list("user__username", flat=True)) == authors
    # Replies and reactions, as members make them.
    assert messages.filter(reply_to__isnull=False).exists() and Reaction.objects.exists()
    assert not messages.filter(reply_to__isnull=False).exclude(reply_to__room=F("room")).exists()
    # Direct conversations between demo accounts: two accepted, one request waiting.
    statuses = sorted(ContactRequest.objects.values_list("status", flat=True))
    assert statuses == [ContactRequestStatus.ACCEPTED] * 2 + [ContactRequestStatus.PENDING]
    camille = get_user_model().objects.get(username="camille")
    sacha = get_user_model().objects.get(username="sacha")
    direct = queries.direct_room(camille, sacha)
    assert direct.kind == RoomKind.DIRECT
    assert set(messages.filter(room=direct).values_list("author__username", flat=True)) == {
        "camille",
        "sacha",
    }
    dominique = get_user_model().objects.get(username="dominique")
    [waiting] = queries.pending_contact_requests(dominique)
    assert waiting.sender.username == "nadia"
    # What a demo account sees: rooms with life, and its conversations.
    client.force_login(sacha)
    page = client.get("/rooms/").content.decode()
    assert "Actif maintenant" in page
    # "N messages aujourd'hui" counts from local midnight: just after it, the
    # demo's recent lines may all be yesterday's, and the page then says nothing.
    midnight = timezone.localtime(started).replace(hour=0, minute=0, second=0, microsecond=0)
    if messages.filter(room__kind=RoomKind.PUBLIC, created__gte=midnight).exists():
        assert "aujourd'hui" in page
    assert 'href="/dm/camille/"' in page and 'href="/dm/dominique/"' in page


def test_the_voices_without_password_cannot_sign_in(settings, client):
    settings.DEBUG = True
    run()
    for username in DEMO_MEMBERS:
        user = get_user_model().objects.get(username=username)
        assert not user.has_usable_password()
        assert chat_access(user) is ChatAccess.ALLOWED
