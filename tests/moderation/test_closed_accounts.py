"""Moderation forgets a closing account's own standing through its own action."""

import pytest

from audit.events import AuditEvent
from audit.models import AuditEntry
from moderation.actions import do_forget_member
from moderation.models import HeldMessage, HeldStatus, ModerationRecord, TrustedFlagger

pytestmark = pytest.mark.django_db


def test_forget_member_refuses_held_messages_and_ends_trusted_flagger_status(make_user, make_room):
    leaving, other = make_user("partant"), make_user()
    room = make_room()
    pending = HeldMessage.objects.create(room=room, author=leaving, body="retenu")
    released = HeldMessage.objects.create(
        room=room, author=leaving, body="publié", status=HeldStatus.RELEASED
    )
    others = HeldMessage.objects.create(room=room, author=other, body="autre")
    TrustedFlagger.objects.create(user=leaving, organisation="Association")
    TrustedFlagger.objects.create(user=other, organisation="Autre association")
    ModerationRecord.objects.create(user=leaving, violations=2, unfounded_reports=1)
    ModerationRecord.objects.create(user=other, violations=1)

    forgotten = do_forget_member(leaving, actor=None)

    assert forgotten == {
        "held_messages_refused": 1,
        "trusted_flagger_ended": 1,
        "counters_forgotten": 1,
    }
    # The Art. 23 counters served only the closing account's next step.
    assert list(ModerationRecord.objects.values_list("user_id", flat=True)) == [other.pk]
    statuses = dict(HeldMessage.objects.values_list("pk", "status"))
    assert statuses == {
        pending.pk: HeldStatus.REJECTED,
        released.pk: HeldStatus.RELEASED,
        others.pk: HeldStatus.PENDING,
    }
    pending.refresh_from_db()
    assert pending.decided_at is not None and pending.decided_by is None
    assert not TrustedFlagger.objects.get(user=leaving).is_active
    assert TrustedFlagger.objects.get(user=other).is_active
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.MODERATION_MEMBER_FORGOTTEN)
    assert entry.target_id == str(leaving.pk) and entry.actor_id is None
    assert entry.details == forgotten
    # Twice changes nothing more.
    assert do_forget_member(leaving, actor=None) == {
        "held_messages_refused": 0,
        "trusted_flagger_ended": 0,
        "counters_forgotten": 0,
    }
