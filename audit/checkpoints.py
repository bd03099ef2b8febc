"""Signed checkpoints: the chain's head, signed with an Ed25519 key kept off the database.

A checkpoint file is JSON: the head's sequence number and hash, the time of
that entry and of the signature, the key's id, and an Ed25519 signature over
the canonical JSON of all of these. Stored off the platform, it proves later
that the trail reached that entry with that hash: removing entries from the
end, or rewriting the chain wholesale (re-hashing every entry), no longer
matches it, and forging a new one needs the private key.
"""

import base64
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.chain import canonical_json

FORMAT = "chatsite-audit-checkpoint/1"


class CheckpointError(Exception):
    """A key or a checkpoint file that cannot be used; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    entry_created: str
    signed_at: str
    key_id: str

    def payload(self) -> dict:
        return {"format": FORMAT, **asdict(self)}


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror}") from exc


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except ValueError as exc:
        raise CheckpointError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A PEM public key; a private key file works too (its public half is used)."""
    data = _read(path)
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 key")
    return key


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> str:
    """The checkpoint file's text."""
    payload = checkpoint.payload()
    signature = key.sign(canonical_json(payload).encode("utf-8"))
    document = {**payload, "signature": base64.b64encode(signature).decode("ascii")}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def read(path: str | Path, public_key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint in that file, once its signature is checked with the trusted key."""
    try:
        document = json.loads(_read(path))
        if document.pop("format") != FORMAT:
            raise CheckpointError(f"{path}: not a {FORMAT} file")
        signature = base64.b64decode(document.pop("signature"), validate=True)
        checkpoint = Checkpoint(
            seq=int(document["seq"]),
            hash=str(document["hash"]),
            entry_created=str(document["entry_created"]),
            signed_at=str(document["signed_at"]),
            key_id=str(document["key_id"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from exc
    if checkpoint.key_id != key_id(public_key):
        raise CheckpointError(
            f"{path}: signed with key {checkpoint.key_id}, not with the trusted key "
            f"{key_id(public_key)}"
        )
    try:
        public_key.verify(signature, canonical_json(checkpoint.payload()).encode("utf-8"))
    except InvalidSignature:
        raise CheckpointError(f"{path}: the signature does not verify (forged or edited)") from None
    return checkpoint
