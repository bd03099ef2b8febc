"""Checks a wallet's answer (a DeviceResponse) against one of our requests.

In order: the form of `vp_token`; the document type; the issuer's certificate
chain up to a root of the trust list and the issuer's signature (issuerAuth,
COSE_Sign1, ES256); the MSO's document type, digest algorithm and validity
window; that only `age_over_18` was disclosed and that its digest is the one
the issuer signed; the device signature over our session transcript (which
holds our client_id, nonce and response URI, so an answer made for another
request or another site does not verify); and last, that the value is true.

CBOR is read with cbor2, COSE with pycose, X.509 paths with cryptography.
"""

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store
from django.utils.translation import gettext_lazy as _
from pycose.algorithms import Es256
from pycose.exceptions import CoseException
from pycose.headers import Algorithm, X5chain
from pycose.keys import CoseKey, EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from accounts.models import AgeVerificationRefusal as Refusal
from accounts.wallet import protocol
from accounts.wallet.trust import anchor_name

# A proof of age is a few kilobytes; this stops us parsing megabytes.
MAX_VP_TOKEN_LENGTH = 64 * 1024
DIGEST_ALGORITHM = "SHA-256"

REFUSAL_MESSAGES = {
    Refusal.UNTRUSTED_CERTIFICATE: _(
        "Cette preuve d'âge vient d'un émetteur qui n'est pas sur la liste de confiance de "
        "Chatsite."
    ),
    Refusal.CERTIFICATE_EXPIRED: _(
        "Le certificat de l'émetteur de cette preuve d'âge a expiré ou n'est pas encore "
        "valide : mettez à jour votre portefeuille."
    ),
    Refusal.PROOF_EXPIRED: _(
        "Cette preuve d'âge a expiré : faites-la renouveler dans votre portefeuille, puis "
        "recommencez."
    ),
    Refusal.PROOF_NOT_YET_VALID: _(
        "Cette preuve d'âge n'est pas encore valide : vérifiez l'heure de votre téléphone et "
        "recommencez."
    ),
    Refusal.WRONG_DOCTYPE: _(
        "Le portefeuille a présenté autre chose qu'une preuve d'âge européenne (eu.europa.ec.av.1)."
    ),
    Refusal.DIGEST_MISMATCH: _(
        "La donnée « 18 ans ou plus » ne correspond pas à ce que l'émetteur a signé : elle a "
        "été modifiée."
    ),
    Refusal.EXTRA_ELEMENTS: _(
        "Le portefeuille a divulgué d'autres données que « 18 ans ou plus » : Chatsite ne les "
        "demande pas et refuse la réponse, sans rien en garder."
    ),
    Refusal.DEVICE_SIGNATURE_MISSING: _(
        "La réponse n'est pas signée par le portefeuille qui détient la preuve : elle a pu être "
        "copiée."
    ),
    Refusal.DEVICE_SIGNATURE_INVALID: _(
        "La réponse du portefeuille n'a pas été préparée pour cette demande de Chatsite (autre "
        "demande, autre site ou signature invalide). Recommencez depuis cette page."
    ),
    Refusal.MALFORMED: _("La réponse du portefeuille est illisible ou incomplète. Recommencez."),
    Refusal.UNSUPPORTED_ALGORITHM: _(
        "La preuve d'âge utilise un algorithme que Chatsite n'accepte pas (ES256 sur P-256 "
        "attendu)."
    ),
    Refusal.BAD_SIGNATURE: _(
        "La signature de l'émetteur de la preuve d'âge n'est pas valide : elle a peut-être "
        "été modifiée."
    ),
    Refusal.NOT_ADULT: _(
        "La preuve d'âge n'atteste pas que vous avez 18 ans ou plus. Chatsite est réservé aux "
        "adultes."
    ),
    Refusal.UNKNOWN_NONCE: _(
        "Cette réponse ne correspond à aucune demande en cours de Chatsite. Recommencez depuis "
        "la page de vérification."
    ),
    Refusal.FOREIGN_NONCE: _(
        "Cette demande a été faite depuis un autre compte. Recommencez depuis cette page."
    ),
    Refusal.REPLAYED_NONCE: _(
        "Cette demande a déjà reçu une réponse : une réponse ne sert qu'une fois. Recommencez."
    ),
    Refusal.NONCE_EXPIRED: _(
        "La demande au portefeuille a expiré (10 minutes). Recommencez depuis cette page."
    ),
}


