"""The socket open's own parts (docs/performance.md, "Issue 20, third steps"): the
entry and the leave read under the room's lock in few statements on PostgreSQL
(the ORM's path on SQLite), the sanctions' pre-check, the process-wide slot cache."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moderation.models import Sanction
from moderation.queries import may_have_active_sanction
from rooms import actions, socket_limit
from rooms.models import Message, PresenceInterval, RoomMembership, RoomPresence, room_group

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plain statements' path is PostgreSQL's"
)


def test_entry_says_the_sets_before_and_after_and_the_member_count(
    make_user, public_room, listen, django_capture_on_commit_callbacks
):
    alice, bob = make_user("alice"), make_user("bob")
    events = listen(room_group(public_room.id))
    with django_capture_on_commit_callbacks(execute=True):
        first = actions.do_enter_room_counted(public_room, "chan-a1", actor=alice)
        second_tab = actions.do_enter_room_counted(public_room, "chan-a2", actor=alice)
        other = actions.do_enter_room_counted(public_room, "chan-b", actor=bob)
    assert (first.before, first.after, first.members) == ([], ["alice"], 1)
    assert (second_tab.before, second_tab.after, second_tab.members) == (["alice"], ["alice"], 1)
    assert (other.before, other.after, other.members) == (["alice"], ["alice", "bob"], 2)
    # Only the changes are told, with the count read in the same transaction.
    assert [(event["users"], event["members"]) for event in events()] == [
        (["alice"], 1),
        (["alice", "bob"], 2),
    ]
    assert RoomPresence.objects.filter(room=public_room).count() == 3


def test_a_newcomer_joins_through_the_model_and_starts_read_at_the_latest(make_user, public_room):
    author, newcomer = make_user("author"), make_user("newcomer")
    actions.do_post_message(public_room, "déjà là", actor=author)
    latest = Message.objects.filter(room=public_room).latest("id")
    actions.do_enter_room(public_room, "chan-new", actor=newcomer)
    membership = RoomMembership.objects.get(room=public_room, user=newcomer)
    assert membership.last_read_message_id == latest.id
    # A second socket finds the membership and writes none.
    actions.do_enter_room(public_room, "chan-new-2", actor=newcomer)
    assert RoomMembership.objects.filter(room=public_room, user=newcomer).count() == 1


def test_stale_rows_go_but_a_reused_channel_name_is_kept(make_user, public_room):
    ghost, alice = make_user("ghost"), make_user("alice")
    actions.do_enter_room(public_room, "ghost-chan", actor=ghost)
    actions.do_enter_room(public_room, "alice-chan", actor=alice)
    long_ago = timezone.now() - timedelta(hours=1)
    RoomPresence.objects.update(seen_at=long_ago)
    # alice's socket comes back under its channel name (a refresh missed): its
    # row is brought up to date, the ghost's goes, and alice was not online before.
    entered = actions.do_enter_room_counted(public_room, "alice-chan", actor=alice)
    assert (entered.before, entered.after) == ([], ["alice"])
    assert list(RoomPresence.objects.values_list("channel_name", flat=True)) == ["alice-chan"]
    assert RoomPresence.objects.get().seen_at > long_ago


def test_leave_ends_the_interval_with_the_last_socket_only(
    make_user, public_room, listen, django_capture_on_commit_callbacks
):
    alice = make_user("alice")
    events = listen(room_group(public_room.id))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_enter_room(public_room, "chan-1", actor=alice)
        actions.do_enter_room(public_room, "chan-2", actor=alice)
        assert actions.do_leave_room(public_room, "chan-1", actor=alice) == ["alice"]
        assert PresenceInterval.objects.get(user=alice).ended_at is None
        assert actions.do_leave_room(public_room, "chan-2", actor=alice) == []
        # A close the server already handled changes nothing.
        assert actions.do_leave_room(public_room, "chan-2", actor=alice) == []
    interval = PresenceInterval.objects.get(user=alice)
    assert interval.ended_at is not None and interval.seen_at == interval.ended_at
    assert [event["users"] for event in events()] == [["alice"], []]


@postgresql_only
def test_entry_and_leave_take_few_statements_on_postgresql(make_user, public_room):
    """The ORM's path took 10 statements for a first socket and 8 for a last
    close; these counts fail if the open goes back to it."""
    alice = make_user("alice")
    actions.do_enter_room(public_room, "warm", actor=alice)  # alice is a member now
    actions.do_leave_room(public_room, "warm", actor=alice)
    with CaptureQueriesContext(connection) as entry:
        actions.do_enter_room(public_room, "chan-1", actor=alice)
    with CaptureQueriesContext(connection) as second_tab:
        actions.do_enter_room(public_room, "chan-2", actor=alice)
    with CaptureQueriesContext(connection) as leave:
        actions.do_leave_room(public_room, "chan-2", actor=alice)
    # The room's lock, the entry's statement, the interval's write (reopened);
    # a second tab writes no interval; a leave is the lock and one statement.
    assert len(statements(entry)) == 3
    assert len(statements(second_tab)) == 2
    assert len(statements(leave)) == 2


def statements(captured) -> list[str]:
    """What the action ran, without the transaction's own (BEGIN, SAVEPOINT...)."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(control)]


def test_the_sanctions_pre_check(make_user):
    user = make_user()
    assert not may_have_active_sanction(user.pk)
    now = timezone.now()
    fields = {"user": user, "reason": "r", "ground": "terms_spam"}
    lifted = Sanction.objects.create(kind="mute", lifted_at=now, **fields)
    over = Sanction.objects.create(
        kind="ban", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1), **fields
    )
    assert not may_have_active_sanction(user.pk)
    # Not begun yet: "may" (the full query decides), never a false "no".
    Sanction.objects.create(kind="kick", starts_at=now + timedelta(hours=1), **fields)
    assert may_have_active_sanction(user.pk)
    Sanction.objects.filter(kind="kick").delete()
    Sanction.objects.create(kind="ban", ends_at=now + timedelta(hours=1), **fields)
    assert may_have_active_sanction(user.pk)
    assert lifted.pk and over.pk


def test_socket_slots_use_one_cache_object_per_process():
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(socket_limit._slots())) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(cache) for cache in seen}) == 1
    before = seen[0]
    cache_settings = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=cache_settings):
        assert socket_limit._slots() is not before
    assert socket_limit._slots() is not before  # the settings came back: read afresh
