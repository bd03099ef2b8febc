"""The moderation JSON API of docs/moderation.md: members' reports, moderators' sanctions
and removals, always JSON 401/403, never a redirect."""

import json

import pytest
from django.test import Client

from audit.events import AuditEvent
from audit.models import AuditEntry
from moderation.models import Report, Sanction, StatementOfReasons
from tests.moderation.conftest import post_message, verified_client

pytestmark = pytest.mark.django_db


def call(client: Client, method: str, url: str, data=None, *, csrf=True):
    """Sends JSON with the CSRF cookie echoed in X-CSRFToken, as browsers do."""
    client.get("/decisions/")  # any page: sets the csrftoken cookie for signed-in users
    token = client.cookies.get("csrftoken")
    headers = {"X-CSRFToken": token.value} if csrf and token else {}
    return getattr(client, method)(
        url, json.dumps(data or {}), content_type="application/json", headers=headers
    )


@pytest.fixture
def member(make_user):
    return make_user("membre")


@pytest.fixture
def member_client(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    return client


@pytest.fixture
def message(room, make_user):
    return post_message(room, make_user("fautif"), "message douteux")


# --- POST /api/reports/ ---------------------------------------------------------------------------


def test_reporting_a_message(member_client, member, message):
    response = call(
        member_client,
        "post",
        "/api/reports/",
        {"message": message.pk, "category": "harassment", "details": "Il me suit."},
    )
    assert response.status_code == 201
    report = Report.objects.get(pk=response.json()["id"])
    assert report.reporter == member and report.target_message == message


def test_reporting_a_profile(member_client, message):
    response = call(member_client, "post", "/api/reports/", {"user": "fautif", "category": "scam"})
    assert response.status_code == 201
    assert Report.objects.get(pk=response.json()["id"]).target_user.username == "fautif"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"message": 1, "user": "fautif", "category": "spam"}, 400),
        ({"category": "spam"}, 400),
        ({"message": "1", "category": "spam"}, 400),
        ({"message": 10**9, "category": "spam"}, 404),
        ({"user": "personne", "category": "spam"}, 404),
        ({"user": "fautif", "category": "bad"}, 400),
        ({"user": "fautif", "category": "spam", "details": "x" * 2001}, 400),
        ({"user": "fautif", "category": "spam", "threat_to_life": "yes"}, 400),
    ],
)
def test_bad_reports_get_clear_errors(member_client, message, data, status):
    response = call(member_client, "post", "/api/reports/", data)
    assert response.status_code == status
    assert response.json()["detail"]
    assert not Report.objects.exists()


def test_reports_need_a_signed_in_member_and_csrf(client, member_client, message):
    anonymous = client.post("/api/reports/", {}, content_type="application/json")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_authenticated"
    no_csrf = call(
        member_client, "post", "/api/reports/", {"user": "fautif", "category": "spam"}, csrf=False
    )
    assert no_csrf.status_code == 403 and no_csrf.json()["error"] == "csrf"
    assert member_client.get("/api/reports/").status_code == 405


def test_an_alert_from_a_direct_conversation(member_client, member, make_user):
    from rooms import actions as room_actions

    stranger = make_user("inconnu")
    direct = room_actions.do_open_direct_room(member, actor=stranger)
    response = call(
        member_client,
        "post",
        "/api/reports/alert/",
        {"room": direct.slug, "details": "Il connaît mon adresse.", "threat_to_life": True},
    )
    assert response.status_code == 201
    report = Report.objects.get(pk=response.json()["id"])
    assert report.source == "alert" and report.threat_to_life
    assert report.escalations.exists()


# --- moderators -----------------------------------------------------------------------------------


def test_a_moderator_bans_through_the_api(moderator, message):
    client = verified_client(moderator)
    response = call(
        client,
        "post",
        "/api/moderation/sanctions/",
        {
            "user": "fautif",
            "kind": "ban",
            "room": "general",
            "duration_minutes": 60,
            "reason": "Harcèlement.",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "ban" and body["room"] == "general" and body["ends_at"]
    sanction = Sanction.objects.get(pk=body["id"])
    assert sanction.issued_by == moderator and sanction.room.slug == "general"
    assert AuditEntry.objects.filter(
        event=AuditEvent.SANCTION_ISSUED, target_id=str(sanction.pk), actor_id=moderator.pk
    ).exists()


def test_a_site_wide_permanent_mute(moderator, message):
    response = call(
        verified_client(moderator),
        "post",
        "/api/moderation/sanctions/",
        {"user": "fautif", "kind": "mute", "room": None, "duration_minutes": None, "reason": "r"},
    )
    assert response.status_code == 201
    assert response.json()["room"] is None and response.json()["ends_at"] is None


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"user": "fautif", "kind": "ban", "reason": ""}, 400),
        ({"user": "fautif", "kind": "zap", "reason": "r"}, 400),
        ({"user": "fautif", "kind": "ban", "reason": "r", "duration_minutes": -5}, 400),
        ({"user": "fautif", "kind": "ban", "reason": "r", "room": "nowhere"}, 404),
        ({"user": "personne", "kind": "ban", "reason": "r"}, 404),
        ({"user": "fautif", "kind": "ban", "reason": "r", "clause": "R99"}, 400),
        ({"user": "fautif", "kind": "ban", "reason": "r", "clause": 4}, 400),
    ],
)
def test_bad_sanctions_get_clear_errors(moderator, message, data, status):
    response = call(verified_client(moderator), "post", "/api/moderation/sanctions/", data)
    assert response.status_code == status
    assert not Sanction.objects.exists()


