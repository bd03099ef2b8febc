"""What moderation forgets when an account closes (compliance's account deletion calls it)."""

from django.db import transaction
from django.utils import timezone

from audit.events import AuditEvent
from audit.trail import record, user_model_label
from moderation.models import HeldMessage, HeldStatus, ModerationRecord, TrustedFlagger


@transaction.atomic
def do_forget_member(user, *, actor) -> dict[str, int]:
    """Ends what was only the closing account's own standing in moderation.

    Messages of theirs that a filter still holds are refused: released later,
    they would appear under the anonymised account, which never wrote them as
    such. A trusted-flagger status ends with the account, and so do its DSA Art. 23
    counters (ModerationRecord), which only served to assess that account's next
    step; the decisions they counted stay. Reports, sanctions,
    statements of reasons and appeals stay: they are decisions about the
    account, kept for the transparency report and for requisitions. Atomic but
    not durable: compliance calls it inside its deletion's transaction.
    """
    forgotten = {
        "held_messages_refused": HeldMessage.objects.filter(
            author=user, status=HeldStatus.PENDING
        ).update(status=HeldStatus.REJECTED, decided_at=timezone.now(), decided_by=None),
        "trusted_flagger_ended": TrustedFlagger.objects.filter(user=user, is_active=True).update(
            is_active=False
        ),
        "counters_forgotten": ModerationRecord.objects.filter(user=user).delete()[0],
    }
    record(
        AuditEvent.MODERATION_MEMBER_FORGOTTEN,
        actor=actor,
        target_type=user_model_label(),
        target_id=user.pk,
        details=forgotten,
    )
    return forgotten