class WalletRefused(Exception):
    def __init__(self, reason: Refusal, anchor: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.anchor = anchor


@dataclass(frozen=True)
class ProofOfAge:
    """All we keep of a valid answer: the trust anchor (and, by the caller, the time)."""

    anchor: str


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def device_response_from_vp_token(vp_token: str) -> bytes:
    """OpenID4VP 1.0's shape: {"<credential query id>": ["<base64url DeviceResponse>"]}."""
    if not vp_token or len(vp_token) > MAX_VP_TOKEN_LENGTH:
        raise WalletRefused(Refusal.MALFORMED)
    try:
        token = json.loads(vp_token)
    except ValueError:
        raise WalletRefused(Refusal.MALFORMED) from None
    if not isinstance(token, dict) or set(token) != {protocol.CREDENTIAL_QUERY_ID}:
        raise WalletRefused(Refusal.MALFORMED)
    presentations = token[protocol.CREDENTIAL_QUERY_ID]
    if not isinstance(presentations, list) or len(presentations) != 1:
        raise WalletRefused(Refusal.MALFORMED)
    if not isinstance(presentations[0], str):
        raise WalletRefused(Refusal.MALFORMED)
    try:
        return _b64url_decode(presentations[0])
    except (binascii.Error, ValueError):
        raise WalletRefused(Refusal.MALFORMED) from None


def _loads(data):
    try:
        return cbor2.loads(data)
    except (cbor2.CBORError, ValueError, TypeError):
        raise WalletRefused(Refusal.MALFORMED) from None


def _embedded(item):
    """The content of a #6.24 (embedded CBOR) item."""
    if not isinstance(item, cbor2.CBORTag) or item.tag != 24 or not isinstance(item.value, bytes):
        raise WalletRefused(Refusal.MALFORMED)
    return _loads(item.value)


def _sign1(cose_array) -> Sign1Message:
    if not isinstance(cose_array, list | tuple) or len(cose_array) != 4:
        raise WalletRefused(Refusal.MALFORMED)
    try:
        message = Sign1Message.from_cose_obj(list(cose_array), True)
    except (cbor2.CBORError, CoseException, ValueError, TypeError, KeyError, AttributeError):
        raise WalletRefused(Refusal.MALFORMED) from None
    # ES256 on P-256 only (the profile's algorithm), in the protected header.
    if message.phdr.get(Algorithm) is not Es256:
        raise WalletRefused(Refusal.UNSUPPORTED_ALGORITHM)
    return message


def _verify(message: Sign1Message, key: CoseKey, detached_payload: bytes | None = None) -> bool:
    message.key = key
    try:
        return bool(message.verify_signature(detached_payload=detached_payload))
    except (cbor2.CBORError, CoseException, ValueError, TypeError):
        return False


def _certificate_chain(issuer_auth: Sign1Message) -> list[x509.Certificate]:
    chain = issuer_auth.phdr.get(X5chain, issuer_auth.uhdr.get(X5chain))
    if isinstance(chain, bytes):
        chain = [chain]
    if not isinstance(chain, list | tuple) or not chain:
        raise WalletRefused(Refusal.MALFORMED)
    try:
        return [x509.load_der_x509_certificate(der) for der in chain]
    except (ValueError, TypeError, x509.InvalidVersion):
        raise WalletRefused(Refusal.MALFORMED) from None


def _trusted_anchor(chain: list[x509.Certificate], roots, now: datetime) -> x509.Certificate:
    signer = chain[0]
    if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        raise WalletRefused(Refusal.CERTIFICATE_EXPIRED)
    if not roots:
        raise WalletRefused(Refusal.UNTRUSTED_CERTIFICATE)
    # The document signer certificate (ISO 18013-5 Annex B) is no web
    # certificate: its extensions are the issuer's; the CAs above it must be CAs.
    verifier = (
        PolicyBuilder()
        .store(Store(roots))
        .time(now)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(signer, chain[1:])
    except x509.verification.VerificationError:
        raise WalletRefused(Refusal.UNTRUSTED_CERTIFICATE) from None
    return verified.chain[-1]


def _public_cose_key(public_key) -> EC2Key:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise WalletRefused(Refusal.UNSUPPORTED_ALGORITHM)
    numbers = public_key.public_numbers()
    return EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))


def _as_utc(value) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise WalletRefused(Refusal.MALFORMED)
    return value.astimezone(UTC)


def _device_key(mso: dict) -> CoseKey:
    info = mso.get("deviceKeyInfo")
    key = info.get("deviceKey") if isinstance(info, dict) else None
    if not isinstance(key, dict):
        raise WalletRefused(Refusal.MALFORMED)
    try:
        cose_key = CoseKey.from_dict(dict(key))
    except (CoseException, ValueError, TypeError, KeyError, AttributeError):
        raise WalletRefused(Refusal.MALFORMED) from None
    if not isinstance(cose_key, EC2Key) or cose_key.crv is not P256:
        raise WalletRefused(Refusal.UNSUPPORTED_ALGORITHM)
    return cose_key


def verify_device_response(
    device_response: bytes, *, session_transcript: list, roots, now: datetime | None = None
) -> ProofOfAge:
    """Raises WalletRefused with the first reason found; returns the anchor."""
    try:
        return _verify_device_response(
            device_response, session_transcript=session_transcript, roots=roots, now=now
        )
    except (
        cbor2.CBORError,
        CoseException,
        AttributeError,
        TypeError,
        KeyError,
        ValueError,
        IndexError,
        OverflowError,
    ):
        # A structure of the wrong shape somewhere deep (a map where a list was
        # due...): unreadable, never a server error.
        raise WalletRefused(Refusal.MALFORMED) from None


