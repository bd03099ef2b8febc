"""The wallet's side: an issuer signs an mdoc, a holder presents it.

Used by the demonstration wallet (accounts.wallet.demo, DEBUG only) and by
the tests, which make their own PKI. The structures are those of ISO/IEC
18013-5 (IssuerSignedItem, MSO, DeviceResponse), built with cbor2 and signed
with pycose, as a real wallet's are.
"""

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.algorithms import Es256
from pycose.headers import Algorithm, X5chain
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from accounts.wallet import protocol


def cose_key(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> EC2Key:
    """A P-256 key of `cryptography` as a COSE key (private if given private)."""
    private = isinstance(key, ec.EllipticCurvePrivateKey)
    numbers = (key.public_key() if private else key).public_numbers()
    fields = {"x": numbers.x.to_bytes(32, "big"), "y": numbers.y.to_bytes(32, "big")}
    if private:
        fields["d"] = key.private_numbers().private_value.to_bytes(32, "big")
    return EC2Key(crv=P256, **fields)


def _tdate(moment: datetime):
    # tdate (RFC 8949 tag 0), whole seconds in UTC, as ISO 18013-5 asks.
    return cbor2.CBORTag(0, moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


@dataclass
class IssuedMdoc:
    """What the wallet holds: the doctype and the issuer-signed part."""

    doctype: str
    namespace: str
    items: dict[str, cbor2.CBORTag]  # element identifier -> #6.24(IssuerSignedItem)
    issuer_auth: list
    extra: dict = field(default_factory=dict)


def signed_item(digest_id: int, identifier: str, value) -> cbor2.CBORTag:
    item = {
        "digestID": digest_id,
        "random": secrets.token_bytes(16),
        "elementIdentifier": identifier,
        "elementValue": value,
    }
    return cbor2.CBORTag(24, cbor2.dumps(item))


def issue_mdoc(
    *,
    signer_key: ec.EllipticCurvePrivateKey,
    chain: list[x509.Certificate],
    device_key: ec.EllipticCurvePublicKey,
    elements: dict,
    valid_from: datetime,
    valid_until: datetime,
    doctype: str = protocol.DOCTYPE,
    namespace: str = protocol.NAMESPACE,
) -> IssuedMdoc:
    """Signs an MSO over `elements` (a document signer key and its chain, DS first)."""
    items = {
        identifier: signed_item(digest_id, identifier, value)
        for digest_id, (identifier, value) in enumerate(elements.items())
    }
    digests = {
        cbor2.loads(item.value)["digestID"]: hashlib.sha256(cbor2.dumps(item)).digest()
        for item in items.values()
    }
    mso = {
        "version": "1.0",
        "digestAlgorithm": "SHA-256",
        "valueDigests": {namespace: digests},
        "deviceKeyInfo": {"deviceKey": _public_map(device_key)},
        "docType": doctype,
        "validityInfo": {
            "signed": _tdate(min(datetime.now(UTC), valid_until)),
            "validFrom": _tdate(valid_from),
            "validUntil": _tdate(valid_until),
        },
    }
    der = [certificate.public_bytes(serialization.Encoding.DER) for certificate in chain]
    message = Sign1Message(
        phdr={Algorithm: Es256},
        uhdr={X5chain: der[0] if len(der) == 1 else der},
        payload=cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(mso))),
    )
    message.key = cose_key(signer_key)
    issuer_auth = cbor2.loads(message.encode(tag=False))
    return IssuedMdoc(doctype, namespace, items, issuer_auth)


def _public_map(key: ec.EllipticCurvePublicKey) -> dict:
    # COSE_Key labels (RFC 9052): kty 2 (EC2), crv 1 (P-256), x, y.
    numbers = key.public_numbers()
    return {1: 2, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}


def present(
    mdoc: IssuedMdoc,
    *,
    device_key: ec.EllipticCurvePrivateKey | None,
    session_transcript: list,
    disclose: tuple[str, ...] = (protocol.AGE_ELEMENT,),
) -> bytes:
    """A DeviceResponse disclosing `disclose`, device-signed over the transcript
    (with no device key: no device signature, as a broken wallet would send)."""
    device_namespaces = cbor2.CBORTag(24, cbor2.dumps({}))
    device_signed: dict = {"nameSpaces": device_namespaces}
    if device_key is not None:
        authentication = cbor2.dumps(
            cbor2.CBORTag(
                24,
                cbor2.dumps(
                    ["DeviceAuthentication", session_transcript, mdoc.doctype, device_namespaces]
                ),
            )
        )
        signature = Sign1Message(phdr={Algorithm: Es256}, uhdr={}, payload=None)
        signature.key = cose_key(device_key)
        device_signed["deviceAuth"] = {
            "deviceSignature": cbor2.loads(
                signature.encode(tag=False, detached_payload=authentication)
            )
        }
    else:
        device_signed["deviceAuth"] = {}
    document = {
        "docType": mdoc.doctype,
        "issuerSigned": {
            "nameSpaces": {mdoc.namespace: [mdoc.items[name] for name in disclose]},
            "issuerAuth": mdoc.issuer_auth,
        },
        "deviceSigned": device_signed,
    }
    return cbor2.dumps({"version": "1.0", "documents": [document], "status": 0})


def vp_token(device_response: bytes) -> str:
    """OpenID4VP 1.0's vp_token: the credential query id -> [base64url DeviceResponse]."""
    encoded = base64.urlsafe_b64encode(device_response).rstrip(b"=").decode("ascii")
    return json.dumps({protocol.CREDENTIAL_QUERY_ID: [encoded]})
