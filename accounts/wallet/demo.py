"""The DEMONSTRATION proof-of-age issuer and wallet, active only under DEBUG.

They play the parts of a real issuer and of the person's wallet app so that
`make run` and the browser tests show the whole wallet flow: the issuer's root
(trusted under DEBUG only, accounts.wallet.trust) and document signer, and
the wallet's device key, are generated on first use and kept under var/
(mode 0600). The wallet answers any request with a freshly issued mdoc; there
is no check of anyone's age at all.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from accounts.wallet import holder, pki, protocol

DEMO_ISSUER_NAME = "Chatsite DEMONSTRATION age issuer (not for production)"
# X.509 names hold 64 characters at most.
DEMO_CERTIFICATE_NAME = "Chatsite DEMONSTRATION age issuer"
KEY_FILE_NAME = "demo-age-wallet.json"
DEMO_PROOF_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class DemoMaterial:
    issuer: pki.IssuerPKI
    device_key: ec.EllipticCurvePrivateKey


def _pem_key(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _pem_certificate(certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _parse(data: dict) -> DemoMaterial:
    load_key = lambda text: serialization.load_pem_private_key(text.encode(), None)  # noqa: E731
    load_cert = lambda text: x509.load_pem_x509_certificate(text.encode())  # noqa: E731
    return DemoMaterial(
        issuer=pki.IssuerPKI(
            root_key=load_key(data["root_key"]),
            root=load_cert(data["root"]),
            signer_key=load_key(data["signer_key"]),
            signer=load_cert(data["signer"]),
        ),
        device_key=load_key(data["device_key"]),
    )


def _read(path) -> DemoMaterial:
    return _parse(json.loads(path.read_text()))


@lru_cache(maxsize=4)
def _material(path) -> DemoMaterial:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    issuer = pki.make_issuer_pki(DEMO_CERTIFICATE_NAME, years=10)
    device_key = ec.generate_private_key(ec.SECP256R1())
    data = {
        "root_key": _pem_key(issuer.root_key),
        "root": _pem_certificate(issuer.root),
        "signer_key": _pem_key(issuer.signer_key),
        "signer": _pem_certificate(issuer.signer),
        "device_key": _pem_key(device_key),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it between our read and our write: use theirs.
        return _read(path)
    with os.fdopen(descriptor, "w") as file:
        json.dump(data, file)
    return DemoMaterial(issuer=issuer, device_key=device_key)


def material() -> DemoMaterial:
    return _material(settings.VAR_DIR / KEY_FILE_NAME)


def issuer_root() -> x509.Certificate:
    return material().issuer.root


def _answer(transcript: list, *, age_over_18: bool, demo: DemoMaterial) -> str:
    now = datetime.now(UTC)
    mdoc = holder.issue_mdoc(
        signer_key=demo.issuer.signer_key,
        chain=[demo.issuer.signer],
        device_key=demo.device_key.public_key(),
        elements={protocol.AGE_ELEMENT: age_over_18},
        valid_from=now - timedelta(minutes=1),
        valid_until=now + DEMO_PROOF_LIFETIME,
    )
    response = holder.present(mdoc, device_key=demo.device_key, session_transcript=transcript)
    return holder.vp_token(response)


def answer_request(parameters: dict, *, age_over_18: bool = True) -> str:
    """The demo wallet's vp_token for an OpenID4VP request (its parameters)."""
    transcript = protocol.session_transcript(
        client_id=parameters["client_id"],
        nonce=parameters["nonce"],
        response_uri=parameters["response_uri"],
    )
    return _answer(transcript, age_over_18=age_over_18, demo=material())


def answer_dc_api_request(
    *, nonce: str, origin: str, demo: DemoMaterial, age_over_18: bool = True
) -> dict:
    """What a wallet returns through the Digital Credentials API: `{"vp_token": ...}`,
    device-signed over the DC API transcript (the browser's origin). Used by the
    browser test, where Chromium has the API but no wallet app to answer it."""
    transcript = protocol.dc_api_session_transcript(origin=origin, nonce=nonce)
    return {"vp_token": json.loads(_answer(transcript, age_over_18=age_over_18, demo=demo))}
