"""The wallet's proof of age (issue 21): real PKI, real mdocs, real signatures.

Each test makes its own issuer (an IACA root and a document signer), issues
an mdoc to a device key, presents it as a wallet would (DeviceResponse,
device-signed over the OpenID4VP 1.0 session transcript) and POSTs it to the
response URI without any cookie, as a wallet does. Every refusal is checked
for its message, its recorded attempt and the account left unverified.
"""

import contextlib
import json
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from accounts.models import (
    AgeVerificationAttempt,
    AgeVerificationMethod,
    WalletRequest,
)
from accounts.models import AgeVerificationRefusal as Refusal
from accounts.wallet import demo, holder, pki, protocol
from accounts.wallet.verifier import REFUSAL_MESSAGES
from audit.events import AuditEvent
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

WALLET_PAGE = "/accounts/age/wallet/"
RESPONSE_URI = "/accounts/age/wallet/response/"
DAY = timedelta(days=1)


def pem(*certificates) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


@pytest.fixture
def issuer():
    return pki.make_issuer_pki("Test proof-of-age issuer")


@pytest.fixture(autouse=True)
def trust_list(settings, tmp_path, issuer):
    path = tmp_path / "iaca-roots.pem"
    path.write_bytes(pem(issuer.root))
    settings.AGE_WALLET_TRUST_LIST = str(path)
    return path


@pytest.fixture
def device_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def member(make_user):
    return make_user("mireille", age_verified=False)


@pytest.fixture
def member_client(member):
    client = Client()
    client.force_login(member)
    return client


def start(client) -> dict:
    """Opens the wallet page; returns the request's parameters, read from its av:// link."""
    response = client.get(WALLET_PAGE)
    assert response.status_code == 200
    link = response.context["request_link"]
    assert link.startswith("av://?")
    return dict(parse_qsl(urlsplit(link).query))


def issue(issuer, device_key, *, elements=None, now=None, **overrides):
    now = now or datetime.now(UTC)
    arguments = {
        "signer_key": issuer.signer_key,
        "chain": [issuer.signer],
        "device_key": device_key.public_key(),
        "elements": elements if elements is not None else {protocol.AGE_ELEMENT: True},
        "valid_from": now - DAY,
        "valid_until": now + DAY,
    }
    arguments.update(overrides)
    return holder.issue_mdoc(**arguments)


def transcript_for(params, **overrides) -> list:
    values = {
        "client_id": params["client_id"],
        "nonce": params["nonce"],
        "response_uri": params["response_uri"],
    }
    values.update(overrides)
    return protocol.session_transcript(**values)


def answer(params, mdoc, device_key, *, transcript=None, **options) -> str:
    response = holder.present(
        mdoc,
        device_key=device_key,
        session_transcript=transcript or transcript_for(params),
        **options,
    )
    return holder.vp_token(response)


def post(vp_token, state, **headers):
    # A wallet: no session cookie, no CSRF token.
    wallet = Client(enforce_csrf_checks=True)
    return wallet.post(RESPONSE_URI, {"vp_token": vp_token, "state": state}, **headers)


def assert_refused(member, response, reason, *, anchor=None, was_verified=False):
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"] == str(REFUSAL_MESSAGES[reason])
    member.refresh_from_db()
    assert not member.is_age_verified
    # Reduced only by a verification.
    assert (member.date_of_birth is None) == was_verified
    attempt = AgeVerificationAttempt.objects.filter(user=member).first()
    assert (attempt.method, attempt.outcome, attempt.reason) == ("wallet", "refused", reason)
    if anchor is not None:
        assert attempt.issuer == anchor
    verified = AuditEntry.objects.filter(event=AuditEvent.AGE_VERIFIED_BY_WALLET).count()
    assert verified == (1 if was_verified else 0)


# --- The request ---------------------------------------------------------------------------


