"""rooms/policy.py: who may read, join and post where, and the checks other apps register.

Each verdict is asked of the real function with real rows; the socket, the API and the
pages that act on these verdicts are tested in their own modules.
"""

import pytest
from django.utils import timezone

from accounts.models import DirectMessagePolicy
from core.refusals import RefusalCode
from rooms import actions, policy
from rooms.models import RoomKind, RoomMembership, RoomRole
from rooms.protocol import CloseCode
from tests.conftest import otp_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def registered():
    """Registers checks for one test only, as another app's AppConfig.ready() would."""
    added = []

    def register(kind, check=None):
        if check is None:  # used as a decorator
            return lambda function: register(kind, function)
        {"join": policy.register_join_check, "post": policy.register_post_check}[kind](check)
        added.append(check)
        return check

    yield register
    for check in added:
        policy.unregister_check(check)


def assert_refused(verdict, *, code=None, close_code=None):
    assert not verdict and verdict.allowed is False
    assert verdict.detail  # a reason a person can read
    if code is not None:
        assert verdict.code == str(code)
    if close_code is not None:
        assert verdict.close_code == int(close_code)


# --- the account ---------------------------------------------------------------------


def test_account_verdict_follows_the_accounts_gate(make_user, alice):
    assert policy.account_verdict(alice) is policy.ALLOWED
    assert_refused(
        policy.account_verdict(make_user(email_verified=False)),
        close_code=CloseCode.NOT_AUTHENTICATED,
    )
    assert_refused(
        policy.account_verdict(make_user(age_verified=False)), close_code=CloseCode.FORBIDDEN
    )


# --- reading and joining ---------------------------------------------------------------


def test_a_public_room_is_read_by_any_verified_adult_until_archived(make_room, make_staff, alice):
    room = make_room()
    assert policy.can_read(alice, room)
    moderator = make_staff()
    moderator.age_verified_at = timezone.now()  # the chat's own gate applies to staff too
    moderator.save(update_fields=["age_verified_at"])
    moderator = otp_verified(moderator)
    actions.do_archive_room(room, actor=moderator, reason="fin")
    room.refresh_from_db()
    assert_refused(policy.can_read(alice, room), close_code=CloseCode.NOT_FOUND)
    # Staff past their second factor still read an archived room (moderation and
    # legal requests); without it, they are members like any other.
    assert policy.can_read(moderator, room)
    unverified = type(moderator).objects.get(pk=moderator.pk)
    assert_refused(policy.can_read(unverified, room), close_code=CloseCode.NOT_FOUND)


def test_a_private_room_is_read_by_its_members_only(make_room, alice, bob):
    room = make_room(RoomKind.PRIVATE, owner=alice)
    assert policy.can_read(alice, room)
    assert_refused(policy.can_read(bob, room), close_code=CloseCode.FORBIDDEN)


def test_a_direct_room_waits_for_its_recipient_then_closes_on_a_block(alice, bob):
    room = actions.do_open_direct_room(bob, actor=alice)
    assert policy.can_read(alice, room)
    # Bob has not accepted alice's request yet: he answers it before reading on.
    assert policy.held_for(room, bob) is not None
    assert_refused(policy.can_read(bob, room), close_code=CloseCode.FORBIDDEN)
    actions.do_accept_contact_request(policy.held_for(room, bob), actor=bob)
    assert policy.held_for(room, bob) is None and policy.can_read(bob, room)
    actions.do_block_user(alice, actor=bob)
    # Closed, not taken away: both keep the history, neither gets a live socket
    # nor may post, and both read the same words (the blocked one is not told).
    for user in (alice, bob):
        assert policy.can_read(user, room)
        refusal = policy.can_join(user, room)
        assert_refused(refusal, close_code=CloseCode.FORBIDDEN)
        assert refusal.detail == "Cette conversation est fermée."
        assert_refused(policy.can_post(user, room, "encore ?"), code=RefusalCode.BLOCKED)


def test_join_adds_the_registered_checks_to_reading(make_room, alice, bob, registered):
    room = make_room()
    refusal = policy.refuse_join(CloseCode.FORBIDDEN, "banni ici")

    @registered("join")
    def ban_bob(user, checked_room):
        return refusal if user == bob and checked_room == room else None

    assert policy.can_join(alice, room)
    assert policy.can_join(bob, room) == refusal
    # Reading asks them too: a ban refuses the page and the history as the socket.
    assert policy.can_read(bob, room) == refusal


