"""Reading the chain: whole-chain verification and the admin's status panel."""

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from django.db import connection, connections, transaction

from audit import chain
from audit.events import AuditEvent
from audit.models import AuditEntry, ChainHead
from audit.trail import user_model_label

# Entries per verified range (a unit of work for one process, and of progress).
VERIFY_CHUNK = 50_000
TAIL_LENGTH = 1_000


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def chain_head() -> Head | None:
    head = ChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    return Head(*head) if head else None


def last_entry() -> Head | None:
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return Head(*last) if last else None


def new_verifier(**kwargs) -> chain.ChainVerifier:
    return chain.ChainVerifier(
        erasure_event=AuditEvent.AUDIT_PERSONAL_DATA_ERASED,
        subject_type=user_model_label(),
        **kwargs,
    )


def verify_chain(
    progress: Callable[[int], None] | None = None, workers: int = 1
) -> chain.ChainVerifier:
    """Checks every entry from the first; `progress` hears the count after each range.

    Each entry carries its predecessor's hash, so ranges of the chain verify
    independently: with `workers` > 1 they are checked by that many processes
    (each with its own connection, so only for committed data).
    """
    # The head is read first: entries appended while the scan runs are newer than it.
    head = chain_head()
    last = last_entry()
    last_seq = last.seq if last else 0
    ranges = [
        (start, start + VERIFY_CHUNK - 1 if start + VERIFY_CHUNK <= last_seq else None)
        for start in range(1, last_seq + 1, VERIFY_CHUNK)
    ]
    if workers > 1 and len(ranges) > 1 and not connection.in_atomic_block:
        results = _in_processes(ranges, workers)
    else:
        results = map(verify_range, ranges)
    verifier = new_verifier()
    for result in results:
        verifier.merge(result)
        if progress is not None:
            progress(verifier.checked)
    verifier.check_erasures()
    if head is not None and head.seq:
        stored = entry_hash_at(head.seq)
        if stored is None:
            verifier.problem(
                head.seq,
                f"the chain head records entry {head.seq} but the trail ends at entry "
                f"{verifier.last_seq}: entries were removed from the end",
            )
        elif stored != head.hash:
            verifier.problem(
                head.seq,
                f"its hash {stored[:16]}... differs from the chain head's "
                f"({head.hash[:16]}...): the end of the trail was rewritten",
            )
    return verifier


def verify_range(bounds: tuple[int, int | None]) -> chain.ChainVerifier:
    """Checks the entries with seq in [start, end] (end None: to the last one)."""
    start, end = bounds
    before = (
        AuditEntry.objects.filter(seq__lt=start).order_by("-seq").values_list("seq", "hash").first()
    )
    verifier = new_verifier(
        expected_seq=before[0] + 1 if before else 1,
        prev_hash=before[1] if before else chain.GENESIS_HASH,
    )
    rows = AuditEntry.objects.filter(seq__gte=start)
    if end is not None:
        rows = rows.filter(seq__lte=end)
    # Inside a transaction, PostgreSQL's server-side cursor streams the rows; in
    # autocommit it would be WITH HOLD, copying the whole range to disk first.
    with transaction.atomic():
        for row in rows.order_by("seq").values_list(*chain.ROW_FIELDS).iterator(chunk_size=5_000):
            verifier.feed(row)
    return verifier


def _in_processes(ranges, workers: int):
    # Forked children open their own connections; the parent's must not be shared,
    # nor its connection pool (its worker threads and locks do not survive a fork).
    connections.close_all()
    for open_connection in connections.all(initialized_only=True):
        if getattr(open_connection, "pool", None) is not None:
            open_connection.close_pool()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(verify_range, ranges)


def entry_hash_at(seq: int) -> str | None:
    return AuditEntry.objects.filter(seq=seq).values_list("hash", flat=True).first()


@dataclass(frozen=True)
class ChainStatus:
    head: Head | None
    last: Head | None
    head_matches: bool
    tail_checked: int
    tail_problems: list
    last_checkpoint: AuditEntry | None

    @property
    def ok(self) -> bool:
        return self.head_matches and not self.tail_problems


def chain_status(tail_length: int = TAIL_LENGTH) -> ChainStatus:
    """A quick look for the admin: the head, and the last entries re-hashed.

    The whole chain is for audit_verify (a million entries take seconds, too
    long for a page).
    """
    head, last = chain_head(), last_entry()
    tail = list(AuditEntry.objects.order_by("-seq").values_list(*chain.ROW_FIELDS)[:tail_length])
    tail.reverse()
    problems = []
    if tail:
        first = tail[0]
        verifier = new_verifier(expected_seq=first[0], prev_hash=first[-2])
        verifier.feed_all(tail)
        problems = verifier.problems
    return ChainStatus(
        head=head,
        last=last,
        head_matches=(head == last) or (head is None and last is None),
        tail_checked=len(tail),
        tail_problems=problems,
        last_checkpoint=AuditEntry.objects.filter(event=AuditEvent.AUDIT_CHECKPOINT_SIGNED)
        .order_by("-seq")
        .first(),
    )
