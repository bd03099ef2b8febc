"""Certificates of an mdoc issuer: an IACA root and a document signer (ISO/IEC
18013-5 Annex B profile, reduced to what a verifier checks). Used by the
demonstration issuer and by the tests, which make their own PKI."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

# Extended key usage of an mdoc document signer (ISO/IEC 18013-5, mdlDS).
MDOC_DOCUMENT_SIGNER_EKU = ObjectIdentifier("1.0.18013.5.1.2")


def _usage(*, signature: bool, certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificates,
        crl_sign=certificates,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class IssuerPKI:
    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey
    signer: x509.Certificate


def make_root(
    name: str, *, not_before: datetime, not_after: datetime, key=None, path_length: int = 0
):
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_usage(signature=False, certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def make_intermediate(name: str, *, root_key, root: x509.Certificate, not_before, not_after):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signature=False, certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    return key, certificate


def make_document_signer(
    name: str, *, root_key, root: x509.Certificate, not_before: datetime, not_after: datetime
):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                    x509.NameAttribute(NameOID.COMMON_NAME, name),
                ]
            )
        )
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(_usage(signature=True, certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([MDOC_DOCUMENT_SIGNER_EKU]), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    return key, certificate


def make_issuer_pki(name: str, *, years: int = 3, now: datetime | None = None) -> IssuerPKI:
    now = now or datetime.now(UTC)
    not_before, not_after = now - timedelta(days=1), now + timedelta(days=365 * years)
    root_key, root = make_root(f"{name} IACA", not_before=not_before, not_after=not_after)
    signer_key, signer = make_document_signer(
        f"{name} document signer",
        root_key=root_key,
        root=root,
        not_before=not_before,
        not_after=not_after,
    )
    return IssuerPKI(root_key, root, signer_key, signer)
