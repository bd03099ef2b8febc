"""The one audit helper: `record`, called inside the action's own transaction.

Every app writes to the trail through `record`. It takes the chain head's lock,
so keep it the last statement of the action: the lock is held until the
action commits, and taking it last means no writer waits on another lock
while holding it (no deadlock, short waits).
"""

import secrets
from collections.abc import Callable, Mapping

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from audit import chain
from audit.events import AuditEvent
from audit.models import AuditEntry, ChainHead

SYSTEM_LABEL = "system"


def record(
    event: AuditEvent,
    *,
    actor,
    target_type: str = "",
    target_id: str | int = "",
    reason: str = "",
    details: Mapping | None = None,
    ip_address: str | None = None,
    personal: Mapping | None = None,
) -> AuditEntry:
    """Appends one entry to the chain, in the caller's transaction.

    `actor` is a user, or None for the platform itself. `details` is sealed
    into the hash for good: put ids, codes and old/new values there, never
    personal data. `personal` (say, the old and new e-mail address) is kept
    beside it, sealed only through the salted personal digest, so that an
    erasure can clear it without breaking the chain; the actor's label and
    the IP address are kept the same way.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "audit.trail.record() must run inside the transaction of the action it records."
        )
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    actor_label = actor.get_username() if actor_id is not None else SYSTEM_LABEL
    details = chain.normalise_json(dict(details or {}))
    personal = chain.normalise_json(dict(personal)) if personal else None
    ip_address = chain.normalise_ip(ip_address)
    salt = secrets.token_hex(16)
    digest = chain.personal_digest(
        salt, actor_label=actor_label, ip_address=ip_address, personal=personal
    )
    seq, prev_hash = _lock_chain_head()
    created = timezone.now()
    target_id = chain.normalise_text(str(target_id))
    reason = chain.normalise_text(reason)
    sealed = chain.sealed_text(
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
    entry = AuditEntry(
        seq=seq,
        created=created,
        actor_id=actor_id,
        event=int(event),
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details,
        actor_label=actor_label,
        ip_address=ip_address,
        personal_details=personal,
        personal_salt=salt,
        personal_digest=digest,
        prev_hash=prev_hash,
        hash=chain.entry_hash(prev_hash, sealed),
    )
    entry.save(force_insert=True)
    ChainHead.objects.filter(pk=1).update(hash=entry.hash)
    return entry


def _lock_chain_head() -> tuple[int, str]:
    """Takes the head's lock and the next sequence number; returns it and the previous hash.

    An UPDATE first (not a SELECT): it takes the row lock on PostgreSQL and the
    database write lock on SQLite, so concurrent writers queue here.
    """
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")  # noqa: S608
            row = cursor.fetchone()
            if row is not None:
                return row[0], row[1]
            _create_chain_head()
    raise RuntimeError("the audit chain head could not be created")


def _create_chain_head() -> None:
    """The head row, from the last entry if any (a fresh or flushed database has none)."""
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, head_hash = last or (0, chain.GENESIS_HASH)
    try:
        with transaction.atomic():
            ChainHead.objects.create(id=1, seq=seq, hash=head_hash)
    except IntegrityError:
        pass  # another writer created it first: its row is as good


# --- The client's address, as the layer above knows it --------------------------------

_client_ip_resolver: Callable | None = None


def register_client_ip_resolver(resolver: Callable) -> None:
    """Lets the accounts app (which knows the trusted proxies) name the client's IP.

    audit sits below accounts and never imports it; accounts registers its
    resolver at start-up, as moderation registers its checks with rooms.
    """
    global _client_ip_resolver
    _client_ip_resolver = resolver


def request_ip(request) -> str | None:
    if request is None:
        return None
    if _client_ip_resolver is not None:
        return _client_ip_resolver(request)
    return request.META.get("REMOTE_ADDR") or None


def user_model_label() -> str:
    """The target type of an account, as entries store it ("accounts.user")."""
    return settings.AUTH_USER_MODEL.lower()
