"""The compliance back office: Compliance group only, every access audited."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.events import AuditEvent
from compliance.models import LegalRequest, LegalRequestStatus
from tests.compliance.conftest import audit_entries, verified_client

CHANGELIST = "/admin/compliance/legalrequest/"
DASHBOARD = "/admin/compliance/legalrequest/dashboard/"
REASON = {"access_reason": "Réquisition PV-2026-0001 du parquet"}


def _with_reason(client, url=CHANGELIST):
    response = client.post(url, REASON)
    assert response.status_code == 302
    return client


@pytest.fixture
def officer_client(officer):
    return _with_reason(verified_client(officer))


def test_moderators_see_none_of_it(moderator, make_user, open_request):
    client = verified_client(moderator)
    legal_request = open_request(accounts=[make_user("pia")])
    for url in (
        CHANGELIST,
        DASHBOARD,
        f"{CHANGELIST}{legal_request.pk}/change/",
        "/admin/compliance/restrictedrecord/",
        "/admin/compliance/legalhold/",
    ):
        assert client.get(url).status_code == 403, url
    assert "/admin/compliance/" not in client.get("/admin/").content.decode()


def test_every_access_needs_a_recorded_reason(officer):
    client = verified_client(officer)
    response = client.get(CHANGELIST)
    assert response.status_code == 403  # the reason form, not the list
    _with_reason(client)
    assert client.get(CHANGELIST).status_code == 200
    (entry,) = audit_entries(AuditEvent.VIEW_LEGAL_REQUESTS)
    assert entry.actor_id == officer.pk
    assert entry.reason == REASON["access_reason"]


def test_opening_a_requisition_in_the_admin(officer_client, officer, make_user, make_room):
    # A pseudonym names whoever held it during the period: quentin signed up before it.
    make_user("quentin", date_joined=datetime(2026, 9, 1, tzinfo=UTC))
    make_room("general")
    response = officer_client.post(
        f"{CHANGELIST}add/",
        {
            "reference": "PV-75-2026-118",
            "authority": "Brigade de protection des mineurs",
            "legal_basis": "cpp_60_1",
            "received_at": "2026-11-20T09:00",
            "deadline": "2026-11-23T18:00",
            "accounts": "quentin",
            "rooms": "general",
            "period_start": "2026-10-01T00:00",
            "period_end": "2026-11-20T00:00",
            "data_categories": ["identity", "connections"],
            "assigned_officer": officer.pk,
            "place_holds": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    legal_request = LegalRequest.objects.get(reference="PV-75-2026-118")
    assert legal_request.holds.count() == 2
    assert legal_request.data_categories == ["connections", "identity"]
    assert len(audit_entries(AuditEvent.LEGAL_REQUEST_OPENED)) == 1


def test_unknown_account_is_a_form_error(officer_client, officer):
    response = officer_client.post(
        f"{CHANGELIST}add/",
        {
            "reference": "X",
            "authority": "Y",
            "legal_basis": "cpp_60_1",
            "received_at": "2026-11-20T09:00",
            "deadline": "2026-11-23T18:00",
            "accounts": "nobody-here",
            "period_start": "2026-10-01T00:00",
            "period_end": "2026-11-20T00:00",
            "data_categories": ["identity"],
            "assigned_officer": officer.pk,
        },
    )
    assert response.status_code == 200
    assert "Compte inconnu : nobody-here" in response.content.decode()
    assert not LegalRequest.objects.exists()


def test_export_button_needs_the_second_officer(
    officer_client,
    second_officer,
    make_user,
    open_request,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    settings.COMPLIANCE_EXPORT_DIR = tmp_path
    legal_request = open_request(
        accounts=[make_user("rose")], deadline=timezone.now() + timedelta(days=1)
    )
    detail = f"{CHANGELIST}{legal_request.pk}/change/"
    page = officer_client.get(detail).content.decode()
    assert "Échéance proche" in page

    officer_client.post(f"{CHANGELIST}{legal_request.pk}/do/verify/")
    response = officer_client.post(f"{CHANGELIST}{legal_request.pk}/do/export/", follow=True)
    assert "second agent" in response.content.decode()
    assert list(tmp_path.iterdir()) == []

    second = _with_reason(verified_client(second_officer))
    second.post(f"{CHANGELIST}{legal_request.pk}/do/approve/")
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(f"{CHANGELIST}{legal_request.pk}/do/export/")
    legal_request.refresh_from_db()
    assert legal_request.status == LegalRequestStatus.EXPORTED
    assert (tmp_path / legal_request.package_name).exists()
    download = officer_client.get(f"{CHANGELIST}{legal_request.pk}/package/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")


def test_dashboard_shows_charts_and_is_recorded(officer_client, officer):
    response = officer_client.get(DASHBOARD, {"start": "2026-01-01", "end": "2026-11-30"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and "Réquisitions judiciaires" in page
    (entry,) = audit_entries(AuditEvent.VIEW_TRANSPARENCY_DASHBOARD)
    assert entry.actor_id == officer.pk
    assert entry.details == {"start": "2026-01-01", "end": "2026-11-30"}


def test_restricted_store_is_behind_the_reason_gate(officer):
    client = verified_client(officer)
    url = "/admin/compliance/restrictedrecord/"
    assert client.get(url).status_code == 403
    _with_reason(client, url)
    assert client.get(url).status_code == 200
    assert len(audit_entries(AuditEvent.VIEW_RESTRICTED_RECORDS)) == 1


def test_pending_deletions_can_be_completed_at_once(officer_client, officer, moderator, make_user):
    from accounts.models import AccountDeletionRequest

    member = make_user("sacha")
    # A pending request (the member's own request completes at once; this one
    # was filed without completion, as before that change).
    deletion = AccountDeletionRequest.objects.create(user=member)
    url = "/admin/compliance/legalrequest/deletions/"
    assert "sacha" in officer_client.get(url).content.decode()
    assert verified_client(moderator).get(url).status_code == 403

    response = officer_client.post(f"{url}{deletion.pk}/complete/")
    assert response.status_code == 302
    deletion.refresh_from_db()
    member.refresh_from_db()
    assert deletion.completed_at is not None
    assert member.username.startswith("supprime-")
    (entry,) = audit_entries(AuditEvent.ACCOUNT_DELETION_COMPLETED)
    assert entry.actor_id == officer.pk


def test_only_the_compliance_group_holds_compliance_permissions(db):
    from django.contrib.auth.models import Group

    def codenames(group_name):
        group = Group.objects.get(name=group_name)
        return set(
            group.permissions.filter(content_type__app_label="compliance").values_list(
                "codename", flat=True
            )
        )

    assert {
        "add_legalrequest",
        "approve_legalrequest",
        "export_legalrequest",
        "view_restrictedrecord",
        "view_legalhold",
    } <= codenames("Compliance")
    assert codenames("Moderators") == set()


def test_dashboard_lists_pending_notifications_to_the_authorities(
    officer_client, moderator, make_user, make_room, make_message
):
    from moderation import actions as moderation_actions
    from moderation.models import ThreatEscalation

    message = make_message(make_room(), make_user("auteur"), "je suis en 4e")
    report = moderation_actions.do_file_report(
        actor=make_user(), category="child_safety", message=message
    )
    moderation_actions.do_decide_report(
        report, actor=moderator, decision="Compte mineur fermé.", sanction_kind="ban"
    )
    escalation = ThreatEscalation.objects.get()
    link = f"/admin/moderation/threatescalation/{escalation.pk}/change/"
    page = officer_client.get(DASHBOARD).content.decode()
    assert "Signalements aux autorités en attente" in page and link in page
    moderation_actions.do_mark_escalation_transmitted(
        escalation, actor=moderator, authority="pharos", reference="P-9", category="other"
    )
    assert link not in officer_client.get(DASHBOARD).content.decode()
