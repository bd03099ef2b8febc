"""Moderators' notes about an account, shown in its case file (docs/moderation.md)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation.models import NOTE_MAX_LENGTH, ModeratorNote

NOTE_TARGET = "moderation.moderatornote"


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise Refused(RefusalCode.INVALID, _("La note est vide."))
    if len(body) > NOTE_MAX_LENGTH:
        raise Refused(
            RefusalCode.INVALID,
            _("Une note fait au plus %(max)d caractères.") % {"max": NOTE_MAX_LENGTH},
        )
    return body


@transaction.atomic(durable=True)
def do_add_moderator_note(subject, body: str, *, actor) -> ModeratorNote:
    """A note about `subject`, written by `actor`. The text is the subject's personal
    data: it goes in the entry's erasable part, never in the sealed details."""
    if not actor.has_perm("moderation.add_moderatornote"):
        raise Refused(RefusalCode.FORBIDDEN, _("Réservé aux modérateurs."))
    body = _clean_body(body)
    now = timezone.now()
    note = ModeratorNote.objects.create(
        subject=subject, body=body, author=actor, created=now, updated_by=actor, updated=now
    )
    record(
        AuditEvent.MODERATOR_NOTE_ADDED,
        actor=actor,
        target_type=NOTE_TARGET,
        target_id=note.pk,
        details={"subject": subject.pk, "length": len(body)},
        personal={"body": body},
    )
    return note


@transaction.atomic(durable=True)
def do_edit_moderator_note(note: ModeratorNote, body: str, *, actor) -> ModeratorNote:
    """Rewrites a note; the trail keeps the earlier text (erasable) and who changed it."""
    if not actor.has_perm("moderation.change_moderatornote"):
        raise Refused(RefusalCode.FORBIDDEN, _("Réservé aux modérateurs."))
    body = _clean_body(body)
    # The row locked: two moderators editing at once each see their own old text recorded.
    note = ModeratorNote.objects.select_for_update().get(pk=note.pk)
    if note.body == body:
        return note
    old = note.body
    note.body = body
    note.updated = timezone.now()
    note.updated_by = actor
    note.save(update_fields=["body", "updated", "updated_by"])
    record(
        AuditEvent.MODERATOR_NOTE_EDITED,
        actor=actor,
        target_type=NOTE_TARGET,
        target_id=note.pk,
        details={"subject": note.subject_id, "length": len(body)},
        personal={"old": old, "new": body},
    )
    return note
