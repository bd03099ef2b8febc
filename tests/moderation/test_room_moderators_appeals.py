"""A room moderator's measure reversed on appeal is marked reversed in the room's record,
as the back office's reversal marks it (moderation/actions/appeals.py)."""

import pytest

from audit.events import AuditEvent
from moderation import actions
from moderation.models import AppealStatus, StatementOfReasons
from tests.moderation.test_room_moderators import (
    appoint,
    audit_rows,
    with_second_factor,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def room_mod(make_user, room):
    return appoint(room, make_user("modo"))


@pytest.fixture
def member(make_user):
    return make_user("membre")


def test_a_reversed_appeal_marks_the_room_moderators_measure_reversed(
    room, room_mod, member, moderator
):
    actor = with_second_factor(room_mod)
    kicked = actions.do_restrict_member_as_room_moderator(
        member, actor=actor, room=room, kind="kick", duration_minutes=60, reason="x"
    )
    statement = StatementOfReasons.objects.get(pk=kicked.statement_id)
    appeal = actions.do_file_appeal(statement, actor=member, text="Je n'ai rien fait.")
    actions.do_decide_appeal(appeal, actor=moderator, reverse_decision=True, answer="Excessif.")
    kicked.refresh_from_db()
    assert kicked.reversed_by_id == moderator.pk and kicked.reversed_at is not None
    assert kicked.reversal_reason == "Excessif."
    assert not kicked.sanction.is_active
    [entry] = audit_rows(AuditEvent.ROOM_MODERATOR_ACTION_REVERSED)
    assert entry.target_id == str(kicked.pk) and entry.details["appeal"] == appeal.pk
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REVERSED


def test_an_upheld_appeal_leaves_the_measure_standing(room, room_mod, member, moderator):
    actor = with_second_factor(room_mod)
    kicked = actions.do_restrict_member_as_room_moderator(
        member, actor=actor, room=room, kind="kick", duration_minutes=60, reason="x"
    )
    statement = StatementOfReasons.objects.get(pk=kicked.statement_id)
    appeal = actions.do_file_appeal(statement, actor=member, text="Je n'ai rien fait.")
    actions.do_decide_appeal(appeal, actor=moderator, reverse_decision=False, answer="Justifié.")
    kicked.refresh_from_db()
    assert kicked.reversed_at is None and kicked.sanction.is_active
    assert audit_rows(AuditEvent.ROOM_MODERATOR_ACTION_REVERSED) == []