def _verify_device_response(
    device_response: bytes, *, session_transcript: list, roots, now: datetime | None
) -> ProofOfAge:
    now = now or datetime.now(UTC)
    response = _loads(device_response)
    if not isinstance(response, dict) or response.get("status", 0) != 0:
        raise WalletRefused(Refusal.MALFORMED)
    documents = response.get("documents")
    if not isinstance(documents, list | tuple) or len(documents) != 1:
        raise WalletRefused(
            Refusal.EXTRA_ELEMENTS
            if isinstance(documents, list | tuple) and documents
            else Refusal.MALFORMED
        )
    document = documents[0]
    if not isinstance(document, dict):
        raise WalletRefused(Refusal.MALFORMED)
    if document.get("docType") != protocol.DOCTYPE:
        raise WalletRefused(Refusal.WRONG_DOCTYPE)
    issuer_signed = document.get("issuerSigned")
    if not isinstance(issuer_signed, dict):
        raise WalletRefused(Refusal.MALFORMED)

    # 1. The issuer: a chain to our trust list, then its signature over the MSO.
    issuer_auth = _sign1(issuer_signed.get("issuerAuth"))
    chain = _certificate_chain(issuer_auth)
    root = _trusted_anchor(chain, roots, now)
    anchor = anchor_name(root)
    if not _verify(issuer_auth, _public_cose_key(chain[0].public_key())):
        raise WalletRefused(Refusal.BAD_SIGNATURE, anchor)
    mso = _embedded(_loads(issuer_auth.payload)) if issuer_auth.payload else None
    if not isinstance(mso, dict):
        raise WalletRefused(Refusal.MALFORMED, anchor)
    if mso.get("docType") != protocol.DOCTYPE:
        raise WalletRefused(Refusal.WRONG_DOCTYPE, anchor)
    if mso.get("digestAlgorithm") != DIGEST_ALGORITHM:
        raise WalletRefused(Refusal.UNSUPPORTED_ALGORITHM, anchor)
    validity = mso.get("validityInfo")
    if not isinstance(validity, dict):
        raise WalletRefused(Refusal.MALFORMED, anchor)
    if now < _as_utc(validity.get("validFrom")):
        raise WalletRefused(Refusal.PROOF_NOT_YET_VALID, anchor)
    if now > _as_utc(validity.get("validUntil")):
        raise WalletRefused(Refusal.PROOF_EXPIRED, anchor)

    # 2. What was disclosed: age_over_18 alone, exactly as the issuer signed it.
    namespaces = issuer_signed.get("nameSpaces")
    if not isinstance(namespaces, dict) or set(namespaces) - {protocol.NAMESPACE}:
        raise WalletRefused(Refusal.EXTRA_ELEMENTS, anchor)
    items = namespaces.get(protocol.NAMESPACE, [])
    if not isinstance(items, list | tuple):
        raise WalletRefused(Refusal.MALFORMED, anchor)
    if len(items) > 1:
        raise WalletRefused(Refusal.EXTRA_ELEMENTS, anchor)
    age_over_18 = None
    if items:
        item = _embedded(items[0])
        if not isinstance(item, dict):
            raise WalletRefused(Refusal.MALFORMED, anchor)
        if item.get("elementIdentifier") != protocol.AGE_ELEMENT:
            raise WalletRefused(Refusal.EXTRA_ELEMENTS, anchor)
        digests = mso.get("valueDigests", {}).get(protocol.NAMESPACE, {})
        # The digest covers the item as sent (#6.24 wrapping its bytes).
        digest = hashlib.sha256(cbor2.dumps(items[0])).digest()
        if not isinstance(digests, dict) or digests.get(item.get("digestID")) != digest:
            raise WalletRefused(Refusal.DIGEST_MISMATCH, anchor)
        age_over_18 = item.get("elementValue")

    # 3. The holder: the device key of the MSO signed our session transcript.
    device_signed = document.get("deviceSigned")
    if not isinstance(device_signed, dict):
        raise WalletRefused(Refusal.DEVICE_SIGNATURE_MISSING, anchor)
    device_namespaces = device_signed.get("nameSpaces")
    if _embedded(device_namespaces) != {}:
        # Self-asserted elements are elements we did not ask for.
        raise WalletRefused(Refusal.EXTRA_ELEMENTS, anchor)
    device_auth = device_signed.get("deviceAuth")
    if not isinstance(device_auth, dict) or "deviceSignature" not in device_auth:
        raise WalletRefused(Refusal.DEVICE_SIGNATURE_MISSING, anchor)
    device_signature = _sign1(device_auth["deviceSignature"])
    if device_signature.payload is not None:
        raise WalletRefused(Refusal.MALFORMED, anchor)
    device_authentication = cbor2.dumps(
        cbor2.CBORTag(
            24,
            cbor2.dumps(
                [
                    "DeviceAuthentication",
                    session_transcript,
                    protocol.DOCTYPE,
                    device_namespaces,
                ]
            ),
        )
    )
    if not _verify(device_signature, _device_key(mso), device_authentication):
        raise WalletRefused(Refusal.DEVICE_SIGNATURE_INVALID, anchor)

    # 4. The verdict.
    if age_over_18 is not True:
        raise WalletRefused(Refusal.NOT_ADULT, anchor)
    return ProofOfAge(anchor=anchor)
