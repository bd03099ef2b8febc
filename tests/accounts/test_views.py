"""Self-service pages and the staff TOTP enrolment page."""

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountDeletionRequest
from audit.events import AuditEvent
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-42"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_profile_shows_the_account_and_sets_the_dm_policy(make_user):
    user = make_user("hugo")
    client = signed_in(user)
    page = client.get("/accounts/profile/").content.decode()
    assert "hugo" in page and "hugo@example.org" in page
    assert 'name="direct_messages_from"' in page
    response = client.post("/accounts/profile/", {"direct_messages_from": "nobody"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.direct_messages_from == "nobody"
    response = client.post("/accounts/profile/", {"direct_messages_from": "hackers"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.direct_messages_from == "nobody"


def test_pages_need_a_signed_in_member(client):
    for url in (
        "/accounts/profile/",
        "/accounts/age/",
        "/accounts/delete/",
        "/accounts/age/document/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_age_page_offers_both_ways(make_user, settings):
    settings.DEBUG = True
    settings.AGE_ATTESTATION_PROVIDER_URL = ""
    page = signed_in(make_user(age_verified=False)).get("/accounts/age/").content.decode()
    assert "/accounts/age/attestation/start/" in page
    assert "/accounts/age/document/" in page
    assert "démonstration" in page


def test_delete_account_needs_the_password_and_closes_the_account(make_user):
    user = make_user("iris")
    client = signed_in(user)
    response = client.post("/accounts/delete/", {"password": "wrong", "confirm": "on"})
    assert response.status_code == 200
    assert not AccountDeletionRequest.objects.exists()
    response = client.post("/accounts/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert AccountDeletionRequest.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(event=AuditEvent.ACCOUNT_DELETION_REQUESTED).exists()
    assert "_auth_user_id" not in client.session


def test_members_cannot_open_the_otp_page(make_user):
    assert signed_in(make_user()).get("/accounts/staff/otp/").status_code == 403


def test_staff_totp_enrolment_with_qr_code_confirmation_and_backup_codes(make_user):
    staff_user = make_user("newmod", is_staff=True)
    client = signed_in(staff_user)
    page = client.get("/accounts/staff/otp/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
    assert client.get("/accounts/staff/otp/").status_code == 200
    assert TOTPDevice.objects.filter(user=staff_user).count() == 1  # reused, not piled up

    wrong = client.post("/accounts/staff/otp/", {"token": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()  # django-otp delays the next try after a failure
    token = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    response = client.post("/accounts/staff/otp/", {"token": token})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    codes = StaticToken.objects.filter(device__user=staff_user).values_list("token", flat=True)
    assert len(codes) == 10
    for code in codes:
        assert code in response.content.decode()
    assert AuditEntry.objects.filter(event=AuditEvent.OTP_DEVICE_CONFIRMED).exists()
    # The session is now OTP-verified: the admin opens.
    assert client.get("/admin/").status_code == 200
    # New backup codes replace the old ones.
    client.post("/accounts/staff/otp/backup-codes/")
    assert not StaticToken.objects.filter(token__in=list(codes)).exists()


def test_a_second_device_needs_a_verified_session(make_user):
    staff_user = make_user("mod2", is_staff=True)
    TOTPDevice.objects.create(user=staff_user, name="default", confirmed=True)
    client = signed_in(staff_user)  # password only
    page = client.get("/accounts/staff/otp/").content.decode()
    assert "data:image/svg+xml" not in page
    assert TOTPDevice.objects.filter(user=staff_user).count() == 1
    assert client.post("/accounts/staff/otp/backup-codes/").status_code == 403


def test_pages_are_french_by_default_and_english_on_request(make_user):
    client = signed_in(make_user(age_verified=False))
    assert "Vérifier mon âge" in client.get("/accounts/age/").content.decode()
    english = client.get("/accounts/age/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Verify my age" in english
    signup = Client().get("/accounts/signup/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Date of birth" in signup


def test_allauth_self_service_pages_render_in_the_site_layout(make_user):
    client = signed_in(make_user("jade"))
    for url in ("/accounts/email/", "/accounts/password/change/"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'class="site-header"' in html and '<html lang="fr">' in html
