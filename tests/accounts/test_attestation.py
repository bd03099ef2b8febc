"""Every refusal reason of the attestation flow, with real keys and real signatures."""

import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OctKey

from accounts import demo_issuer
from accounts.attestation import REFUSAL_MESSAGES
from accounts.models import AgeVerificationAttempt, AttestationNonce
from accounts.models import AgeVerificationRefusal as Refusal

pytestmark = pytest.mark.django_db

CALLBACK = "/accounts/age/attestation/callback/"


def start(client) -> str:
    response = client.get("/accounts/age/attestation/start/")
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["nonce"][0]


@pytest.fixture
def member(make_user):
    return make_user("marie", age_verified=False)


@pytest.fixture
def member_client(member):
    client = Client()
    client.force_login(member)
    return client


def assert_refused(client, member, token, reason, *, issuer=""):
    response = client.get(CALLBACK, {"token": token}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/age/"
    html = response.content.decode()
    message = str(REFUSAL_MESSAGES[reason]).replace("'", "&#x27;")
    assert message in html
    member.refresh_from_db()
    assert not member.is_age_verified
    attempt = AgeVerificationAttempt.objects.filter(user=member).first()
    assert (attempt.outcome, attempt.reason) == ("refused", reason)
    assert attempt.issuer == issuer


@pytest.mark.parametrize("key_name", ["es256", "eddsa"])
def test_a_valid_attestation_is_accepted_with_either_algorithm(
    member, member_client, issuer, key_name
):
    nonce = start(member_client)
    token = issuer.sign(nonce, key=getattr(issuer, key_name))
    response = member_client.get(CALLBACK, {"token": token})
    assert response["Location"] == "/accounts/tour/"
    member.refresh_from_db()
    assert member.is_age_verified
    assert AttestationNonce.objects.get(nonce=nonce).used_at is not None


def test_only_the_outcome_is_stored(member, member_client, issuer):
    nonce = start(member_client)
    member_client.get(CALLBACK, {"token": issuer.sign(nonce, given_name="Marie", sub="123")})
    attempt = AgeVerificationAttempt.objects.get(user=member)
    stored = json.dumps(
        [attempt.method, attempt.outcome, attempt.reason, attempt.issuer, str(attempt.user_id)]
    )
    assert "Marie" not in stored and "123" not in stored.replace(str(member.pk), "")


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "é" * 10, "x" * 9000, "e30.e30.e30"])
def test_malformed_tokens(member, member_client, issuer, token):
    start(member_client)
    assert_refused(member_client, member, token, Refusal.MALFORMED)


