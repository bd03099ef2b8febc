"""The audit app's own writes: staff access, checkpoints and erasure."""

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Q

from audit import watch
from audit.events import AuditEvent
from audit.models import AuditEntry, LookedAtPerson
from audit.trail import record, user_model_label
from core import metrics

# At most this many people and rooms are named in one look's entry (a page of a list).
MAX_LOOK_SUBJECTS = 200


@transaction.atomic(durable=True)
def do_record_staff_access(
    event: AuditEvent,
    *,
    actor,
    target_type: str,
    target_id: str | int,
    reason: str,
    ip_address: str | None,
    details: Mapping | None = None,
    people: Iterable[int] = (),
    rooms: Iterable[int] = (),
    personal: Mapping | None = None,
) -> AuditEntry:
    """A staff member looked at someone's personal data, for the reason they stated.

    `people` and `rooms` are the ids of the accounts and rooms the look showed:
    sealed in the entry's details and indexed (LookedAtPerson) for the review by
    person. `personal` (a search term, filters) is kept erasable. Looks at private
    conversations and identity files count toward the rate alert (audit/watch.py).
    """
    people = sorted({int(pk) for pk in people if pk is not None})[:MAX_LOOK_SUBJECTS]
    rooms = sorted({int(pk) for pk in rooms if pk is not None})[:MAX_LOOK_SUBJECTS]
    details = dict(details or {})
    if people:
        details["people"] = people
    if rooms:
        details["rooms"] = rooms
    entry = record(
        event,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details,
        ip_address=ip_address,
        personal=personal,
    )
    LookedAtPerson.objects.bulk_create(
        [LookedAtPerson(seq=entry.seq, person_id=person) for person in people]
    )
    transaction.on_commit(lambda: metrics.staff_look(event))
    watch.check_look_rate(entry, actor=actor)
    return entry


@transaction.atomic(durable=True)
def do_record_refused_staff_attempt(
    *,
    actor,
    code: str,
    surface: str,
    detail: str = "",
    target_type: str = "",
    target_id: str | int = "",
    ip_address: str | None = None,
    details: Mapping | None = None,
) -> AuditEntry:
    """A staff member tried something and was refused (permission, second factor,
    four-eyes rule): one entry per attempt (audit/refusals.py says where)."""
    entry = record(
        AuditEvent.STAFF_ATTEMPT_REFUSED,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        reason=detail[:500],
        details={"code": str(code), "surface": surface[:200], **(details or {})},
        ip_address=ip_address,
    )
    transaction.on_commit(lambda: metrics.staff_refused(code))
    return entry


@transaction.atomic(durable=True)
def do_record_checkpoint(*, actor, key_id: str) -> AuditEntry:
    """The entry a signed checkpoint covers: the trail says when, and with which key."""
    return record(AuditEvent.AUDIT_CHECKPOINT_SIGNED, actor=actor, details={"key_id": key_id})


@transaction.atomic(durable=True)
def do_erase_personal_data(user_id: int, *, actor, reason: str) -> AuditEntry:
    """Clears an account's personal data from the trail (see erase_personal_data)."""
    return erase_personal_data(user_id, actor=actor, reason=reason)


def erase_personal_data(user_id: int, *, actor, reason: str) -> AuditEntry:
    """do_erase_personal_data inside a caller's own transaction (the compliance
    app's retention purge erases as one step of a larger action).

    Clears an account's personal data from the trail, keeping the chain intact.

    Entries the account made, and entries about the account, lose their
    personal columns (actor label, IP address, personal details) and the salt
    that sealed them; their sealed fields and hashes stay as they are, so the
    chain still verifies. The erasure itself is recorded, with the last entry
    it covers: audit_verify treats any cleared entry it does not cover as
    tampering.
    """
    subject_type = user_model_label()
    covered = AuditEntry.objects.filter(
        Q(actor_id=user_id) | Q(target_type=subject_type, target_id=str(user_id))
    ).exclude(personal_salt="")
    up_to_seq = covered.order_by("-seq").values_list("seq", flat=True).first() or 0
    erased = covered.update(
        actor_label="", ip_address=None, personal_details=None, personal_salt=""
    )
    return record(
        AuditEvent.AUDIT_PERSONAL_DATA_ERASED,
        actor=actor,
        target_type=subject_type,
        target_id=user_id,
        reason=reason,
        details={
            "subject_type": subject_type,
            "subject_id": str(user_id),
            "up_to_seq": up_to_seq,
            "entries": erased,
        },
    )