def test_the_request_carries_exactly_the_contract_parameters(member_client, settings):
    response = member_client.get(WALLET_PAGE)
    assert "no-store" in response["Cache-Control"]
    params = dict(parse_qsl(urlsplit(response.context["request_link"]).query))
    assert set(params) == {
        "response_type",
        "response_mode",
        "client_id",
        "response_uri",
        "nonce",
        "state",
        "dcql_query",
    }
    assert params["response_type"] == "vp_token"
    assert params["response_mode"] == "direct_post"
    assert params["response_uri"] == settings.SITE_URL + RESPONSE_URI
    assert params["client_id"] == "redirect_uri:" + params["response_uri"]
    query = json.loads(params["dcql_query"])
    (credential,) = query["credentials"]
    assert credential["format"] == "mso_mdoc"
    assert credential["meta"] == {"doctype_value": "eu.europa.ec.av.1"}
    assert [claim["path"] for claim in credential["claims"]] == [
        ["eu.europa.ec.av.1", "age_over_18"]
    ]
    request = WalletRequest.objects.get()
    assert (params["nonce"], params["state"]) == (request.nonce, request.state)
    html = response.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code of the same link
    assert 'id="wallet-link" href="av://?' in html


def test_the_same_request_is_shown_until_answered(member_client):
    assert start(member_client) == start(member_client)
    assert WalletRequest.objects.count() == 1


# --- Acceptance ------------------------------------------------------------------------------


def test_a_valid_proof_is_accepted_and_only_the_verdict_is_kept(
    member, member_client, issuer, device_key, settings
):
    params = start(member_client)
    response = post(answer(params, issue(issuer, device_key), device_key), params["state"])

    assert response.status_code == 200
    assert response.json() == {"redirect_uri": settings.SITE_URL + WALLET_PAGE}
    member.refresh_from_db()
    assert member.is_age_verified
    assert member.age_verification_method == AgeVerificationMethod.WALLET
    # Reduced to what the law needs: "18+", how and when.
    assert member.date_of_birth is None
    attempt = AgeVerificationAttempt.objects.get(user=member)
    anchor = "CN=Test proof-of-age issuer IACA,C=FR"
    assert (attempt.outcome, attempt.reason, attempt.issuer) == ("accepted", "", anchor)
    entry = AuditEntry.objects.get(event=AuditEvent.AGE_VERIFIED_BY_WALLET)
    assert entry.details == {"trust_anchor": anchor}
    assert entry.target_id == str(member.pk)
    # The browser learns it: the status turns "answered", the page sends it on.
    assert member_client.get(WALLET_PAGE + "status/").json() == {"status": "answered"}
    page = member_client.get(WALLET_PAGE)
    assert page.status_code == 302 and page["Location"] == "/accounts/tour/"


@pytest.mark.parametrize("root_path_length, accepted", [(1, True), (0, False)])
def test_a_chain_through_an_intermediate_ca_follows_the_roots_path_length(
    member, member_client, device_key, trust_list, root_path_length, accepted
):
    now = datetime.now(UTC)
    window = {"not_before": now - DAY, "not_after": now + 100 * DAY}
    root_key, root = pki.make_root("Root IACA", path_length=root_path_length, **window)
    middle_key, middle = pki.make_intermediate(
        "Regional CA", root_key=root_key, root=root, **window
    )
    signer_key, signer = pki.make_document_signer(
        "Signer", root_key=middle_key, root=middle, **window
    )
    trust_list.write_bytes(pem(root))
    params = start(member_client)
    mdoc = holder.issue_mdoc(
        signer_key=signer_key,
        chain=[signer, middle],
        device_key=device_key.public_key(),
        elements={protocol.AGE_ELEMENT: True},
        valid_from=now - DAY,
        valid_until=now + DAY,
    )
    response = post(answer(params, mdoc, device_key), params["state"])
    if accepted:
        assert response.status_code == 200
        member.refresh_from_db()
        assert member.is_age_verified
        assert AgeVerificationAttempt.objects.get(user=member).issuer == "CN=Root IACA,C=FR"
    else:
        assert_refused(member, response, Refusal.UNTRUSTED_CERTIFICATE)


