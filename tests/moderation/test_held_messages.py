"""do_hold_message: what an automatic filter keeps for review, and its audit row."""

import pytest

from audit.events import AuditEvent
from audit.models import AuditEntry
from moderation.actions import do_hold_message
from moderation.models import FilterAction, FilterKind, FilterRule, HeldMessage, HeldStatus
from rooms.models import Message

pytestmark = pytest.mark.django_db


def test_hold_message_keeps_the_text_for_a_moderator_and_audits_it(
    room, make_user, django_capture_on_commit_callbacks
):
    author = make_user("zoe")
    rule = FilterRule.objects.create(
        name="contact-hold", kind=FilterKind.CONTACT, action=FilterAction.HOLD
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        held = do_hold_message(rule.pk, author.pk, room.pk, "appelle-moi au 06 12 34 56 78")
    # Nothing reaches the room: the message waits for a moderator.
    assert callbacks == []
    assert not Message.objects.exists()
    stored = HeldMessage.objects.get(pk=held.pk)
    assert (stored.room_id, stored.author_id, stored.rule_id, stored.status) == (
        room.pk,
        author.pk,
        rule.pk,
        HeldStatus.PENDING,
    )
    assert stored.body == "appelle-moi au 06 12 34 56 78"
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.MESSAGE_HELD)
    # The platform holds it (no actor); the text stays out of the sealed details.
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        None,
        "moderation.heldmessage",
        str(held.pk),
    )
    assert entry.details == {"rule": rule.pk, "room": room.pk, "user": author.pk}


def test_a_rule_deleted_meanwhile_still_leaves_the_message_held(room, make_user):
    author = make_user("yan")
    rule = FilterRule.objects.create(
        name="links-hold", kind=FilterKind.LINKS, action=FilterAction.HOLD
    )
    rule_id = rule.pk
    rule.delete()
    held = do_hold_message(rule_id, author.pk, room.pk, "https://bit.ly/x")
    assert HeldMessage.objects.get(pk=held.pk).rule is None
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.MESSAGE_HELD)
    assert entry.details["rule"] == rule_id
