"""Replies, mentions, edits, deletions, reactions and ignores: the actions'
state, refusals and the events they send once committed (issue 17)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.refusals import RefusalCode, Refused
from rooms import actions, policy, queries
from rooms.models import (
    Block,
    Ignore,
    Mention,
    Message,
    MessageVersion,
    Reaction,
    RoomKind,
    room_group,
    user_group,
)
from rooms.protocol import EDIT_WINDOW_SECONDS, MAX_BODY_LENGTH, GroupEvent
from rooms.text import mentioned_names, message_json

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _commit_effects_run_at_once(monkeypatch):
    """The test's transaction never commits: run on-commit effects at once (the
    wait for the commit itself is tested for posts in test_actions.py)."""
    monkeypatch.setattr(
        "django.db.transaction.on_commit", lambda func, using=None, robust=False: func()
    )


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


def post(room, author, body, **kwargs) -> Message:
    return actions.do_post_message(room, body, actor=author, **kwargs).message


# --- the message JSON ------------------------------------------------------------------------


def test_a_plain_message_has_every_field_of_the_contract(public_room, alice):
    message = post(public_room, alice, "salut")
    payload = message_json(Message.objects.select_related(*queries.MESSAGE_RELATED).get())
    assert payload == {
        "id": message.id,
        "room": public_room.slug,
        "author": "alice",
        "body": "salut",
        "created": message.created.isoformat(),
        "client_id": None,
        "edited": None,
        "reply_to": None,
        "mentions": [],
        "reactions": {},
    }


# --- replies ----------------------------------------------------------------------------------


def test_a_reply_carries_the_original_excerpt(public_room, alice, bob, listen):
    events = listen(room_group(public_room.id))
    original = post(public_room, alice, "Quel film ce soir ?\n" + "long " * 50)
    with_reply = actions.do_post_message(
        public_room, "Dune !", actor=bob, reply_to=original.id
    ).payload
    assert with_reply["reply_to"]["id"] == original.id
    assert with_reply["reply_to"]["author"] == "alice"
    assert with_reply["reply_to"]["excerpt"].startswith("Quel film ce soir ? long")
    assert len(with_reply["reply_to"]["excerpt"]) <= 120
    assert with_reply["reply_to"]["deleted"] is False
    assert events()[-1]["message"]["reply_to"]["id"] == original.id


def test_a_reply_to_a_deleted_message_shows_it_deleted(public_room, alice, bob):
    original = post(public_room, alice, "oups")
    reply = post(public_room, bob, "quoi ?", reply_to=original.id)
    actions.do_delete_own_message(original.id, actor=alice)
    [page] = queries.messages_page(public_room)
    assert page.id == reply.id
    assert message_json(page)["reply_to"] == {
        "id": original.id,
        "author": "alice",
        "excerpt": "",
        "deleted": True,
    }


@pytest.mark.parametrize("reply_to", ["1", 0, -3, True, 10**9])
def test_a_reply_to_nothing_valid_is_refused_and_stores_nothing(public_room, alice, reply_to):
    with pytest.raises(Refused) as refused:
        post(public_room, alice, "réponse", reply_to=reply_to)
    assert refused.value.code == RefusalCode.INVALID
    assert not Message.objects.exists()


def test_a_reply_to_another_rooms_message_is_refused(public_room, make_room, alice):
    elsewhere = post(make_room(), alice, "ailleurs")
    with pytest.raises(Refused) as refused:
        post(public_room, alice, "réponse", reply_to=elsewhere.id)
    assert refused.value.code == RefusalCode.INVALID
    assert Message.objects.count() == 1


# --- mentions ---------------------------------------------------------------------------------


def test_mentioned_names_are_found_in_order_once_without_emails():
    body = "@bob et @Carol, écrivez à x@example.org ; merci @bob. @dana.-"
    assert mentioned_names(body) == ["bob", "Carol", "bob.", "dana.-", "dana"]


def test_mentions_name_existing_accounts_in_order_and_reach_them(
    public_room, alice, bob, make_user, listen
):
    carol = make_user("Carol")
    bob_events, carol_events = listen(user_group(bob.pk)), listen(user_group(carol.pk))
    message = post(public_room, alice, "@carol et @bob, puis @personne et @alice")
    assert message.mentions == ["Carol", "bob", "alice"]
    # The author is not notified of their own mention.
    assert set(Mention.objects.values_list("user__username", flat=True)) == {"Carol", "bob"}
    [event] = bob_events()
    assert event["type"] == GroupEvent.USER_MENTION
    assert event["room"] == public_room.slug
    assert event["message"]["id"] == message.id
    assert carol_events()[0]["message"]["mentions"] == ["Carol", "bob", "alice"]
    assert [m.id for m in queries.recent_mentions(bob)] == [message.id]


def test_no_mention_from_someone_blocked_or_ignored(public_room, alice, bob, make_user, listen):
    carol, dana = make_user("carol"), make_user("dana")
    Block.objects.create(blocker=bob, blocked=alice)
    actions.do_ignore_user(alice, actor=carol)
    Block.objects.create(blocker=alice, blocked=dana)
    heard = {user.username: listen(user_group(user.pk)) for user in (bob, carol, dana)}
    message = post(public_room, alice, "@bob @carol @dana")
    # The field still names them (it is the text's), but nobody is reached.
    assert message.mentions == ["bob", "carol", "dana"]
    assert not Mention.objects.exists()
    assert all(not events() for events in heard.values())


def test_no_mention_in_a_room_one_cannot_read(make_room, alice, bob, listen):
    private = make_room(RoomKind.PRIVATE, owner=alice)
    events = listen(user_group(bob.pk))
    post(private, alice, "@bob ne lit pas ici")
    assert not Mention.objects.exists()
    assert events() == []


def test_a_mention_reaches_no_one_banned_from_the_room(public_room, alice, bob):
    def banned(user, room):
        if user.pk == bob.pk:
            return policy.Verdict(False, code="forbidden", detail="banni", close_code=4403)
        return None

    policy.register_join_check(banned)
    try:
        post(public_room, alice, "@bob")
    finally:
        policy.unregister_check(banned)
    assert not Mention.objects.exists()


# --- edits ------------------------------------------------------------------------------------


def test_an_edit_keeps_the_earlier_versions_and_tells_the_room(public_room, alice, bob, listen):
    message = post(public_room, alice, "Rendez-vous à 8h")
    events = listen(room_group(public_room.id))
    bob_events = listen(user_group(bob.pk))
    actions.do_edit_message(message.id, "Rendez-vous à 9h @bob", actor=alice)
    actions.do_edit_message(message.id, "Rendez-vous à 10h @bob", actor=alice)
    message.refresh_from_db()
    assert message.body == "Rendez-vous à 10h @bob"
    assert message.edited is not None
    assert list(message.versions.values_list("number", "body")) == [
        (0, "Rendez-vous à 8h"),
        (1, "Rendez-vous à 9h @bob"),
    ]
    assert message.body_at_version(0) == "Rendez-vous à 8h"
    assert message.body_at_version(2) == message.body
    first, second = events()
    assert first["type"] == GroupEvent.ROOM_MESSAGE_UPDATED
    assert (first["id"], first["body"]) == (message.id, "Rendez-vous à 9h @bob")
    assert second["edited"] == message.edited.isoformat()
    # A new mention is told once, not again on the next edit.
    assert [e["message"]["id"] for e in bob_events()] == [message.id]
    assert Mention.objects.filter(user=bob).count() == 1
    # Members never see the earlier text.
    assert "8h" not in str(message_json(queries.messages_page(public_room)[0]))


def test_the_same_text_again_is_no_edit(public_room, alice):
    message = post(public_room, alice, "pareil")
    actions.do_edit_message(message.id, "  pareil ", actor=alice)
    message.refresh_from_db()
    assert message.edited is None and not MessageVersion.objects.exists()


def test_only_the_author_edits(public_room, alice, bob):
    message = post(public_room, alice, "à moi")
    with pytest.raises(Refused) as refused:
        actions.do_edit_message(message.id, "à bob", actor=bob)
    assert refused.value.code == RefusalCode.FORBIDDEN
    message.refresh_from_db()
    assert message.body == "à moi" and not MessageVersion.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", RefusalCode.INVALID),
        ("x" * (MAX_BODY_LENGTH + 1), RefusalCode.TOO_LONG),
        (3, "invalid"),
    ],
)
def test_an_invalid_edit_changes_nothing(public_room, alice, body, code):
    message = post(public_room, alice, "avant")
    with pytest.raises(Refused) as refused:
        actions.do_edit_message(message.id, body, actor=alice)
    assert refused.value.code == code
    message.refresh_from_db()
    assert message.body == "avant" and message.edited is None


def test_editing_an_unknown_or_deleted_message_is_not_found(public_room, alice):
    message = post(public_room, alice, "bientôt parti")
    actions.do_delete_own_message(message.id, actor=alice)
    for message_id in (message.id, message.id + 100):
        with pytest.raises(Refused) as refused:
            actions.do_edit_message(message_id, "revenu", actor=alice)
        assert refused.value.code == RefusalCode.NOT_FOUND


def test_the_edit_window_closes(public_room, alice):
    message = post(public_room, alice, "vieux")
    Message.objects.filter(pk=message.pk).update(
        created=timezone.now() - timedelta(seconds=EDIT_WINDOW_SECONDS + 1)
    )
    with pytest.raises(Refused) as refused:
        actions.do_edit_message(message.id, "neuf", actor=alice)
    assert refused.value.code == RefusalCode.FORBIDDEN


def test_an_edit_passes_the_post_checks(public_room, alice):
    message = post(public_room, alice, "correct")

    def no_swearing(user, room, body):
        if "juron" in body:
            return policy.refuse_post(RefusalCode.FILTERED, "filtré")
        return None

    policy.register_post_check(no_swearing)
    try:
        with pytest.raises(Refused) as refused:
            actions.do_edit_message(message.id, "un juron", actor=alice)
    finally:
        policy.unregister_check(no_swearing)
    assert refused.value.code == RefusalCode.FILTERED
    message.refresh_from_db()
    assert message.body == "correct"


def test_the_slow_mode_does_not_stop_an_edit(make_room, alice):
    room = make_room(slow_mode_seconds=60)
    message = post(room, alice, "lent")
    actions.do_edit_message(message.id, "toujours lent", actor=alice)
    message.refresh_from_db()
    assert message.body == "toujours lent"


# --- deletions --------------------------------------------------------------------------------


def test_the_author_deletes_softly_with_reason_author(public_room, alice, listen):
    message = post(public_room, alice, "à effacer")
    events = listen(room_group(public_room.id))
    actions.do_delete_own_message(message.id, actor=alice)
    message.refresh_from_db()
    assert message.deleted_at is not None
    assert message.deleted_by == alice
    assert message.deletion_reason == actions.AUTHOR_DELETION_REASON
    assert message.deleted_by_author
    assert message.body == "à effacer"  # kept until the retention policy purges it
    assert events() == [{"type": GroupEvent.ROOM_MESSAGE_DELETED, "id": message.id}]
    assert queries.messages_page(public_room) == []


def test_only_the_author_deletes_here(public_room, alice, bob, make_staff):
    message = post(public_room, alice, "à moi")
    for other in (bob, make_staff()):
        with pytest.raises(Refused) as refused:
            actions.do_delete_own_message(message.id, actor=other)
        assert refused.value.code == RefusalCode.FORBIDDEN
    message.refresh_from_db()
    assert message.deleted_at is None


# --- reactions --------------------------------------------------------------------------------


def test_reactions_one_per_person_per_emoji_with_live_counts(public_room, alice, bob, listen):
    message = post(public_room, alice, "bonne nouvelle")
    events = listen(room_group(public_room.id))
    assert actions.do_react(message.id, "👍", actor=alice, add=True) == {"👍": 1}
    assert actions.do_react(message.id, "👍", actor=alice, add=True) == {"👍": 1}
    # ❤ without its variation selector is the documented ❤️.
    assert actions.do_react(message.id, "❤", actor=bob, add=True) == {"👍": 1, "❤️": 1}
    assert actions.do_react(message.id, "👍", actor=bob, add=True) == {"👍": 2, "❤️": 1}
    assert actions.do_react(message.id, "👍", actor=alice, add=False) == {"👍": 1, "❤️": 1}
    assert actions.do_react(message.id, "😢", actor=alice, add=False) == {"👍": 1, "❤️": 1}
    assert Reaction.objects.count() == 2
    # Only changes are told: four, not six.
    assert [e["counts"] for e in events()] == [
        {"👍": 1},
        {"👍": 1, "❤️": 1},
        {"👍": 2, "❤️": 1},
        {"👍": 1, "❤️": 1},
    ]
    assert queries.reactors(message) == {"👍": ["bob"], "❤️": ["bob"]}
    assert queries.my_reactions(bob, [message.id]) == {message.id: ["👍", "❤️"]}
    [page] = queries.messages_page(public_room)
    assert message_json(page)["reactions"] == {"👍": 1, "❤️": 1}


@pytest.mark.parametrize("emoji", ["🍕", "", None, 1, "👍👍"])
def test_an_emoji_outside_the_set_is_invalid(public_room, alice, emoji):
    message = post(public_room, alice, "hello")
    with pytest.raises(Refused) as refused:
        actions.do_react(message.id, emoji, actor=alice, add=True)
    assert refused.value.code == RefusalCode.INVALID
    assert not Reaction.objects.exists()


def test_no_reaction_on_a_message_one_cannot_read(make_room, alice, bob):
    private = make_room(RoomKind.PRIVATE, owner=alice)
    message = post(private, alice, "entre nous")
    for user in (bob, alice):
        if user is alice:
            actions.do_delete_own_message(message.id, actor=alice)
        with pytest.raises(Refused) as refused:
            actions.do_react(message.id, "👍", actor=user, add=True)
        assert refused.value.code == RefusalCode.NOT_FOUND
    assert not Reaction.objects.exists()


# --- ignores ----------------------------------------------------------------------------------


def test_ignore_and_unignore(alice, bob, listen):
    events = listen(user_group(alice.pk))
    actions.do_ignore_user(bob, actor=alice)
    actions.do_ignore_user(bob, actor=alice)
    assert Ignore.objects.get().ignored == bob
    assert queries.hidden_from(alice) == {bob.pk}
    assert queries.hidden_from(bob) == set()  # bob is not told, nor affected
    assert actions.do_unignore_user(bob, actor=alice) is True
    assert actions.do_unignore_user(bob, actor=alice) is False
    assert queries.hidden_from(alice) == set()
    assert [e["type"] for e in events()] == [GroupEvent.USER_RELATIONS] * 3
    with pytest.raises(Refused):
        actions.do_ignore_user(alice, actor=alice)


def test_blocks_hide_both_ways(alice, bob):
    actions.do_block_user(bob, actor=alice)
    assert queries.hidden_from(alice) == {bob.pk}
    assert queries.hidden_from(bob) == {alice.pk}