# --- Refusals: each with its message, its recorded attempt, the account unverified -------------


def _other_issuer(issuer, device_key, params):
    stranger = pki.make_issuer_pki("Unknown issuer")
    return answer(params, issue(stranger, device_key), device_key)


def _expired_certificate(issuer, device_key, params):
    now = datetime.now(UTC)
    signer_key, signer = pki.make_document_signer(
        "Expired signer",
        root_key=issuer.root_key,
        root=issuer.root,
        not_before=now - 30 * DAY,
        not_after=now - DAY,
    )
    mdoc = issue(issuer, device_key, signer_key=signer_key, chain=[signer])
    return answer(params, mdoc, device_key)


def _expired_proof(issuer, device_key, params):
    now = datetime.now(UTC)
    mdoc = issue(issuer, device_key, valid_from=now - 10 * DAY, valid_until=now - DAY)
    return answer(params, mdoc, device_key)


def _future_proof(issuer, device_key, params):
    now = datetime.now(UTC)
    mdoc = issue(issuer, device_key, valid_from=now + DAY, valid_until=now + 10 * DAY)
    return answer(params, mdoc, device_key)


def _driving_licence(issuer, device_key, params):
    mdoc = issue(issuer, device_key, doctype="org.iso.18013.5.1.mDL", namespace="org.iso.18013.5.1")
    return answer(params, mdoc, device_key)


def _doctype_changed_after_signature(issuer, device_key, params):
    # The document claims the age doctype; the MSO the issuer signed says otherwise.
    mdoc = issue(issuer, device_key, doctype="org.iso.18013.5.1.mDL")
    mdoc.doctype = protocol.DOCTYPE
    return answer(params, mdoc, device_key)


def _minor(issuer, device_key, params):
    return answer(params, issue(issuer, device_key, elements={"age_over_18": False}), device_key)


def _age_missing(issuer, device_key, params):
    return answer(params, issue(issuer, device_key), device_key, disclose=())


def _tampered_element(issuer, device_key, params):
    # Signed "false"; the wallet swaps in a "true" item under the same digest id.
    mdoc = issue(issuer, device_key, elements={"age_over_18": False})
    mdoc.items["age_over_18"] = holder.signed_item(0, "age_over_18", True)
    return answer(params, mdoc, device_key)


def _forged_issuer_signature(issuer, device_key, params):
    forger = ec.generate_private_key(ec.SECP256R1())
    return answer(params, issue(issuer, device_key, signer_key=forger), device_key)


def _wrong_nonce(issuer, device_key, params):
    transcript = transcript_for(params, nonce="a-nonce-from-another-request")
    return answer(params, issue(issuer, device_key), device_key, transcript=transcript)


def _transcript_for_another_site(issuer, device_key, params):
    other = "https://other-site.example/openid4vp/response"
    transcript = transcript_for(params, client_id="redirect_uri:" + other, response_uri=other)
    return answer(params, issue(issuer, device_key), device_key, transcript=transcript)


def _no_device_signature(issuer, device_key, params):
    return answer(params, issue(issuer, device_key), None)


def _device_signature_by_another_key(issuer, device_key, params):
    thief = ec.generate_private_key(ec.SECP256R1())
    return answer(params, issue(issuer, device_key), thief)


def _extra_elements(issuer, device_key, params):
    mdoc = issue(
        issuer, device_key, elements={"age_over_18": True, "age_over_21": True, "age_in_years": 30}
    )
    return answer(params, mdoc, device_key, disclose=("age_over_18", "age_over_21", "age_in_years"))


def _another_element_alone(issuer, device_key, params):
    mdoc = issue(issuer, device_key, elements={"age_over_18": True, "age_over_21": True})
    return answer(params, mdoc, device_key, disclose=("age_over_21",))


