"""The check before a post (rooms/consumers.py, `_recheck_access`): one
statement when nothing that the full check reads has changed, the full check
as soon as anything has, even behind the signals' back."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rooms import actions, consumers, queries
from rooms.models import Room, RoomKind, RoomMembership
from rooms.protocol import CloseCode

pytestmark = pytest.mark.django_db


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def checked(user, room, session_key):
    """The first check before a post: in full, leaving its fingerprint."""
    room_, user_, verdict, seen = consumers._recheck_access(user.pk, room.slug, session_key)
    assert verdict and room_ == room and user_ == user
    assert seen is not None
    return seen


def test_nothing_changed_costs_one_statement_and_keeps_the_verdict(make_user, make_room):
    alice, room = make_user("alice"), make_room()
    session = session_of(alice)
    seen = checked(alice, room, session)
    with CaptureQueriesContext(connection) as full:
        consumers._check_access(alice.pk, room.slug, session)
    with CaptureQueriesContext(connection) as fast:
        room_, user_, verdict, again = consumers._recheck_access(alice.pk, room.slug, session, seen)
    assert verdict and room_ == room and user_ == alice and again is seen
    # The fingerprint, then moderation's registered join check (its sanctions:
    # read from the database here, as no process cache listens in a plain test).
    assert len(fast) == 2
    assert len(full) > len(fast)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("email", CloseCode.NOT_AUTHENTICATED),
        ("session", CloseCode.NOT_AUTHENTICATED),
        ("password", CloseCode.NOT_AUTHENTICATED),
        ("inactive", CloseCode.NOT_AUTHENTICATED),
        ("age", CloseCode.FORBIDDEN),
        ("archived", CloseCode.NOT_FOUND),
    ],
)
def test_a_change_behind_the_signals_back_is_judged_in_full(make_user, make_room, change, code):
    alice, room = make_user("alice"), make_room()
    session = session_of(alice)
    seen = checked(alice, room, session)
    users = type(alice).objects.filter(pk=alice.pk)
    # QuerySet.update and raw deletes: no signal, no event tells the socket.
    if change == "email":
        EmailAddress.objects.filter(user=alice).update(verified=False)
    elif change == "session":
        Session.objects.filter(session_key=session).delete()
    elif change == "password":
        users.update(password="!changed")
    elif change == "inactive":
        users.update(is_active=False)
    elif change == "age":
        users.update(age_verified_at=None)
    else:
        Room.objects.filter(pk=room.pk).update(is_archived=True)
    _room, _user, verdict, again = consumers._recheck_access(alice.pk, room.slug, session, seen)
    assert not verdict
    assert verdict.close_code == code
    assert again is None


def test_a_membership_removed_behind_the_signals_back_is_judged_in_full(make_user, make_room):
    owner, alice = make_user("owner"), make_user("alice")
    room = make_room(RoomKind.PRIVATE, owner=owner)
    RoomMembership.objects.create(room=room, user=alice)
    session = session_of(alice)
    seen = checked(alice, room, session)
    memberships = RoomMembership.objects.filter(room=room, user=alice)
    memberships._raw_delete(memberships.db)
    _room, _user, verdict, _again = consumers._recheck_access(alice.pk, room.slug, session, seen)
    assert verdict.close_code == CloseCode.FORBIDDEN


def test_a_ban_is_asked_even_when_nothing_else_changed(make_user, make_room, make_staff):
    from moderation import actions as moderation_actions
    from moderation.models import SanctionKind

    alice, room = make_user("alice"), make_room()
    session = session_of(alice)
    seen = checked(alice, room, session)
    moderation_actions.do_issue_sanction(
        alice, actor=make_staff(), kind=SanctionKind.BAN, room=room, reason="Spam."
    )
    _room, _user, verdict, _again = consumers._recheck_access(alice.pk, room.slug, session, seen)
    assert verdict.close_code == CloseCode.FORBIDDEN


def test_direct_rooms_and_staff_are_always_checked_in_full(make_user, make_room, make_staff):
    alice, bob = make_user("alice"), make_user("bob")
    direct = actions.do_open_direct_room(bob, actor=alice)
    assert queries.access_fingerprint(alice.pk, session_of(alice), direct.slug) is None
    staff, room = make_staff(), make_room()
    assert queries.access_fingerprint(staff.pk, session_of(staff), room.slug) is None
    assert queries.access_fingerprint(alice.pk, session_of(alice), room.slug) is not None
    assert queries.access_fingerprint(alice.pk, None, room.slug) is None
