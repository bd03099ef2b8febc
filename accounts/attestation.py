"""Signed age attestations from a separate verification provider ("tiers").

Chatsite learns only "over 18", signed by a trusted issuer, never who the
person is. This is NOT double anonymity: the provider, which knows the person,
also learns that the attestation is for Chatsite (the `return_to` it sends the
browser back to, and the `aud` it signs). The wallet flow (accounts.wallet)
is the double-anonymous one. A token is a compact JWS (ES256 or EdDSA) whose `kid` names a
key of AGE_ATTESTATION_JWKS, with the claims `iss`, `aud` (= SITE_URL), `iat`,
`exp`, `nonce` and `age_over_18: true` (docs/accounts.md).

This module checks the token itself; the nonce (single use, bound to the
session and the account) is checked by the action that consumes it.
"""

import json
import logging
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet

from accounts.models import AgeVerificationRefusal as Refusal

logger = logging.getLogger(__name__)

ACCEPTED_ALGORITHMS = ("ES256", "EdDSA")
NONCE_LIFETIME = timedelta(minutes=10)
# Tolerated clock difference for `iat` only: a token issued "in the future" by a
# slightly fast issuer clock is fine, but an expired one is refused strictly
# (attestations live minutes, and a replay window is what `exp` closes).
CLOCK_SKEW_SECONDS = 60
# Far above any real attestation; stops us parsing megabytes from a query string.
MAX_TOKEN_LENGTH = 8192
SESSION_NONCE_KEY = "accounts.age_attestation_nonce"

REFUSAL_MESSAGES = {
    Refusal.MALFORMED: _(
        "L'attestation reçue est illisible ou incomplète. Recommencez la vérification."
    ),
    Refusal.UNSUPPORTED_ALGORITHM: _(
        "L'attestation est signée avec un algorithme que nous n'acceptons pas."
    ),
    Refusal.UNKNOWN_KEY: _(
        "L'attestation est signée avec une clé que nous ne connaissons pas : ce fournisseur "
        "n'est pas reconnu par Chatsite."
    ),
    Refusal.BAD_SIGNATURE: _(
        "La signature de l'attestation n'est pas valide : elle a peut-être été modifiée."
    ),
    Refusal.UNTRUSTED_ISSUER: _("L'attestation vient d'un émetteur que Chatsite ne reconnaît pas."),
    Refusal.WRONG_AUDIENCE: _("L'attestation a été délivrée pour un autre site que Chatsite."),
    Refusal.EXPIRED: _("L'attestation a expiré. Recommencez la vérification."),
    Refusal.ISSUED_IN_FUTURE: _(
        "L'attestation porte une date future : vérifiez l'heure de votre appareil et recommencez."
    ),
    Refusal.UNKNOWN_NONCE: _(
        "Cette attestation ne correspond à aucune demande de Chatsite. Recommencez la "
        "vérification depuis cette page."
    ),
    Refusal.FOREIGN_NONCE: _(
        "Cette attestation a été demandée depuis une autre session ou un autre compte. "
        "Recommencez la vérification depuis cette page."
    ),
    Refusal.REPLAYED_NONCE: _(
        "Cette attestation a déjà été utilisée. Recommencez la vérification."
    ),
    Refusal.NONCE_EXPIRED: _(
        "La demande de vérification a expiré (10 minutes). Recommencez la vérification."
    ),
    Refusal.NOT_ADULT: _(
        "Le fournisseur n'a pas attesté que vous avez 18 ans ou plus. Chatsite est réservé "
        "aux adultes."
    ),
    Refusal.PROVIDER_ERROR: _(
        "Le fournisseur de vérification n'a pas pu délivrer d'attestation. Réessayez plus tard "
        "ou envoyez un document."
    ),
}


