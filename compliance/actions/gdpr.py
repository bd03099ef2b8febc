"""A member's access to their own data (GDPR Art. 15 and 20)."""

from django.db import transaction

from accounts.models import (
    User,
)
from audit.events import AuditEvent
from audit.trail import record, user_model_label
from compliance import queries


@transaction.atomic(durable=True)
def do_export_own_data(user: User, *, actor: User) -> dict:
    """The member's own data (GDPR Art. 15 and 20); the export is recorded."""
    data = queries.gdpr_export(user)
    # An Art. 23 restriction is documented where the export is: how many notes it held back.
    withheld = user.moderator_notes.count() if queries.moderator_notes_restricted(user) else 0
    record(
        AuditEvent.GDPR_DATA_EXPORTED,
        actor=actor,
        target_type=user_model_label(),
        target_id=user.pk,
        details={
            "messages": len(data["messages"]),
            "connections": len(data["connections"]),
            "moderator_notes": len(data["moderator_notes"]),
            "moderator_notes_withheld": withheld,
        },
    )
    return data
