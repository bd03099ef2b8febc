"""The audit trail in the admin: read-only for everyone, and every look at it recorded."""

import csv
import io

import pytest
from django.urls import reverse

from audit.events import AuditEvent
from audit.models import AuditEntry
from tests.audit.conftest import entries_since, last_seq

CHANGELIST = reverse("admin:audit_auditentry_changelist")
REASON = "réquisition judiciaire 2026-17"


def state_reason(client, url=CHANGELIST):
    return client.post(url, {"access_reason": REASON})


@pytest.mark.django_db
def test_the_trail_is_not_shown_without_a_stated_reason(officer_client, append_entries):
    append_entries(2)
    before = last_seq()
    response = officer_client.get(CHANGELIST)
    assert response.status_code == 403
    assert 'name="access_reason"' in response.text
    assert "test 1" not in response.text  # no entry's content
    assert entries_since(before) == []


@pytest.mark.django_db
def test_a_too_short_reason_is_refused(officer_client):
    before = last_seq()
    response = officer_client.post(CHANGELIST, {"access_reason": "because"})
    assert response.status_code == 403
    assert entries_since(before) == []


@pytest.mark.django_db
def test_stating_a_reason_records_one_entry_then_shows_the_trail(
    officer_client, compliance_officer, append_entries
):
    append_entries(2)
    before = last_seq()
    response = state_reason(officer_client)
    assert response.status_code == 302
    assert entries_since(before) == []  # the look is recorded, not the statement

    page = officer_client.get(CHANGELIST)
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.VIEW_AUDIT_TRAIL
    assert entry.actor_id == compliance_officer.pk
    assert (entry.target_type, entry.target_id) == ("audit.auditentry", "")
    assert entry.reason == REASON
    assert entry.ip_address == "127.0.0.1"
    assert page.status_code == 200
    assert "test 1" in page.text
    assert 'id="audit-chain-status"' in page.text
    assert "entrées vérifiées : intactes" in page.text
    # One reason covers the trail for a while: entries open without asking again.
    detail = officer_client.get(reverse("admin:audit_auditentry_change", args=[1]))
    assert detail.status_code == 200
    assert len(entries_since(before)) == 2  # each look is an entry


@pytest.mark.django_db
def test_the_status_panel_shows_a_broken_chain(officer_client, append_entries, tamper):
    append_entries(3)
    state_reason(officer_client)
    tamper("UPDATE audit_auditentry SET reason = 'x' WHERE seq = 2")
    page = officer_client.get(CHANGELIST)
    assert "ANOMALIE" in page.text
    assert "entry 2: its content does not match its hash" in page.text


@pytest.mark.django_db
def test_filters_by_actor_event_target_and_date(officer_client, make_user, append_entries):
    actor = make_user("filterme", is_staff=True)
    append_entries(2, actor=actor)
    append_entries(1, event=AuditEvent.STAFF_LOGIN)
    state_reason(officer_client)
    by_actor = officer_client.get(CHANGELIST, {"actor_id": actor.pk})
    assert by_actor.status_code == 200
    assert [row.seq for row in by_actor.context["cl"].result_list] == [2, 1]
    by_event = officer_client.get(CHANGELIST, {"event__exact": AuditEvent.STAFF_LOGIN})
    assert [row.seq for row in by_event.context["cl"].result_list] == [3]
    by_target = officer_client.get(CHANGELIST, {"target_type": "rooms.room", "target_id": "1"})
    assert [row.seq for row in by_target.context["cl"].result_list] == [2]
    today = officer_client.get(CHANGELIST, {"created__gte": "2000-01-01 00:00:00+00:00"})
    # With the three earlier views' own entries (the view's own comes after its page).
    assert len(today.context["cl"].result_list) == 6
    searched = officer_client.get(CHANGELIST, {"q": "test 1"})
    assert [row.seq for row in searched.context["cl"].result_list] == [2]
    bad = officer_client.get(CHANGELIST, {"actor_id": "abc"})
    assert bad.status_code in (200, 302)  # the admin's "invalid filter" page, not a crash


@pytest.mark.django_db
def test_no_admin_user_can_add_edit_or_delete_an_entry(superuser_client, append_entries):
    [entry] = append_entries(1)
    state_reason(superuser_client)
    change_url = reverse("admin:audit_auditentry_change", args=[entry.seq])
    assert superuser_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    page = superuser_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.text  # read-only
    edited = superuser_client.post(change_url, {"reason": "forged", "_save": "Save"})
    assert edited.status_code == 403
    deleted = superuser_client.post(
        reverse("admin:audit_auditentry_delete", args=[entry.seq]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    bulk = superuser_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [entry.seq], "post": "yes"}
    )
    assert AuditEntry.objects.get(seq=entry.seq).reason == entry.reason
    assert bulk.status_code in (200, 302)
    changelist = superuser_client.get(CHANGELIST)
    assert "delete_selected" not in changelist.text
    assert reverse("admin:audit_auditentry_add") not in changelist.text


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_see_the_trail(client, make_user):
    from tests.audit.conftest import verified_client

    moderator = make_user("modo", is_staff=True)
    response = verified_client(client, moderator).get(CHANGELIST)
    assert response.status_code == 403
    assert 'name="access_reason"' not in response.text


@pytest.mark.django_db
def test_csv_export_is_recorded_and_holds_the_selection(
    officer_client, compliance_officer, append_entries
):
    append_entries(3)
    append_entries(1, event=AuditEvent.STAFF_LOGIN)
    state_reason(officer_client)
    before = last_seq()
    response = officer_client.get(
        reverse("admin:audit_auditentry_export"), {"event__exact": AuditEvent.ADMIN_CHANGE}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(row["seq"]) for row in rows] == [1, 2, 3]
    assert rows[0]["hash"] == AuditEntry.objects.get(seq=1).hash
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.EXPORT_AUDIT_TRAIL
    assert entry.actor_id == compliance_officer.pk
    assert entry.reason == REASON
    assert entry.details == {
        "filters": {"event__exact": [str(AuditEvent.ADMIN_CHANGE.value)]},
        "rows": 3,
    }


@pytest.mark.django_db
def test_csv_export_defuses_spreadsheet_formulas(officer_client, make_user):
    from django.db import transaction

    from audit.trail import record

    with transaction.atomic():
        record(AuditEvent.ADMIN_CHANGE, actor=None, reason='=HYPERLINK("http://evil")')
    state_reason(officer_client)
    response = officer_client.get(reverse("admin:audit_auditentry_export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["reason"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.django_db
def test_export_without_a_reason_is_refused(officer_client):
    before = last_seq()
    response = officer_client.get(reverse("admin:audit_auditentry_export"))
    assert response.status_code == 403
    assert entries_since(before) == []