def _not_a_vp_token(issuer, device_key, params):
    return json.dumps({"something_else": ["AAAA"]})


def _not_cbor(issuer, device_key, params):
    return json.dumps({protocol.CREDENTIAL_QUERY_ID: ["bm90LWNib3I"]})


REFUSALS = {
    "untrusted root": (_other_issuer, Refusal.UNTRUSTED_CERTIFICATE),
    "expired certificate": (_expired_certificate, Refusal.CERTIFICATE_EXPIRED),
    "expired mdoc": (_expired_proof, Refusal.PROOF_EXPIRED),
    "mdoc not yet valid": (_future_proof, Refusal.PROOF_NOT_YET_VALID),
    "wrong doctype": (_driving_licence, Refusal.WRONG_DOCTYPE),
    "doctype changed after signature": (_doctype_changed_after_signature, Refusal.WRONG_DOCTYPE),
    "age_over_18 false": (_minor, Refusal.NOT_ADULT),
    "age_over_18 missing": (_age_missing, Refusal.NOT_ADULT),
    "tampered element": (_tampered_element, Refusal.DIGEST_MISMATCH),
    "forged issuer signature": (_forged_issuer_signature, Refusal.BAD_SIGNATURE),
    "wrong nonce": (_wrong_nonce, Refusal.DEVICE_SIGNATURE_INVALID),
    "transcript for another site": (
        _transcript_for_another_site,
        Refusal.DEVICE_SIGNATURE_INVALID,
    ),
    "device signature missing": (_no_device_signature, Refusal.DEVICE_SIGNATURE_MISSING),
    "device signature by another key": (
        _device_signature_by_another_key,
        Refusal.DEVICE_SIGNATURE_INVALID,
    ),
    "extra elements disclosed": (_extra_elements, Refusal.EXTRA_ELEMENTS),
    "another element instead": (_another_element_alone, Refusal.EXTRA_ELEMENTS),
    "not a vp_token": (_not_a_vp_token, Refusal.MALFORMED),
    "not CBOR": (_not_cbor, Refusal.MALFORMED),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_has_its_message_and_is_recorded(
    case, member, member_client, issuer, device_key
):
    make_answer, reason = REFUSALS[case]
    params = start(member_client)
    response = post(make_answer(issuer, device_key, params), params["state"])
    assert_refused(member, response, reason)
    request = WalletRequest.objects.get(state=params["state"])
    assert (request.outcome, request.reason) == ("refused", reason)
    # The browser is told, in the same words, and gets a fresh request.
    page = member_client.get(WALLET_PAGE)
    assert str(REFUSAL_MESSAGES[reason]) in unescape(page.content.decode())
    assert page.context["state"] != params["state"]


def test_a_replayed_response_is_refused(member, member_client, issuer, device_key):
    params = start(member_client)
    token = answer(params, issue(issuer, device_key), device_key)
    assert post(token, params["state"]).status_code == 200
    member.age_verified_at = None  # even for an account that is unverified again
    member.save(update_fields=["age_verified_at"])
    assert_refused(member, post(token, params["state"]), Refusal.REPLAYED_NONCE, was_verified=True)


def test_a_response_replayed_to_a_new_request_is_refused(member, member_client, issuer, device_key):
    old = start(member_client)
    token = answer(old, issue(issuer, device_key), device_key)
    # The member reloads later: a new request (new state and nonce) replaces the old one.
    WalletRequest.objects.update(issued_at=datetime.now(UTC) - timedelta(minutes=11))
    new = start(member_client)
    assert new["nonce"] != old["nonce"]
    assert_refused(member, post(token, new["state"]), Refusal.DEVICE_SIGNATURE_INVALID)


def test_an_answer_after_ten_minutes_is_refused(member, member_client, issuer, device_key):
    params = start(member_client)
    WalletRequest.objects.update(issued_at=datetime.now(UTC) - timedelta(minutes=11))
    token = answer(params, issue(issuer, device_key), device_key)
    assert_refused(member, post(token, params["state"]), Refusal.NONCE_EXPIRED)


def test_an_unknown_state_is_refused_and_changes_nothing(member, issuer, device_key):
    params = {"client_id": protocol.client_id(), "nonce": "n", "response_uri": "r"}
    token = answer(params, issue(issuer, device_key), device_key)
    response = post(token, "no-such-state")
    assert response.status_code == 400
    assert response.json()["error_description"] == str(REFUSAL_MESSAGES[Refusal.UNKNOWN_NONCE])
    assert not AgeVerificationAttempt.objects.exists()


def test_no_issuer_is_trusted_without_a_trust_list_outside_debug(
    settings, member, member_client, issuer, device_key
):
    settings.AGE_WALLET_TRUST_LIST = ""
    settings.DEBUG = False
    params = start(member_client)
    token = answer(params, issue(issuer, device_key), device_key)
    assert_refused(member, post(token, params["state"]), Refusal.UNTRUSTED_CERTIFICATE)


def test_a_broken_trust_list_trusts_nobody_and_answers_clearly(
    member, member_client, issuer, device_key, trust_list
):
    trust_list.write_text("not a certificate")
    params = start(member_client)
    token = answer(params, issue(issuer, device_key), device_key)
    assert_refused(member, post(token, params["state"]), Refusal.UNTRUSTED_CERTIFICATE)


def test_an_oversized_vp_token_is_refused_unread(member, member_client):
    params = start(member_client)
    assert_refused(member, post("x" * 70_000, params["state"]), Refusal.MALFORMED)


# --- The Digital Credentials API path ---------------------------------------------------------


def dc_api_answer(params, issuer, device_key, *, origin=None):
    from django.conf import settings

    transcript = protocol.dc_api_session_transcript(
        origin=origin or settings.SITE_URL, nonce=params["nonce"]
    )
    response = holder.present(
        issue(issuer, device_key), device_key=device_key, session_transcript=transcript
    )
    return json.loads(holder.vp_token(response))


def test_the_dc_api_answer_is_verified_over_our_origin(member, member_client, issuer, device_key):
    params = start(member_client)
    page = member_client.get(WALLET_PAGE)
    request = page.context["dc_api_request"]
    assert request["protocol"] == "openid4vp-v1-unsigned"
    assert request["data"]["nonce"] == params["nonce"]
    assert request["data"]["dcql_query"] == json.loads(params["dcql_query"])

    # Another origin's transcript first: refused, and the request is spent.
    foreign = dc_api_answer(params, issuer, device_key, origin="https://other-site.example")
    response = member_client.post(
        WALLET_PAGE + "dc-api/",
        {"state": params["state"], "vp_token": foreign},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["message"] == str(REFUSAL_MESSAGES[Refusal.DEVICE_SIGNATURE_INVALID])

    params = start(member_client)
    response = member_client.post(
        WALLET_PAGE + "dc-api/",
        {"state": params["state"], "vp_token": dc_api_answer(params, issuer, device_key)},
        content_type="application/json",
    )
    assert response.json() == {"accepted": True, "next": "/accounts/tour/"}
    member.refresh_from_db()
    assert member.age_verification_method == AgeVerificationMethod.WALLET


def test_the_dc_api_endpoint_is_csrf_protected_and_owner_only(
    member, member_client, make_user, issuer, device_key
):
    params = start(member_client)
    token = dc_api_answer(params, issuer, device_key)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    body = {"state": params["state"], "vp_token": token}
    assert (
        strict.post(WALLET_PAGE + "dc-api/", body, content_type="application/json").status_code
        == 403
    )

    other = Client()
    intruder = make_user("intrus", age_verified=False)
    other.force_login(intruder)
    response = other.post(WALLET_PAGE + "dc-api/", body, content_type="application/json")
    assert response.status_code == 400
    assert AgeVerificationAttempt.objects.get(user=intruder).reason == Refusal.FOREIGN_NONCE
    # The owner's request is still open.
    assert WalletRequest.objects.get(state=params["state"]).answered_at is None


# --- The demonstration wallet (DEBUG only) ---------------------------------------------------


def test_the_demo_wallet_runs_the_whole_flow_under_debug(settings, member, member_client):
    settings.DEBUG = True
    settings.AGE_WALLET_TRUST_LIST = ""
    page = member_client.get(WALLET_PAGE)
    demo_url = page.context["demo_wallet_url"]
    wallet_page = Client().get(demo_url)  # the wallet has no session of ours
    assert wallet_page.status_code == 200
    assert "DÉMONSTRATION" in wallet_page.content.decode()
    # Its form posts straight to the response URI, as a browser (HTML) client.
    response = post(
        wallet_page.context["adult_token"],
        wallet_page.context["state"],
        HTTP_ACCEPT="text/html,application/xhtml+xml",
    )
    assert response.status_code == 303
    assert response["Location"] == settings.SITE_URL + WALLET_PAGE
    member.refresh_from_db()
    assert member.is_age_verified
    attempt = AgeVerificationAttempt.objects.get(user=member)
    assert attempt.issuer == "CN=Chatsite DEMONSTRATION age issuer IACA,C=FR"


def test_the_demo_wallets_minor_proof_is_refused(settings, member, member_client):
    settings.DEBUG = True
    demo_url = member_client.get(WALLET_PAGE).context["demo_wallet_url"]
    wallet_page = Client().get(demo_url)
    response = post(wallet_page.context["minor_token"], wallet_page.context["state"])
    assert_refused(member, response, Refusal.NOT_ADULT)


def test_the_demo_wallet_answers_only_our_requests_and_only_under_debug(
    settings, member, member_client
):
    settings.DEBUG = True
    params = start(member_client)
    foreign = dict(params, response_uri="https://elsewhere.example/r")
    foreign["client_id"] = "redirect_uri:" + foreign["response_uri"]
    assert Client().get("/accounts/age/demo-wallet/", foreign).status_code == 400
    settings.DEBUG = False
    assert Client().get("/accounts/age/demo-wallet/", params).status_code == 404
    assert member_client.get(WALLET_PAGE).context["demo_wallet_url"] == ""


def test_the_demo_issuer_is_not_trusted_outside_debug(settings, member, member_client):
    settings.AGE_WALLET_TRUST_LIST = ""
    params = start(member_client)
    token = demo.answer_request(params)
    assert_refused(member, post(token, params["state"]), Refusal.UNTRUSTED_CERTIFICATE)


# --- Robustness: whatever bytes a wallet sends, a refusal, never a server error ----------------


def test_damaged_responses_are_refused_never_a_server_error(issuer, device_key):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from accounts.wallet.verifier import WalletRefused, verify_device_response

    params = {"client_id": "redirect_uri:https://x/r", "nonce": "n", "response_uri": "https://x/r"}
    transcript = transcript_for(params)
    valid = holder.present(
        issue(issuer, device_key), device_key=device_key, session_transcript=transcript
    )
    assert verify_device_response(valid, session_transcript=transcript, roots=[issuer.root])

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(position=st.integers(0, len(valid) - 1), value=st.integers(0, 255), cut=st.booleans())
    def damaged(position, value, cut):
        data = (
            valid[:position] if cut else valid[:position] + bytes([value]) + valid[position + 1 :]
        )
        # Some bytes carry nothing we check (the "version" text): then it may pass;
        # anything else than a pass or a WalletRefused fails the test.
        with contextlib.suppress(WalletRefused):
            verify_device_response(data, session_transcript=transcript, roots=[issuer.root])

    damaged()
