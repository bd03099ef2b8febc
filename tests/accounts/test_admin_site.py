"""/admin/ is django-otp's OTPAdminSite: password alone is not enough."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import actions, documents
from accounts.models import ConnectionRecord, IdentityDocument
from accounts.staff import StaffRole
from audit.events import AuditEvent
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "un-mot-de-passe-d-equipe-42"


def current_token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def moderator():
    return actions.do_create_staff_account(
        "mod_anne",
        email="anne@chatsite.test",
        role=StaffRole.MODERATOR,
        password=PASSWORD,
        actor=None,
    )


def admin_login(client, username, password, token="", **extra):
    data = {"username": username, "password": password, "otp_token": token, "next": "/admin/"}
    return client.post("/admin/login/", data, **extra)


def test_a_staff_session_without_otp_is_refused(moderator):
    client = Client()
    client.force_login(moderator.user)  # e.g. signed in through /accounts/login/
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_password_without_token_is_refused(moderator):
    client = Client()
    response = admin_login(client, "mod_anne", PASSWORD)
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_wrong_token_is_refused_and_audited(moderator):
    client = Client()
    response = admin_login(client, "mod_anne", PASSWORD, token="000000")
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
    entry = AuditEntry.objects.filter(event=AuditEvent.STAFF_OTP_FAILED).get()
    assert entry.target_id == str(moderator.user.pk)


def test_login_form_has_the_contract_fields():
    html = Client().get("/admin/login/").content.decode()
    for name in ("username", "password", "otp_token"):
        assert f'name="{name}"' in html


def test_password_and_totp_admit_and_are_recorded(moderator):
    client = Client()
    response = admin_login(
        client,
        "mod_anne",
        PASSWORD,
        token=current_token(moderator.totp_device),
        REMOTE_ADDR="198.51.100.7",
        REMOTE_PORT="40000",
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert AuditEntry.objects.filter(event=AuditEvent.STAFF_LOGIN).count() == 1
    record = ConnectionRecord.objects.get(user=moderator.user, kind="login")
    assert (record.ip_address, record.port) == ("198.51.100.7", 40000)
    client.post("/admin/logout/")
    assert AuditEntry.objects.filter(event=AuditEvent.STAFF_LOGOUT).count() == 1


def test_a_backup_code_admits_once(moderator):
    code = moderator.backup_codes[0]
    client = Client()
    assert admin_login(client, "mod_anne", PASSWORD, token=code).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert not StaticToken.objects.filter(token=code).exists()
    again = Client()
    assert admin_login(again, "mod_anne", PASSWORD, token=code).status_code == 200


def test_a_member_cannot_enter_even_with_a_device(make_user):
    member = make_user("bob")
    device = TOTPDevice.objects.create(user=member, name="x", confirmed=True)
    client = Client()
    assert (
        admin_login(
            client, "bob", "correct-horse-battery-staple-42", token=current_token(device)
        ).status_code
        == 200
    )
    assert client.get("/admin/").status_code == 302
    assert AuditEntry.objects.filter(event=AuditEvent.STAFF_LOGIN_FAILED).exists()


def test_admin_login_is_rate_limited(moderator, settings):
    settings.ADMIN_LOGIN_RATE_LIMITS = {"admin_login": "20/m/ip,3/15m/key"}
    client = Client()
    for _attempt in range(3):
        assert admin_login(client, "mod_anne", "wrong").status_code == 200
    response = admin_login(client, "MOD_ANNE", PASSWORD, token=current_token(moderator.totp_device))
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302
    # Another account from the same address is still let through (per-key limit).
    other = actions.do_create_staff_account(
        "compliance_x",
        email="x@chatsite.test",
        role=StaffRole.COMPLIANCE,
        password=PASSWORD,
        actor=None,
    )
    assert (
        admin_login(
            client, "compliance_x", PASSWORD, token=current_token(other.totp_device)
        ).status_code
        == 302
    )


def test_create_staff_prints_the_otpauth_uri_on_its_own_line(capsys):
    call_command(
        "create_staff",
        "compliance_jo",
        email="jo@chatsite.test",
        role="compliance",
        password=PASSWORD,
    )
    lines = capsys.readouterr().out.splitlines()
    uris = [line for line in lines if line.startswith("otpauth://")]
    assert len(uris) == 1 and uris[0].startswith("otpauth://totp/")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="compliance_jo")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Compliance"]
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.config_url == uris[0]
    client = Client()
    assert (
        admin_login(client, "compliance_jo", PASSWORD, token=current_token(device)).status_code
        == 302
    )
    assert AuditEntry.objects.filter(event=AuditEvent.STAFF_ACCOUNT_CREATED).exists()


def test_create_staff_admin_role_and_refusals(capsys):
    from django.core.management.base import CommandError

    call_command(
        "create_staff", "root_admin", email="r@chatsite.test", role="admin", password=PASSWORD
    )
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="root_admin")
    assert user.is_superuser and user.groups.filter(name="Administrators").exists()
    with pytest.raises(CommandError):
        call_command(
            "create_staff", "ROOT_ADMIN", email="z@chatsite.test", role="admin", password=PASSWORD
        )
    with pytest.raises(CommandError):
        call_command("create_staff", "weak", email="w@chatsite.test", role="admin", password="123")
    with pytest.raises(CommandError):
        call_command("create_staff", "bad", email="not-an-email", role="admin", password=PASSWORD)


def test_groups_exist_with_their_permissions():
    moderators = Group.objects.get(name="Moderators")
    codes = set(moderators.permissions.values_list("codename", flat=True))
    assert {"view_user", "review_identitydocument"} <= codes
    assert "delete_user" not in codes
    compliance = set(
        Group.objects.get(name="Compliance").permissions.values_list("codename", flat=True)
    )
    assert "view_connectionrecord" in compliance


def test_reviewer_sees_and_decides_a_document(
    moderator, make_user, django_capture_on_commit_callbacks
):
    member = make_user("nina", age_verified=False)
    document = actions.do_submit_identity_document(
        member, SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50), actor=member
    )
    path = documents.document_path(document.stored_name)
    client = Client()
    admin_login(client, "mod_anne", PASSWORD, token=current_token(moderator.totp_device))
    change_url = f"/admin/accounts/identitydocument/{document.pk}/change/"
    file_url = f"/admin/accounts/identitydocument/{document.pk}/file/"
    # The reason gate first: no document without a stated reason.
    first = client.get(file_url)
    assert first.status_code != 200 or first.get("Content-Type") != "image/png"
    reason = {"access_reason": "Examen de la demande de vérification d'âge"}
    # One stated reason covers the review page and the file of that document.
    assert client.post(change_url, reason).status_code == 302
    response = client.get(file_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert AuditEntry.objects.filter(event=AuditEvent.VIEW_IDENTITY_DOCUMENT).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/accounts/identitydocument/{document.pk}/decide/",
            {"decision": "approve", "reason": ""},
        )
    assert response.status_code == 302
    assert not path.exists()
    document.refresh_from_db()
    assert document.status == "approved"
    assert client.get(file_url).status_code == 404
    assert AuditEntry.objects.filter(event=AuditEvent.AGE_DOCUMENT_APPROVED).exists()


def test_staff_without_review_permission_cannot_open_files(make_user):
    member = make_user("lea", age_verified=False)
    document = actions.do_submit_identity_document(
        member, SimpleUploadedFile("id.pdf", b"%PDF-1.4\n" + b"%" * 40), actor=member
    )
    clerk = make_user("clerk", is_staff=True, password=PASSWORD)
    device = TOTPDevice.objects.create(user=clerk, name="default", confirmed=True)
    client = Client()
    assert admin_login(client, "clerk", PASSWORD, token=current_token(device)).status_code == 302
    assert client.get(f"/admin/accounts/identitydocument/{document.pk}/file/").status_code == 403
    assert (
        client.post(
            f"/admin/accounts/identitydocument/{document.pk}/decide/", {"decision": "approve"}
        ).status_code
        == 403
    )
    assert IdentityDocument.objects.get(pk=document.pk).status == "pending"


def test_a_staff_sign_in_on_the_sites_login_page_is_audited_too(moderator, make_user):
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"login": "mod_anne", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.8",
    )
    assert response.status_code == 302, response.content[:500]
    [entry] = AuditEntry.objects.filter(event=AuditEvent.STAFF_LOGIN)
    assert entry.actor_id == moderator.user.pk
    assert entry.details == {"via": "site"}
    # A member's sign-in is a connection record, not a staff audit entry.
    member = make_user("membre", password="un-mot-de-passe-de-membre-42")
    assert (
        Client()
        .post("/accounts/login/", {"login": "membre", "password": "un-mot-de-passe-de-membre-42"})
        .status_code
        == 302
    )
    assert ConnectionRecord.objects.filter(user=member, kind="login").exists()
    assert AuditEntry.objects.filter(event=AuditEvent.STAFF_LOGIN).count() == 1
