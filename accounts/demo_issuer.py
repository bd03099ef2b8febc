"""A DEMONSTRATION age-attestation issuer, active only under DEBUG.

It plays the part of a real provider so that `make run` shows the whole
attestation flow: it asks "are you 18 or over?" (no check at all) and
signs an attestation with its own key, kept under var/ and created on first
use. Its public key is trusted only under DEBUG (accounts.attestation).
"""

import json
import os
import time

from django.conf import settings
from joserfc import jws
from joserfc.jwk import ECKey

DEMO_ISSUER = "urn:chatsite:demo-age-issuer:not-for-production"
DEMO_TOKEN_LIFETIME_SECONDS = 300
KEY_FILE_NAME = "demo-age-issuer-key.json"


def _key_path():
    return settings.VAR_DIR / KEY_FILE_NAME


def private_key() -> ECKey:
    """The demo key: read from var/, or generated there (mode 0600) on first use."""
    path = _key_path()
    try:
        return ECKey.import_key(json.loads(path.read_text()))
    except FileNotFoundError:
        pass
    key = ECKey.generate_key("P-256", private=True)
    data = key.as_dict(private=True, kid=f"chatsite-demo-{key.thumbprint()[:16]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it between our read and our write: use theirs.
        return ECKey.import_key(json.loads(path.read_text()))
    with os.fdopen(descriptor, "w") as file:
        json.dump(data, file)
    return ECKey.import_key(data)


def public_key() -> ECKey:
    key = private_key()
    return ECKey.import_key(key.as_dict(private=False))


def sign_attestation(nonce: str, *, age_over_18: bool, now: float | None = None) -> str:
    now = int(time.time() if now is None else now)
    key = private_key()
    claims = {
        "iss": DEMO_ISSUER,
        "aud": settings.SITE_URL,
        "iat": now,
        "exp": now + DEMO_TOKEN_LIFETIME_SECONDS,
        "nonce": nonce,
        "age_over_18": age_over_18,
    }
    header = {"alg": "ES256", "typ": "JWT", "kid": key.kid}
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=["ES256"])