def test_missing_token_is_malformed(member, member_client, issuer):
    start(member_client)
    response = member_client.get(CALLBACK, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/age/"
    assert AgeVerificationAttempt.objects.get(user=member).reason == Refusal.MALFORMED


@pytest.mark.parametrize(
    "overrides", [{"exp": ...}, {"iat": ...}, {"nonce": 42}, {"exp": "tomorrow"}, {"nonce": ...}]
)
def test_claims_missing_or_of_the_wrong_type_are_malformed(
    member, member_client, issuer, overrides
):
    nonce = start(member_client)
    from tests.accounts.conftest import TEST_ISSUER

    assert_refused(
        member_client,
        member,
        issuer.sign(nonce, **overrides),
        Refusal.MALFORMED,
        issuer=TEST_ISSUER,
    )


def test_payload_that_is_not_an_object_is_malformed(member, member_client, issuer):
    start(member_client)
    token = jws.serialize_compact(
        {"alg": "ES256", "kid": issuer.es256.kid}, "[1, 2]", issuer.es256, algorithms=["ES256"]
    )
    assert_refused(member_client, member, token, Refusal.MALFORMED)


def test_a_symmetric_or_unsigned_algorithm_is_refused(member, member_client, issuer):
    nonce = start(member_client)
    secret = OctKey.generate_key(256)
    claims = json.dumps(issuer.claims(nonce))
    hs256 = jws.serialize_compact(
        {"alg": "HS256", "kid": issuer.es256.kid}, claims, secret, algorithms=["HS256"]
    )
    assert_refused(member_client, member, hs256, Refusal.UNSUPPORTED_ALGORITHM)
    with pytest.warns(SecurityWarning):  # joserfc frowns on making one, rightly
        unsigned = jws.serialize_compact(
            {"alg": "none", "kid": issuer.es256.kid}, claims, None, algorithms=["none"]
        )
    assert_refused(member_client, member, unsigned, Refusal.UNSUPPORTED_ALGORITHM)


def test_unknown_kid(member, member_client, issuer):
    nonce = start(member_client)
    assert_refused(
        member_client, member, issuer.sign(nonce, key=issuer.stranger), Refusal.UNKNOWN_KEY
    )


def test_bad_signature(member, member_client, issuer):
    nonce = start(member_client)
    # A stranger's key claiming to be the trusted one.
    forged = issuer.sign(nonce, key=issuer.stranger, kid=issuer.es256.kid)
    assert_refused(member_client, member, forged, Refusal.BAD_SIGNATURE)
    # A genuine token whose claims were edited afterwards ("age_over_18" flipped).
    genuine = issuer.sign(nonce, age_over_18=False)
    header, _payload, signature = genuine.split(".")
    edited = jws.serialize_compact(
        {"alg": "ES256", "kid": issuer.es256.kid},
        json.dumps(issuer.claims(nonce)),
        issuer.es256,
        algorithms=["ES256"],
    ).split(".")[1]
    assert_refused(member_client, member, f"{header}.{edited}.{signature}", Refusal.BAD_SIGNATURE)
    # An Ed25519 key named with an ES256 header.
    mismatched = issuer.sign(nonce, key=issuer.es256, kid=issuer.eddsa.kid)
    assert_refused(member_client, member, mismatched, Refusal.BAD_SIGNATURE)


def test_untrusted_issuer(member, member_client, issuer):
    nonce = start(member_client)
    assert_refused(
        member_client,
        member,
        issuer.sign(nonce, iss="https://evil.example"),
        Refusal.UNTRUSTED_ISSUER,
    )


@pytest.mark.parametrize(
    "aud", ["https://other.example", "http://127.0.0.1:8000/", ["a", "b"], None, ...]
)
def test_wrong_audience(member, member_client, issuer, aud):
    from tests.accounts.conftest import TEST_ISSUER

    nonce = start(member_client)
    assert_refused(
        member_client,
        member,
        issuer.sign(nonce, aud=aud),
        Refusal.WRONG_AUDIENCE,
        issuer=TEST_ISSUER,
    )


def test_audience_as_a_one_element_list_is_accepted(member, member_client, issuer, settings):
    nonce = start(member_client)
    member_client.get(CALLBACK, {"token": issuer.sign(nonce, aud=[settings.SITE_URL])})
    member.refresh_from_db()
    assert member.is_age_verified


def test_expired_and_future_tokens(member, member_client, issuer):
    from tests.accounts.conftest import TEST_ISSUER

    now = int(time.time())
    nonce = start(member_client)
    assert_refused(
        member_client,
        member,
        issuer.sign(nonce, iat=now - 900, exp=now - 300),
        Refusal.EXPIRED,
        issuer=TEST_ISSUER,
    )
    assert_refused(
        member_client,
        member,
        issuer.sign(nonce, iat=now + 900, exp=now + 1200),
        Refusal.ISSUED_IN_FUTURE,
        issuer=TEST_ISSUER,
    )
    # Refusals before the nonce check leave the nonce usable.
    member_client.get(CALLBACK, {"token": issuer.sign(nonce)})
    member.refresh_from_db()
    assert member.is_age_verified


def test_nonce_never_issued(member, member_client, issuer):
    from tests.accounts.conftest import TEST_ISSUER

    start(member_client)
    assert_refused(
        member_client,
        member,
        issuer.sign("invented-nonce"),
        Refusal.UNKNOWN_NONCE,
        issuer=TEST_ISSUER,
    )


def test_replayed_nonce(member, member_client, issuer):
    from tests.accounts.conftest import TEST_ISSUER

    nonce = start(member_client)
    token = issuer.sign(nonce, age_over_18=False)
    assert_refused(member_client, member, token, Refusal.NOT_ADULT, issuer=TEST_ISSUER)
    # The same token (or any other for that nonce) is refused from now on.
    assert_refused(member_client, member, token, Refusal.REPLAYED_NONCE, issuer=TEST_ISSUER)
    assert_refused(
        member_client, member, issuer.sign(nonce), Refusal.REPLAYED_NONCE, issuer=TEST_ISSUER
    )


def test_another_accounts_nonce_is_foreign(member, member_client, issuer, make_user):
    from tests.accounts.conftest import TEST_ISSUER

    other_client = Client()
    other_client.force_login(make_user("paul", age_verified=False))
    their_nonce = start(other_client)
    start(member_client)
    assert_refused(
        member_client,
        member,
        issuer.sign(their_nonce),
        Refusal.FOREIGN_NONCE,
        issuer=TEST_ISSUER,
    )
    # Still good for its owner.
    other_client.get(CALLBACK, {"token": issuer.sign(their_nonce)})
    assert AgeVerificationAttempt.objects.filter(user__username="paul", outcome="accepted")


def test_a_nonce_from_another_session_is_foreign(member, member_client, issuer):
    from tests.accounts.conftest import TEST_ISSUER

    elsewhere = Client()
    elsewhere.force_login(member)
    nonce = start(elsewhere)
    start(member_client)
    assert_refused(
        member_client, member, issuer.sign(nonce), Refusal.FOREIGN_NONCE, issuer=TEST_ISSUER
    )


def test_nonce_older_than_ten_minutes(member, member_client, issuer):
    from tests.accounts.conftest import TEST_ISSUER

    nonce = start(member_client)
    AttestationNonce.objects.filter(nonce=nonce).update(
        issued_at=AttestationNonce.objects.get(nonce=nonce).issued_at - timedelta(minutes=11)
    )
    assert_refused(
        member_client, member, issuer.sign(nonce), Refusal.NONCE_EXPIRED, issuer=TEST_ISSUER
    )


@pytest.mark.parametrize("value", [False, ..., "true", 1, None])
def test_age_over_18_must_be_exactly_true(member, member_client, issuer, value):
    from tests.accounts.conftest import TEST_ISSUER

    nonce = start(member_client)
    assert_refused(
        member_client,
        member,
        issuer.sign(nonce, age_over_18=value),
        Refusal.NOT_ADULT,
        issuer=TEST_ISSUER,
    )


def test_the_flow_needs_a_signed_in_member(client, issuer):
    response = client.get("/accounts/age/attestation/start/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_no_provider_outside_debug_means_no_attestation(member, member_client, settings):
    settings.DEBUG = False
    settings.AGE_ATTESTATION_PROVIDER_URL = ""
    response = member_client.get("/accounts/age/attestation/start/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/age/"
    assert not AttestationNonce.objects.exists()


# --- The demonstration issuer --------------------------------------------------------------


@pytest.fixture
def demo_mode(settings):
    settings.DEBUG = True
    settings.AGE_ATTESTATION_PROVIDER_URL = ""
    settings.AGE_ATTESTATION_JWKS = ""


def test_demo_issuer_end_to_end_under_debug(member, member_client, demo_mode, settings):
    response = member_client.get("/accounts/age/attestation/start/")
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        settings.SITE_URL + "/accounts/age/demo-issuer/"
    )
    query = parse_qs(location.query)
    page = member_client.get(location.path, query)
    assert page.status_code == 200
    assert "DÉMONSTRATION" in page.content.decode()
    answer = member_client.post(
        location.path,
        {"nonce": query["nonce"][0], "return_to": query["return_to"][0], "adult": "yes"},
    )
    back = urlsplit(answer["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == settings.SITE_URL + CALLBACK
    response = member_client.get(back.path, parse_qs(back.query))
    assert response["Location"] == "/accounts/tour/"
    member.refresh_from_db()
    assert member.is_age_verified
    assert AgeVerificationAttempt.objects.get(user=member).issuer == demo_issuer.DEMO_ISSUER
    key_file = settings.VAR_DIR / demo_issuer.KEY_FILE_NAME
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_demo_issuer_answering_no_is_refused(member, member_client, demo_mode):
    nonce = start(member_client)
    token = demo_issuer.sign_attestation(nonce, age_over_18=False)
    assert_refused(member_client, member, token, Refusal.NOT_ADULT, issuer=demo_issuer.DEMO_ISSUER)


def test_demo_issuer_never_redirects_elsewhere(member_client, demo_mode):
    response = member_client.post(
        "/accounts/age/demo-issuer/",
        {"nonce": "n", "return_to": "https://evil.example/steal", "adult": "yes"},
    )
    assert response.status_code == 400
    assert "Location" not in response


def test_demo_issuer_is_off_and_untrusted_without_debug(
    member, member_client, settings, demo_mode, issuer
):
    nonce = start(member_client)  # issuer fixture turned DEBUG off
    assert member_client.get("/accounts/age/demo-issuer/", {"nonce": nonce}).status_code == 404
    token = demo_issuer.sign_attestation(nonce, age_over_18=True)
    assert_refused(member_client, member, token, Refusal.UNKNOWN_KEY)


def test_the_attestation_round_trip_is_throttled_per_user(member, member_client, issuer, make_user):
    """Start and callback count together, per user: a burst gets 429 with a
    clear page, and issues no nonce; another member is not held back."""
    statuses = [
        member_client.get("/accounts/age/attestation/start/").status_code for _ in range(12)
    ]
    assert statuses == [302] * 10 + [429] * 2
    assert AttestationNonce.objects.filter(user=member).count() == 10
    response = member_client.get(CALLBACK, {"token": "x"})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    other = Client()
    other.force_login(make_user("paul", age_verified=False))
    assert other.get("/accounts/age/attestation/start/").status_code == 302
