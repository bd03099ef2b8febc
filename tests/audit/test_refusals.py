"""Refused staff attempts are audited, one entry per attempt (audit/refusals.py)."""

import json

import pytest
from prometheus_client import REGISTRY

from audit.events import AuditEvent
from audit.models import AuditEntry
from compliance import actions as compliance_actions
from core.refusals import RefusalCode, Refused
from tests.audit.conftest import entries_since, last_seq
from tests.compliance import conftest as compliance_fixtures
from tests.conftest import grant_model_looks, staff_client

pytestmark = pytest.mark.django_db
# The compliance tests' fixtures (a requisition needs its officer).
officer = compliance_fixtures.officer
open_request = compliance_fixtures.open_request
moderator = compliance_fixtures.moderator

SANCTIONS_API = "/api/moderation/sanctions/"


def refused(before: int) -> list[AuditEntry]:
    return [e for e in entries_since(before) if e.event == AuditEvent.STAFF_ATTEMPT_REFUSED]


def _refusals_counted(code: str) -> float:
    return REGISTRY.get_sample_value("chatsite_staff_refusals_total", {"code": code}) or 0.0


def test_self_approval_of_an_export_is_recorded_once(
    officer, open_request, make_user, django_capture_on_commit_callbacks
):
    legal_request = open_request(accounts=[make_user("rose")])
    compliance_actions.do_verify_legal_request(legal_request, actor=officer)
    before, counted = last_seq(), _refusals_counted("same_officer")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Refused) as caught:
        compliance_actions.do_approve_legal_export(legal_request, actor=officer)
    assert caught.value.code == RefusalCode.SAME_OFFICER
    [entry] = refused(before)
    assert entry.actor_id == officer.pk
    assert entry.details["code"] == "same_officer"
    assert entry.details["surface"].endswith("do_approve_legal_export")
    assert (entry.target_type, entry.target_id) == (
        "compliance.legalrequest",
        str(legal_request.pk),
    )
    assert "autre agent" in entry.reason
    assert _refusals_counted("same_officer") == counted + 1


def test_in_the_admin_an_attempt_is_one_entry_each_time(officer, open_request, make_user):
    legal_request = open_request(accounts=[make_user("rose")])
    compliance_actions.do_verify_legal_request(legal_request, actor=officer)
    client = grant_model_looks(staff_client(officer))
    url = f"/admin/compliance/legalrequest/{legal_request.pk}/do/"
    before = last_seq()
    client.post(url + "approve/")  # self-approval
    client.post(url + "export/")  # no second officer's approval yet
    client.post(url + "approve/")  # and again: a second attempt, a second entry
    assert [e.details["code"] for e in refused(before)] == [
        "same_officer",
        "approval_required",
        "same_officer",
    ]


def test_workflow_refusals_are_not_attempts(officer, open_request, make_user):
    legal_request = open_request(accounts=[make_user("rose")])
    compliance_actions.do_verify_legal_request(legal_request, actor=officer)
    before = last_seq()
    with pytest.raises(Refused) as caught:  # already verified: a state, not authority
        compliance_actions.do_verify_legal_request(legal_request, actor=officer)
    assert caught.value.code == RefusalCode.INVALID_STATUS
    assert refused(before) == []


def test_an_officer_trying_a_moderators_action_is_recorded(officer, make_user):
    client = staff_client(officer)
    before = last_seq()
    body = {"user": make_user("cible").username, "kind": "warn", "reason": "essai"}
    response = client.post(SANCTIONS_API, json.dumps(body), content_type="application/json")
    assert response.status_code == 403
    [entry] = refused(before)
    assert entry.actor_id == officer.pk
    assert entry.details == {"code": "forbidden", "surface": SANCTIONS_API, "method": "POST"}
    # In the admin too: the moderation queue's decision page is not theirs to use.
    before = last_seq()
    assert client.get("/admin/moderation/sanction/add/").status_code == 403
    [entry] = refused(before)
    assert entry.details["surface"] == "admin:moderation_sanction_add"


def test_a_moderator_opening_compliance_pages_is_recorded(moderator):
    client = staff_client(moderator)
    before = last_seq()
    assert client.get("/admin/compliance/legalrequest/").status_code == 403
    [entry] = refused(before)
    assert (entry.actor_id, entry.details["code"]) == (moderator.pk, "forbidden")
    assert entry.details["surface"] == "admin:compliance_legalrequest_changelist"


def test_staff_without_the_second_factor_are_recorded_members_are_not(moderator, make_user):
    before = last_seq()
    unverified = staff_client(moderator, otp_verified=False)
    body = json.dumps({"user": make_user("cible").username, "kind": "warn", "reason": "x"})
    response = unverified.post(SANCTIONS_API, body, content_type="application/json")
    assert response.status_code == 403
    [entry] = refused(before)
    assert entry.details["code"] == "otp_required"
    assert unverified.get("/metrics").status_code == 403
    assert len(refused(before)) == 2

    member = make_user("curieux")
    from django.test import Client

    client = Client()
    client.force_login(member)
    before = last_seq()
    assert client.post(SANCTIONS_API, body, content_type="application/json").status_code == 403
    assert client.get("/metrics").status_code in (401, 403, 404)
    assert refused(before) == []  # a member is not a staff attempt
