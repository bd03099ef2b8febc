from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.gates import ChatAccess, chat_access
from rooms.management.commands.seed_demo import DEMO_USERS
from rooms.models import Room, RoomKind

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


def test_idempotent(settings):
    settings.DEBUG = True
    run()
    run()
    assert Room.objects.count() == len(NAMES)
    assert get_user_model().objects.count() == len(DEMO_USERS)
