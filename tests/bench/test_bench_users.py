"""`manage.py bench_users`: signed-in verified adults and open public rooms, idempotently."""

import json

import pytest
from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest
from django.test import override_settings

from accounts.gates import ChatAccess, chat_access
from accounts.models import User
from rooms.models import Room, RoomKind

pytestmark = pytest.mark.django_db


def signed_in_user(cookie: str):
    name, _, key = cookie.partition("=")
    assert name == "sessionid"
    request = HttpRequest()
    request.session = SessionStore(session_key=key)
    return get_user(request)


@override_settings(DEBUG=False)
def test_refuses_without_debug_or_the_explicit_flag(tmp_path):
    out = tmp_path / "users.json"
    with pytest.raises(CommandError, match="bench-database"):
        call_command("bench_users", count=2, out=str(out))
    assert not out.exists()
    assert not User.objects.filter(username__startswith="bench_").exists()


def test_creates_signed_in_verified_adults_and_public_rooms(tmp_path):
    out = tmp_path / "users.json"
    call_command("bench_users", count=3, rooms=2, out=str(out), bench_database=True)

    data = json.loads(out.read_text())
    assert data["rooms"] == ["bench-1", "bench-2"]
    assert [u["username"] for u in data["users"]] == ["bench_0001", "bench_0002", "bench_0003"]
    for entry in data["users"]:
        user = signed_in_user(entry["cookie"])
        assert user.is_authenticated
        assert user.username == entry["username"]
        assert chat_access(user) == ChatAccess.ALLOWED
        assert not user.has_usable_password()
    rooms = Room.objects.filter(slug__in=data["rooms"])
    assert {room.kind for room in rooms} == {RoomKind.PUBLIC}
    assert not any(room.is_archived for room in rooms)


def test_second_run_reuses_users_and_rooms(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    call_command("bench_users", count=2, rooms=1, out=str(first), bench_database=True)
    ids = set(User.objects.filter(username__startswith="bench_").values_list("id", flat=True))

    call_command("bench_users", count=2, rooms=1, out=str(second), bench_database=True)

    assert (
        set(User.objects.filter(username__startswith="bench_").values_list("id", flat=True)) == ids
    )
    assert Room.objects.filter(slug="bench-1").count() == 1
    for entry in json.loads(second.read_text())["users"]:
        assert signed_in_user(entry["cookie"]).is_authenticated
