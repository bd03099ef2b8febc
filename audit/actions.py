"""The audit app's own writes: staff access, checkpoints and erasure."""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Q

from audit.events import AuditEvent
from audit.models import AuditEntry
from audit.trail import record, user_model_label


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
) -> AuditEntry:
    """A staff member stated why they look at someone's personal data."""
    return record(
        event,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details,
        ip_address=ip_address,
    )


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
