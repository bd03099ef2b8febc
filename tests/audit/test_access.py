"""The stated-reason gate: no reason, no personal data; a reason is recorded.

The staff view of a direct conversation is the rooms app's; here a stand-in view
(tests/audit/urls.py) carries the same decorator.
"""

import pytest

from audit.access import ACCESS_GRANT_SECONDS
from audit.events import AuditEvent
from tests.audit.conftest import entries_since, last_seq, verified_client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.audit.urls")]

URL = "/staff/dm/dm-alice-bob/"
API = "/api/staff/dm/dm-alice-bob/"
REASON = "signalement n° 1234 pour harcèlement"


@pytest.fixture
def moderator(make_user):
    return make_user("modo", is_staff=True)


@pytest.fixture
def moderator_client(client, moderator):
    return verified_client(client, moderator)


def test_a_view_without_a_reason_is_refused_and_shows_nothing(moderator_client):
    before = last_seq()
    response = moderator_client.get(URL)
    assert response.status_code == 403
    assert "bonjour" not in response.text
    assert 'name="access_reason"' in response.text
    assert entries_since(before) == []


def test_a_blank_or_short_reason_is_refused(moderator_client):
    before = last_seq()
    for reason in ("", "   ", "parce que"):
        response = moderator_client.post(URL, {"access_reason": reason})
        assert response.status_code == 403
    assert entries_since(before) == []


def test_with_a_reason_each_view_is_recorded_then_shown(moderator_client, moderator):
    before = last_seq()
    response = moderator_client.post(URL, {"access_reason": f"  {REASON}  "})
    assert response.status_code == 302
    assert response["Location"] == URL
    # Stating the reason shows nothing and records nothing: the look does.
    assert entries_since(before) == []

    shown = moderator_client.get(URL)
    assert shown.status_code == 200
    assert shown.json()["messages"] == ["bonjour"]
    [entry] = entries_since(before)
    assert entry.event == AuditEvent.VIEW_DIRECT_CONVERSATION
    assert entry.actor_id == moderator.pk
    assert (entry.target_type, entry.target_id) == ("rooms.room", "dm-alice-bob")
    assert entry.reason == REASON
    assert entry.ip_address == "127.0.0.1"
    # Each look under the grant is an entry of its own.
    moderator_client.get(URL)
    assert len(entries_since(before)) == 2
    # The reason covers this conversation only.
    assert moderator_client.get("/staff/dm/another-room/").status_code == 403


def test_the_grant_expires(moderator_client, monkeypatch):
    import time

    moderator_client.post(URL, {"access_reason": REASON})
    later = time.time() + ACCESS_GRANT_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert moderator_client.get(URL).status_code == 403


def test_members_and_unverified_staff_are_refused_without_a_prompt(client, make_user):
    member = make_user("alice")
    client.force_login(member)
    assert client.post(URL, {"access_reason": REASON}).status_code == 403
    staff_without_otp = make_user("nootp", is_staff=True)
    client.force_login(staff_without_otp)
    response = client.post(URL, {"access_reason": REASON})
    assert response.status_code == 403
    assert 'name="access_reason"' not in response.text


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_api_takes_the_reason_from_a_header_and_records_each_call(moderator_client, moderator):
    before = last_seq()
    refused = moderator_client.get(API)
    assert refused.status_code == 403
    assert refused.json()["error"] == "reason_required"
    assert entries_since(before) == []
    for _ in range(2):
        response = moderator_client.get(API, headers={"X-Access-Reason": REASON})
        assert response.status_code == 200
    entries = entries_since(before)
    assert [entry.event for entry in entries] == [AuditEvent.VIEW_DIRECT_CONVERSATION] * 2
    assert all(entry.reason == REASON for entry in entries)


def test_the_api_answers_401_to_anonymous_callers(client):
    response = client.get(API, headers={"X-Access-Reason": REASON})
    assert response.status_code == 401
