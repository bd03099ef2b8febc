"""The hash chain: canonical forms, hashes and verification.

Pure functions, no database: an independent verifier can re-implement them
from docs/audit.md in a few lines.

    hash = SHA-256( prev_hash + "\\n" + canonical_json(sealed fields) )
    personal_digest = SHA-256( salt + "\\n" + canonical_json(personal fields) )

canonical_json is json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False), UTF-8 encoded. Values are normalised before they are
stored (normalise_json), so that what the database gives back hashes the same.
"""

import datetime
import enum
import hashlib
import ipaddress
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

GENESIS_HASH = "0" * 64

# The columns a verifier reads, in this order (queries.CHAIN_FIELDS uses it too).
ROW_FIELDS = (
    "seq",
    "created",
    "actor_id",
    "event",
    "target_type",
    "target_id",
    "reason",
    "details",
    "actor_label",
    "ip_address",
    "personal_details",
    "personal_salt",
    "personal_digest",
    "prev_hash",
    "hash",
)


# One encoder for every call: json.dumps with options builds a new one each time,
# a third of the cost of verifying an entry.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value) -> str:
    """json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)."""
    return _CANONICAL.encode(value)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_text(value: str) -> str:
    """Text the database and UTF-8 accept: no NUL (PostgreSQL refuses it), no lone surrogate.

    A decoded JSON body can carry either; the entry is kept rather than the action failed.
    """
    value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def normalise_json(value):
    """A plain JSON value (dict, list, str, int, bool, None) that survives the database.

    Floats become strings: PostgreSQL's jsonb may print them differently from
    Python, and the stored value must hash as it did when it was written.
    Models become their primary key, dates ISO 8601 text, sets sorted lists.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, enum.Enum):
        return normalise_json(value.value)
    if isinstance(value, dict):
        return {normalise_text(str(key)): normalise_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise_json(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((normalise_json(item) for item in value), key=canonical_json)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float | Decimal | uuid.UUID):
        return str(value)
    if hasattr(value, "_meta") and hasattr(value, "pk"):  # a model instance
        return normalise_json(value.pk)
    if hasattr(value, "model") and hasattr(value, "values_list"):  # a queryset
        return sorted(normalise_json(pk) for pk in value.values_list("pk", flat=True))
    return normalise_text(str(value))


def normalise_ip(value: str | None) -> str | None:
    """The canonical text of an address, as PostgreSQL's inet prints it back."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None  # a garbled proxy header must not make the audited action fail


def format_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


# How the canonical encoder writes a string (ensure_ascii=False): quotes, escapes.
_quote = json.encoder.encode_basestring


def sealed_text(
    *,
    seq: int,
    created: datetime.datetime,
    actor_id: int | None,
    event: int,
    target_type: str,
    target_id: str,
    reason: str,
    details,
    personal_digest: str,
) -> str:
    """The canonical JSON of the sealed fields, the text the entry's hash covers.

    The same text as canonical_json() of the dict {"seq": ..., "created": ...,
    ...} (a property test holds them equal), written out directly because
    verification spends most of its time here: keys in sorted order, and only
    the free-text values and the details go through the encoder.
    """
    return (
        '{"actor_id":'
        + ("null" if actor_id is None else str(int(actor_id)))
        + ',"created":"'
        + format_time(created)
        + '","details":'
        + canonical_json(details)
        + ',"event":'
        + str(int(event))
        + ',"personal_digest":'
        + _quote(personal_digest)
        + ',"reason":'
        + _quote(reason)
        + ',"seq":'
        + str(int(seq))
        + ',"target_id":'
        + _quote(target_id)
        + ',"target_type":'
        + _quote(target_type)
        + "}"
    )


def entry_hash(prev_hash: str, sealed: str) -> str:
    return _sha256(prev_hash + "\n" + sealed)


def personal_digest(salt: str, *, actor_label: str, ip_address: str | None, personal) -> str:
    """SHA-256 of the salt and the canonical JSON of the three personal columns."""
    text = (
        '{"actor_label":'
        + _quote(actor_label)
        + ',"ip_address":'
        + ("null" if ip_address is None else _quote(ip_address))
        + ',"personal_details":'
        + ("null" if personal is None else canonical_json(personal))
        + "}"
    )
    return _sha256(salt + "\n" + text)


