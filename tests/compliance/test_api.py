"""GET /api/me/export/ (GDPR access and portability)."""

import json

from django.urls import reverse

from audit.events import AuditEvent
from tests.compliance.conftest import audit_entries

URL = "/api/me/export/"


def test_the_url_is_the_contracts():
    assert reverse("compliance:api_me_export") == URL


def test_anonymous_visitors_get_json_401_not_a_redirect(client, db):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_the_export_holds_the_members_own_data(
    client, make_user, make_room, make_message, make_connection
):
    from moderation.models import Report, Sanction

    member = make_user("ines")
    other = make_user("jules")
    room = make_room("general")
    mine = make_message(room, member, "mon message")
    make_message(room, other, "pas le mien")
    make_connection(member, ip="198.51.100.77", port=6060)
    make_connection(other, ip="192.0.2.99", port=1)
    Report.objects.create(
        category="spam",
        source="user",
        reporter=member,
        target_user=other,
        severity=4,
        deadline=mine.created,
    )
    Sanction.objects.create(kind="warn", user=member, reason="flood", ground="terms_spam")
    client.force_login(member)

    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert {"account", "messages", "reports", "sanctions", "connections"} <= set(data)
    assert data["account"]["username"] == "ines"
    assert data["account"]["email"] == "ines@example.org"
    assert data["account"]["date_of_birth"] == "1990-01-01"
    assert [m["body"] for m in data["messages"]] == ["mon message"]
    # This record, and the login the test client just made (recorded as every login is).
    connections = [(c["ip_address"], c["port"]) for c in data["connections"]]
    assert connections[0] == ("198.51.100.77", 6060)
    assert [c["kind"] for c in data["connections"]] == ["login", "login"]
    assert [r["category"] for r in data["reports"]] == ["spam"]
    assert [s["kind"] for s in data["sanctions"]] == ["warn"]
    # Nobody else's data: not the reported account's name, not the other connection.
    assert "192.0.2.99" not in response.content.decode()
    assert "pas le mien" not in response.content.decode()

    (entry,) = audit_entries(AuditEvent.GDPR_DATA_EXPORTED)
    assert entry.actor_id == member.pk and entry.target_id == str(member.pk)
    assert entry.details == {
        "messages": 1,
        "connections": 2,
        "moderator_notes": 0,
        "moderator_notes_withheld": 0,
    }


def test_unverified_members_may_export_too(client, make_user):
    member = make_user("kim", email_verified=False, age_verified=False)
    client.force_login(member)
    assert client.get(URL).status_code == 200


def test_only_get(client, make_user):
    client.force_login(make_user("lea"))
    assert client.post(URL).status_code == 405


def test_refusal_is_translated_for_english_browsers(client, db):
    response = client.get(URL, headers={"accept-language": "en"})
    assert response.json()["detail"] == "Sign in to export your data."
    assert client.get(URL).json()["detail"] == "Connectez-vous pour exporter vos données."
