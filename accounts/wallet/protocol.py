"""What we ask the wallet, and what its device signature must cover.

The request is OpenID4VP 1.0 by value (the contract's parameters, nothing
more): `response_type=vp_token`, `response_mode=direct_post`,
`client_id=redirect_uri:<response_uri>`, `response_uri`, `nonce`, `state` and
a DCQL query for `age_over_18` of doctype `eu.europa.ec.av.1`.
"""

import hashlib
import json
from urllib.parse import urlencode

import cbor2
from django.conf import settings
from django.urls import reverse

DOCTYPE = "eu.europa.ec.av.1"
NAMESPACE = "eu.europa.ec.av.1"
AGE_ELEMENT = "age_over_18"
# The DCQL credential query id: the key of `vp_token` in the wallet's answer.
CREDENTIAL_QUERY_ID = "proof_of_age"
CLIENT_ID_PREFIX = "redirect_uri:"
INVOCATION_SCHEME = "av://"
# Protocol identifier of unsigned OpenID4VP 1.0 requests over the DC API.
DC_API_PROTOCOL = "openid4vp-v1-unsigned"


def response_uri() -> str:
    """Where the wallet POSTs its answer: absolute, on SITE_URL."""
    return settings.SITE_URL + reverse("accounts_age_wallet_response")


def client_id() -> str:
    return CLIENT_ID_PREFIX + response_uri()


def dcql_query() -> dict:
    return {
        "credentials": [
            {
                "id": CREDENTIAL_QUERY_ID,
                "format": "mso_mdoc",
                "meta": {"doctype_value": DOCTYPE},
                "claims": [{"path": [NAMESPACE, AGE_ELEMENT], "intent_to_retain": False}],
            }
        ]
    }


def request_parameters(*, nonce: str, state: str) -> dict[str, str]:
    return {
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "client_id": client_id(),
        "response_uri": response_uri(),
        "nonce": nonce,
        "state": state,
        "dcql_query": json.dumps(dcql_query(), separators=(",", ":")),
    }


def request_link(*, nonce: str, state: str) -> str:
    """The request by value as an `av://?...` link (and the QR code's text)."""
    return INVOCATION_SCHEME + "?" + urlencode(request_parameters(nonce=nonce, state=state))


def dc_api_request(*, nonce: str) -> dict:
    """The `data` of a Digital Credentials API request (unsigned OpenID4VP 1.0):
    the browser, not a client_id, tells the wallet who asks (its origin)."""
    return {
        "response_type": "vp_token",
        "response_mode": "dc_api",
        "nonce": nonce,
        "dcql_query": dcql_query(),
    }


def session_transcript(*, client_id: str, nonce: str, response_uri: str) -> list:
    """OpenID4VP 1.0 Appendix B.2.6.1: [null, null, OpenID4VPHandover], with
    OpenID4VPHandover = ["OpenID4VPHandover", sha256(cbor([client_id, nonce,
    jwk_thumbprint, response_uri]))]; the thumbprint is null (no encryption)."""
    info = cbor2.dumps([client_id, nonce, None, response_uri])
    return [None, None, ["OpenID4VPHandover", hashlib.sha256(info).digest()]]


def dc_api_session_transcript(*, origin: str, nonce: str) -> list:
    """OpenID4VP 1.0 Appendix B.2.6.2 (DC API): the origin replaces client_id
    and response_uri, which the browser vouches for."""
    info = cbor2.dumps([origin, nonce, None])
    return [None, None, ["OpenID4VPDCAPIHandover", hashlib.sha256(info).digest()]]


def site_origin() -> str:
    return settings.SITE_URL
