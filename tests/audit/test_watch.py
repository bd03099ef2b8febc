"""Who watches the watchers: compliance reviews the looks, and too many looks at
private conversations or identity files raise an alert (metric and mail)."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY

from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.models import AuditEntry
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db

LOOKS = reverse("admin:audit_stafflook_changelist")
EXPORT = reverse("admin:audit_stafflook_export")
REASON = "Revue mensuelle des consultations"


def look(staff, event=AuditEvent.VIEW_DIRECT_CONVERSATION, *, people=(), target_id="7"):
    return do_record_staff_access(
        event,
        actor=staff,
        target_type="rooms.room",
        target_id=target_id,
        reason="signalement en cours",
        ip_address="192.0.2.9",
        people=people,
    )


def alerts_counted() -> float:
    return REGISTRY.get_sample_value("chatsite_staff_look_alerts_total") or 0.0


def test_over_the_threshold_one_alert_per_window_with_metric_and_mail(
    make_staff, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.AUDIT_LOOK_ALERT_THRESHOLD = 3
    settings.AUDIT_LOOK_ALERT_WINDOW_SECONDS = 3600
    settings.AUDIT_LOOK_ALERT_EMAIL = "conformite@chatsite.example"
    nosy, calm = make_staff("moderator", "curieux"), make_staff("moderator", "calme")
    counted = alerts_counted()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            look(nosy)
        look(nosy, AuditEvent.VIEW_PERSONAL_DATA)  # not a private conversation: not counted
        look(calm)
    assert not AuditEntry.objects.filter(event=AuditEvent.STAFF_LOOK_RATE_EXCEEDED).exists()
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        look(nosy, AuditEvent.VIEW_IDENTITY_DOCUMENT)  # the fourth watched look
        look(nosy)  # the fifth: same window, no second alert
    [alert] = AuditEntry.objects.filter(event=AuditEvent.STAFF_LOOK_RATE_EXCEEDED)
    assert alert.actor_id is None  # the platform raised it
    assert (alert.target_type, alert.target_id) == ("accounts.user", str(nosy.pk))
    assert alert.details == {"looks": 4, "threshold": 3, "window_seconds": 3600}
    assert alerts_counted() == counted + 1
    [mail] = mailoutbox
    assert mail.to == ["conformite@chatsite.example"]
    assert "curieux" in mail.subject and f"= {nosy.pk}" in mail.body


def test_the_alert_mail_goes_to_the_privacy_contact_by_default(
    make_staff, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.AUDIT_LOOK_ALERT_THRESHOLD = 0
    settings.PRIVACY_CONTACT_EMAIL = "dpo@chatsite.example"
    with django_capture_on_commit_callbacks(execute=True):
        look(make_staff("moderator"))
    assert [mail.to for mail in mailoutbox] == [["dpo@chatsite.example"]]


@pytest.fixture
def reviewed(make_staff, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    first, second = make_staff("moderator", "premier"), make_staff("moderator", "second")
    entries = [
        look(first, people=[alice.pk]),
        look(first, AuditEvent.VIEW_CONNECTION_RECORDS, people=[bob.pk]),
        look(second, people=[alice.pk, bob.pk]),
    ]
    # An action is not a look: the review leaves it out.
    from django.db import transaction

    from audit.trail import record

    with transaction.atomic():
        record(AuditEvent.SANCTION_ISSUED, actor=first, target_type="accounts.user", target_id=1)
    officer = make_staff("compliance", "revue")
    client = staff_client(officer)
    assert client.get(LOOKS).status_code == 403  # the review is a look too: a reason first
    client.post(LOOKS, {"access_reason": REASON})
    return {"client": client, "alice": alice, "bob": bob, "first": first, "entries": entries}


def _seqs(response) -> list[int]:
    assert response.status_code == 200
    return [
        entry.seq
        for entry in response.context["cl"].result_list
        if entry.event != AuditEvent.VIEW_AUDIT_TRAIL  # the reviewer's own looks
    ]


def test_compliance_reviews_looks_by_staff_member_person_and_period(reviewed):
    client, entries = reviewed["client"], reviewed["entries"]
    seqs = [entry.seq for entry in entries]
    assert _seqs(client.get(LOOKS)) == seqs[::-1]
    assert _seqs(client.get(LOOKS, {"actor_id": reviewed["first"].pk})) == seqs[1::-1]
    assert _seqs(client.get(LOOKS, {"person_id": reviewed["bob"].pk})) == [seqs[2], seqs[1]]
    # The period is typed in local days (Europe/Paris), not UTC ones.
    today = timezone.localdate(entries[0].created).isoformat()
    assert _seqs(client.get(LOOKS, {"from": today, "to": today})) == seqs[::-1]
    assert _seqs(client.get(LOOKS, {"from": "2001-01-01", "to": "2001-01-31"})) == []
    event = AuditEvent.VIEW_CONNECTION_RECORDS
    assert _seqs(client.get(LOOKS, {"event": int(event)})) == [seqs[1]]


def test_the_review_exports_the_selection_as_csv_and_records_it(reviewed):
    client = reviewed["client"]
    person = reviewed["alice"].pk
    response = client.get(EXPORT, {"person_id": person})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(row["seq"]) for row in rows] == [
        reviewed["entries"][0].seq,
        reviewed["entries"][2].seq,
    ]
    assert rows[0]["staff"] == "premier"
    assert rows[0]["people"] == str(person)
    assert rows[0]["reason"] == "signalement en cours"
    exported = AuditEntry.objects.filter(event=AuditEvent.EXPORT_AUDIT_TRAIL).get()
    assert exported.reason == REASON
    assert exported.details["filters"] == {"person_id": [str(person)]}


def test_moderators_cannot_review_the_looks(make_staff):
    client = staff_client(make_staff("moderator"))
    assert client.get(LOOKS).status_code == 403
    assert AuditEntry.objects.filter(event=AuditEvent.STAFF_ATTEMPT_REFUSED).count() == 1
