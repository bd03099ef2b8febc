"""do_export_own_data: the member's own data, and the export recorded (GDPR art. 15, 20).

The HTTP side (GET /api/me/export/) is in test_api.py; this calls the action itself.
"""

import pytest

from audit.events import AuditEvent
from compliance.actions import do_export_own_data
from tests.compliance.conftest import audit_entries

pytestmark = pytest.mark.django_db


def test_export_own_data_returns_only_the_members_data_and_audits_the_export(
    make_user, make_room, make_message, make_connection, django_capture_on_commit_callbacks
):
    member, other = make_user("ines"), make_user("jules")
    room = make_room("general")
    make_message(room, member, "le mien")
    make_message(room, member, "encore le mien")
    make_message(room, other, "pas le mien")
    make_connection(member, ip="198.51.100.77", port=6060)
    make_connection(other, ip="192.0.2.99", port=1)

    with django_capture_on_commit_callbacks() as callbacks:
        data = do_export_own_data(member, actor=member)

    assert callbacks == []
    assert data["account"]["username"] == "ines"
    assert sorted(m["body"] for m in data["messages"]) == ["encore le mien", "le mien"]
    assert [(c["ip_address"], c["port"]) for c in data["connections"]] == [("198.51.100.77", 6060)]
    (entry,) = audit_entries(AuditEvent.GDPR_DATA_EXPORTED)
    assert (entry.actor_id, entry.target_id) == (member.pk, str(member.pk))
    # Counts only: the exported data itself is never sealed into the trail.
    assert entry.details == {
        "messages": 2,
        "connections": 1,
        "moderator_notes": 0,
        "moderator_notes_withheld": 0,
    }


def test_export_includes_the_pseudonym_history_and_own_content_operations(make_user, make_room):
    from accounts.records import Carrier
    from rooms.actions import do_post_message

    member, other = make_user("ines"), make_user("jules")
    room = make_room("general")
    via = Carrier(None, "198.51.100.77", 6060, "https")
    mine = do_post_message(room, "le mien", actor=member, via=via).message
    do_post_message(room, "pas le mien", actor=other, via=via)

    data = do_export_own_data(member, actor=member)

    assert [(p["name"], p["to"]) for p in data["pseudonyms"]] == [("ines", None)]
    (operation,) = data["content_operations"]
    assert (operation["message_id"], operation["kind"], operation["ip_address"]) == (
        mine.pk,
        "create",
        "198.51.100.77",
    )
    assert (operation["port"], operation["protocol"]) == (6060, "https")