class AttestationRefused(Exception):
    def __init__(self, reason: Refusal, issuer: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.issuer = issuer


@dataclass(frozen=True)
class Attestation:
    """What a valid token says, once its signature, issuer, audience and dates hold."""

    issuer: str
    nonce: str
    age_over_18: bool


def callback_url() -> str:
    """The absolute callback URL sent as `return_to` (on SITE_URL, the `aud`)."""
    return settings.SITE_URL + reverse("accounts_age_attestation_callback")


def provider_url() -> str:
    """Where the flow sends the user: the configured provider, else the demo under DEBUG."""
    if settings.AGE_ATTESTATION_PROVIDER_URL:
        return settings.AGE_ATTESTATION_PROVIDER_URL
    if settings.DEBUG:
        return settings.SITE_URL + reverse("accounts_age_demo_issuer")
    return ""


def _configured_keys() -> dict:
    path = settings.AGE_ATTESTATION_JWKS
    if not path:
        return {}
    try:
        keyset = KeySet.import_key_set(json.loads(Path(path).read_text()))
    except (OSError, ValueError, JoseError):
        # A broken JWKS must not turn every callback into a server error: no
        # external key is trusted until it is fixed, and the log says why.
        logger.exception("AGE_ATTESTATION_JWKS (%s) could not be loaded", path)
        return {}
    issuers = frozenset(settings.AGE_ATTESTATION_ISSUERS)
    return {key.kid: (key, issuers) for key in keyset.keys if key.kid}


def trusted_keys() -> dict:
    """kid -> (public key, issuers allowed to sign with it). Read at each call,
    so a rotated JWKS file takes effect without a restart."""
    keys = _configured_keys()
    if settings.DEBUG:
        # The demo issuer is trusted under DEBUG only, and only for its own iss.
        from accounts import demo_issuer

        key = demo_issuer.public_key()
        keys[key.kid] = (key, frozenset({demo_issuer.DEMO_ISSUER}))
    return keys


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def verify_attestation_token(token: str, *, now: float | None = None) -> Attestation:
    """Checks a token's form, signature, issuer, audience and dates.

    Raises AttestationRefused with the first reason found.
    """
    now = time.time() if now is None else now
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise AttestationRefused(Refusal.MALFORMED)
    try:
        signed = jws.extract_compact(token.encode("ascii"))
        header = signed.headers()
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise AttestationRefused(Refusal.MALFORMED) from None
    if header.get("alg") not in ACCEPTED_ALGORITHMS:
        raise AttestationRefused(Refusal.UNSUPPORTED_ALGORITHM)
    keys = trusted_keys()
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise AttestationRefused(Refusal.UNKNOWN_KEY)
    key, issuers = keys[kid]
    try:
        with warnings.catch_warnings():
            # RFC 9864 deprecates the name "EdDSA"; the contract still uses it.
            warnings.simplefilter("ignore", SecurityWarning)
            valid = jws.validate_compact(signed, key, algorithms=ACCEPTED_ALGORITHMS)
    except JoseError:
        # E.g. an ES256 header on an Ed25519 key: not a signature of this key.
        valid = False
    if not valid:
        raise AttestationRefused(Refusal.BAD_SIGNATURE)

    try:
        claims = json.loads(signed.payload)
    except (ValueError, UnicodeError):
        raise AttestationRefused(Refusal.MALFORMED) from None
    if not isinstance(claims, dict):
        raise AttestationRefused(Refusal.MALFORMED)
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer not in issuers:
        raise AttestationRefused(Refusal.UNTRUSTED_ISSUER)
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) == 1:
        audience = audience[0]
    if audience != settings.SITE_URL:
        raise AttestationRefused(Refusal.WRONG_AUDIENCE, issuer)
    expires, issued = claims.get("exp"), claims.get("iat")
    nonce = claims.get("nonce")
    if not (_is_number(expires) and _is_number(issued) and isinstance(nonce, str) and nonce):
        raise AttestationRefused(Refusal.MALFORMED, issuer)
    if expires <= now:
        raise AttestationRefused(Refusal.EXPIRED, issuer)
    if issued > now + CLOCK_SKEW_SECONDS:
        raise AttestationRefused(Refusal.ISSUED_IN_FUTURE, issuer)
    return Attestation(issuer=issuer, nonce=nonce, age_over_18=claims.get("age_over_18") is True)