def test_a_check_registered_twice_is_asked_once_and_not_after_unregistering(
    make_room, alice, registered
):
    room = make_room()
    asked = []

    def check(user, checked_room):
        asked.append(user)

    registered("join", check)
    registered("join", check)
    assert policy.can_join(alice, room)
    assert asked == [alice]
    policy.unregister_check(check)
    assert policy.can_join(alice, room)
    assert asked == [alice]


# --- posting ----------------------------------------------------------------------------


def test_post_is_refused_in_an_archived_room_and_outside_a_private_one(
    make_room, make_staff, alice, bob
):
    private = make_room(RoomKind.PRIVATE, owner=alice)
    assert policy.can_post(alice, private, "bonjour")
    assert_refused(policy.can_post(bob, private, "bonjour"), code=RefusalCode.INVALID)
    public = make_room()
    actions.do_archive_room(public, actor=otp_verified(make_staff()), reason="fin")
    public.refresh_from_db()
    assert_refused(policy.can_post(alice, public, "bonjour"), code=RefusalCode.INVALID)


def test_post_refuses_an_account_the_gate_refuses_unless_the_caller_checked_it(
    make_room, make_user
):
    room = make_room()
    unverified = make_user(age_verified=False)
    assert_refused(policy.can_post(unverified, room, "bonjour"), code=RefusalCode.INVALID)
    # A socket checked the account on connect: the per-message query is spared.
    assert policy.can_post(unverified, room, "bonjour", account_checked=True)


def test_direct_messages_follow_blocks_and_the_recipients_setting(make_user, alice, bob):
    assert policy.direct_message_verdict(alice, bob, None)
    bob.direct_messages_from = DirectMessagePolicy.NOBODY
    bob.save()
    assert_refused(policy.direct_message_verdict(alice, bob, None), code=RefusalCode.BLOCKED)

    bob.direct_messages_from = DirectMessagePolicy.CONTACTS
    bob.save()
    assert_refused(policy.direct_message_verdict(alice, bob, None), code=RefusalCode.BLOCKED)
    # A conversation bob started is one with a contact.
    room = actions.do_open_direct_room(alice, actor=bob)
    assert policy.direct_message_verdict(alice, bob, room)
    actions.do_accept_contact_request(policy.held_for(room, alice), actor=alice)
    assert policy.can_post(alice, room, "salut")

    actions.do_block_user(bob, actor=alice)
    assert_refused(policy.direct_message_verdict(bob, alice, room), code=RefusalCode.BLOCKED)
    assert_refused(policy.can_post(bob, room, "salut ?"), code=RefusalCode.BLOCKED)


def test_the_recipient_of_an_unanswered_request_answers_before_writing(alice, bob):
    room = actions.do_open_direct_room(bob, actor=alice)
    assert policy.can_post(alice, room, "bonjour")
    assert_refused(policy.can_post(bob, room, "bonjour"), code=RefusalCode.BLOCKED)


def test_slow_mode_spaces_members_posts_but_not_the_room_staffs(make_room, alice, bob):
    room = make_room(RoomKind.PRIVATE, owner=alice, slow_mode_seconds=60)
    RoomMembership.objects.create(room=room, user=bob, role=RoomRole.MEMBER)
    for author in (alice, bob):
        actions.do_post_message(room, "premier", actor=author)
    verdict = policy.can_post(bob, room, "second")
    assert_refused(verdict, code=RefusalCode.RATE_LIMITED)
    assert "60" in verdict.detail
    assert policy.is_room_staff(alice, room) and not policy.is_room_staff(bob, room)
    assert policy.can_post(alice, room, "second")


def test_post_asks_the_registered_checks_last(make_room, alice, bob, registered):
    room = make_room()
    refusal = policy.refuse_post(RefusalCode.FILTERED, "mot interdit")
    asked = []

    @registered("post")
    def no_spam(user, checked_room, body):
        asked.append(body)
        return refusal if "spam" in body else None

    assert policy.can_post(alice, room, "bonjour")
    assert policy.can_post(alice, room, "du spam") == refusal
    # A room refusal comes first: the registered check is not even asked.
    private = make_room(RoomKind.PRIVATE, owner=alice)
    assert_refused(policy.can_post(bob, private, "du spam"), code=RefusalCode.INVALID)
    assert asked == ["bonjour", "du spam"]