def test_a_sanction_cites_a_rule_through_the_api(moderator, message):
    response = call(
        verified_client(moderator),
        "post",
        "/api/moderation/sanctions/",
        {"user": "fautif", "kind": "warn", "reason": "Insultes.", "clause": "R4"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["clause"] == "R4"
    sanction = Sanction.objects.get(pk=response.json()["id"])
    assert (sanction.clause, sanction.ground) == ("R4", "terms_harassment")
    assert sanction.statement.clause == "R4"


def test_an_unknown_rule_is_a_clear_400(moderator, message):
    response = call(
        verified_client(moderator),
        "post",
        "/api/moderation/sanctions/",
        {"user": "fautif", "kind": "warn", "reason": "r", "clause": "R42"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert "R42" in body["detail"] and "/rules/" in body["detail"]
    assert not Sanction.objects.exists()


def test_removing_a_message_with_a_rule(moderator, message):
    client = verified_client(moderator)
    url = f"/api/moderation/messages/{message.pk}/"
    assert call(client, "delete", url, {"reason": "r", "clause": "X"}).status_code == 400
    message.refresh_from_db()
    assert message.deleted_at is None
    assert call(client, "delete", url, {"reason": "Flood.", "clause": "R10"}).status_code == 204
    assert StatementOfReasons.objects.get(message=message).clause == "R10"


def test_removing_a_message(moderator, message):
    client = verified_client(moderator)
    url = f"/api/moderation/messages/{message.pk}/"
    assert call(client, "delete", url, {}).status_code == 400  # a reason is required
    response = call(client, "delete", url, {"reason": "Insulte."})
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.deleted_at is not None and message.deletion_reason == "Insulte."
    assert StatementOfReasons.objects.filter(message=message, measure="removal").exists()
    assert (
        call(client, "delete", "/api/moderation/messages/999999/", {"reason": "r"}).status_code
        == 404
    )


def test_the_staff_api_refuses_everyone_else_as_json(client, make_user, moderator, message):
    url = "/api/moderation/sanctions/"
    data = {"user": "fautif", "kind": "ban", "reason": "r"}
    anonymous = client.post(url, data, content_type="application/json")
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/json"
    member = Client()
    member.force_login(make_user())
    assert call(member, "post", url, data).status_code == 403
    # Staff signed in without the second factor.
    unverified = Client()
    unverified.force_login(moderator)
    response = call(unverified, "post", url, data)
    assert response.status_code == 403 and response.json()["error"] == "otp_required"
    delete = unverified.delete(f"/api/moderation/messages/{message.pk}/")
    assert delete.status_code == 403
    assert not Sanction.objects.exists()


def test_compliance_staff_cannot_sanction(make_staff, message):
    compliance = make_staff("compliance")
    response = call(
        verified_client(compliance),
        "post",
        "/api/moderation/sanctions/",
        {"user": "fautif", "kind": "ban", "reason": "r"},
    )
    assert response.status_code == 403


def test_the_queue_counts(moderator, message, make_user):
    from moderation import actions

    actions.do_file_report(actor=make_user(), category="child_safety", message=message)
    counts = verified_client(moderator).get("/api/moderation/queue/").json()
    assert counts["open"] == 1 and counts["urgent"] == 1


def test_the_api_takes_the_legal_provision_of_an_illegal_content_decision(moderator, message):
    client = verified_client(moderator)
    url = f"/api/moderation/messages/{message.pk}/"
    refused = call(client, "delete", url, {"reason": "Illégal.", "ground": "illegal"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid" and "legal_provision" in refused.json()["detail"]
    assert not StatementOfReasons.objects.exists()
    unknown = call(client, "delete", url, {"reason": "Illégal.", "legal_provision": "CP-0"})
    assert unknown.status_code == 400
    removed = call(client, "delete", url, {"reason": "Menace.", "legal_provision": "CP-222-17"})
    assert removed.status_code == 204
    assert StatementOfReasons.objects.get(message=message).legal_provision == "CP-222-17"
    response = call(
        client,
        "post",
        "/api/moderation/sanctions/",
        {"user": "fautif", "kind": "ban", "reason": "Menaces.", "legal_provision": "CP-222-17"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["legal_provision"] == "CP-222-17"
    assert response.json()["ground"] == "illegal" and response.json()["clause"] == "R11"
