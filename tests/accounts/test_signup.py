"""The whole sign-up: form, e-mail link, age attestation, rooms."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.gates import ChatAccess, chat_access
from accounts.models import AgeVerificationAttempt, ConnectionKind, ConnectionRecord
from audit.events import AuditEvent
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "Tr3s-long-mot-de-passe!"


def signup_data(**overrides):
    data = {
        "email": "zoe@example.org",
        "username": "Zoe_75",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "date_of_birth": "1995-06-14",
    }
    data.update(overrides)
    return data


def years_ago(years: int, days: int = 0):
    today = timezone.localdate()
    return (today.replace(year=today.year - years) + timezone.timedelta(days=days)).isoformat()


def confirmation_link(mail) -> str:
    match = re.search(r"https?://\S+/accounts/confirm-email/[^/\s]+/", mail.body)
    assert match, mail.body
    return match.group(0)


def test_signup_form_has_the_contract_fields(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("email", "username", "password1", "password2", "date_of_birth"):
        assert f'name="{name}"' in html
    assert 'type="date"' in html


def test_full_signup_email_and_attestation_flow(client, mailoutbox, issuer, settings):
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 302
    user = User.objects.get(username="Zoe_75")
    assert str(user.date_of_birth) == "1995-06-14"
    assert chat_access(user) is ChatAccess.EMAIL_UNVERIFIED
    assert ConnectionRecord.objects.filter(user=user, kind=ConnectionKind.SIGNUP).exists()

    # The mail links to /accounts/confirm-email/<key>/ on SITE_URL.
    assert len(mailoutbox) == 1
    link = confirmation_link(mailoutbox[0])
    assert link.startswith(settings.SITE_URL + "/accounts/confirm-email/")
    path = urlsplit(link).path
    # Opened in the browser that signed up, the link confirms on its own (one click).
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/age/"
    assert EmailAddress.objects.get(user=user).verified
    user.refresh_from_db()
    assert chat_access(user) is ChatAccess.AGE_UNVERIFIED

    # Start: 302 to the provider with a nonce and the absolute callback URL.
    response = client.get("/accounts/age/attestation/start/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        settings.AGE_ATTESTATION_PROVIDER_URL
    )
    query = parse_qs(location.query)
    assert query["return_to"] == [settings.SITE_URL + "/accounts/age/attestation/callback/"]
    nonce = query["nonce"][0]

    response = client.get(
        "/accounts/age/attestation/callback/", {"token": issuer.sign(nonce, key=issuer.eddsa)}
    )
    assert response.status_code == 302
    # The guided path ends with the welcome tour, which leads to the rooms.
    assert response["Location"] == "/accounts/tour/"
    user.refresh_from_db()
    assert user.is_age_verified
    assert user.age_verification_method == "attestation"
    # The declared date of birth served the sign-up check; the verified fact replaces it.
    assert user.date_of_birth is None
    assert chat_access(user) is ChatAccess.ALLOWED
    attempt = AgeVerificationAttempt.objects.get(user=user)
    assert (attempt.outcome, attempt.reason, attempt.issuer) == ("accepted", "", issuer_name())
    entry = AuditEntry.objects.get(event=AuditEvent.AGE_VERIFIED_BY_ATTESTATION)
    assert (entry.actor_id, entry.target_id) == (user.pk, str(user.pk))
    assert entry.details == {"issuer": issuer_name()}


def issuer_name():
    from tests.accounts.conftest import TEST_ISSUER

    return TEST_ISSUER


def test_under_18_is_refused_and_nothing_is_stored(client, mailoutbox):
    response = client.post("/accounts/signup/", signup_data(date_of_birth=years_ago(18, days=1)))
    assert response.status_code == 200
    assert "réservé aux adultes" in response.content.decode()
    assert User.objects.count() == 0
    assert EmailAddress.objects.count() == 0
    assert mailoutbox == []


def test_eighteen_today_is_an_adult(client):
    response = client.post("/accounts/signup/", signup_data(date_of_birth=years_ago(18)))
    assert response.status_code == 302
    assert User.objects.filter(username="Zoe_75").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("14/06/1995", "AAAA-MM-JJ"),
        ("2999-01-01", "futur"),
        ("1850-01-01", "année"),
        ("", "obligatoire"),
    ],
)
def test_bad_dates_of_birth_are_clear_errors(client, value, message):
    response = client.post("/accounts/signup/", signup_data(date_of_birth=value))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == 0


def test_pseudonym_unique_whatever_the_case(client, make_user):
    make_user("zoe_75")
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 200
    assert User.objects.filter(username__iexact="zoe_75").count() == 1


@pytest.mark.parametrize("name", ["Adm1n", "modérateur", "s.u.p.p.o.r.t", "ab", "bad name"])
def test_staff_lookalikes_and_bad_pseudonyms_are_refused(client, name):
    response = client.post("/accounts/signup/", signup_data(username=name))
    assert response.status_code == 200
    assert not User.objects.exists()


def test_weak_password_is_refused(client):
    response = client.post(
        "/accounts/signup/", signup_data(password1="123456789", password2="123456789")
    )
    assert response.status_code == 200
    assert not User.objects.exists()


def test_unverified_email_cannot_log_in(client, make_user):
    make_user("pending", email_verified=False, age_verified=False)
    response = client.post("/accounts/login/", {"login": "pending", "password": PASSWORD_FIXTURE})
    # allauth sends a new confirmation mail and keeps the user out.
    assert response.status_code == 302
    assert "/accounts/confirm-email/" in response["Location"]
    assert "_auth_user_id" not in client.session


PASSWORD_FIXTURE = "correct-horse-battery-staple-42"


def test_login_by_email_or_pseudonym_records_the_connection(client, make_user):
    user = make_user("alice")
    for login in ("alice", "alice@example.org"):
        response = client.post(
            "/accounts/login/",
            {"login": login, "password": PASSWORD_FIXTURE},
            REMOTE_ADDR="203.0.113.9",
            REMOTE_PORT="51234",
        )
        assert response.status_code == 302
        assert response["Location"] == "/rooms/"
        client.post("/accounts/logout/", REMOTE_ADDR="203.0.113.9", REMOTE_PORT="51234")
    records = list(ConnectionRecord.objects.filter(user=user).order_by("id"))
    assert [r.kind for r in records] == ["login", "logout", "login", "logout"]
    assert {(r.ip_address, r.port) for r in records} == {("203.0.113.9", 51234)}