# --- Verification ------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.message}"


@dataclass
class ChainVerifier:
    """Checks entries fed in sequence order; collects problems instead of stopping.

    Each entry must follow the previous one (no gap), link to its stored hash,
    hash to its own stored hash, and (unless erased) match its personal digest.
    An erased entry must be covered by a later erasure entry naming its actor
    or its target, or the personal columns were cleared behind the trail's back.
    """

    erasure_event: int
    subject_type: str
    expected_seq: int = 1
    prev_hash: str = GENESIS_HASH
    max_problems: int = 100
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    erased: list[tuple[int, int | None, str, str]] = field(default_factory=list)
    erasures: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def last_hash(self) -> str:
        return self.prev_hash

    @property
    def last_seq(self) -> int:
        return self.expected_seq - 1

    def problem(self, seq: int, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(Problem(seq, message))

    def feed(self, row: tuple) -> None:
        (
            seq,
            created,
            actor_id,
            event,
            target_type,
            target_id,
            reason,
            details,
            actor_label,
            ip_address,
            personal,
            salt,
            digest,
            prev_hash,
            stored_hash,
        ) = row
        if seq != self.expected_seq:
            if self.expected_seq == seq - 1:
                self.problem(self.expected_seq, "missing")
            else:
                self.problem(self.expected_seq, f"missing, with every entry up to {seq - 1}")
        if prev_hash != self.prev_hash:
            self.problem(
                seq,
                "its previous hash does not match the entry before it "
                "(an entry was removed, inserted or rewritten)",
            )
        sealed = sealed_text(
            seq=seq,
            created=created,
            actor_id=actor_id,
            event=event,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
            details=details,
            personal_digest=digest,
        )
        computed = entry_hash(prev_hash, sealed)
        if computed != stored_hash:
            self.problem(
                seq,
                f"its content does not match its hash (stored {stored_hash[:16]}..., "
                f"computed {computed[:16]}...): the entry was altered",
            )
        if salt:
            expected_digest = personal_digest(
                salt, actor_label=actor_label, ip_address=ip_address, personal=personal
            )
            if expected_digest != digest:
                self.problem(
                    seq,
                    "its personal columns (actor label, IP address, personal details) "
                    "do not match their digest: they were altered",
                )
        else:
            self.erased.append((seq, actor_id, target_type, target_id))
        if event == self.erasure_event and isinstance(details, dict):
            self.erasures.append(
                (
                    str(details.get("subject_type", "")),
                    str(details.get("subject_id", "")),
                    int(details.get("up_to_seq", 0)),
                )
            )
        self.checked += 1
        self.expected_seq = seq + 1
        self.prev_hash = stored_hash

    def feed_all(self, rows: Iterable[tuple]) -> None:
        for row in rows:
            self.feed(row)

    def merge(self, following: "ChainVerifier") -> None:
        """Adds the verdict on the range that follows this one (ranges checked in parallel)."""
        self.checked += following.checked
        self.problem_count += following.problem_count
        self.problems.extend(following.problems[: self.max_problems - len(self.problems)])
        self.erased.extend(following.erased)
        self.erasures.extend(following.erasures)
        if following.checked:
            self.expected_seq = following.expected_seq
            self.prev_hash = following.prev_hash

    def check_erasures(self) -> None:
        """Every erased entry must be covered by a recorded erasure of its actor or target."""
        if not self.erased:
            return
        covered: dict[tuple[str, str], int] = {}
        for subject_type, subject_id, up_to in self.erasures:
            key = (subject_type, subject_id)
            covered[key] = max(covered.get(key, 0), up_to)
        for seq, actor_id, target_type, target_id in self.erased:
            as_actor = covered.get((self.subject_type, str(actor_id)), 0) if actor_id else 0
            as_target = covered.get((target_type, target_id), 0)
            if seq > max(as_actor, as_target):
                self.problem(
                    seq,
                    "its personal columns were cleared without a recorded erasure",
                )
