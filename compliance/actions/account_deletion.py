"""Account deletion (GDPR Art. 17, within the retention duties)."""

from datetime import datetime

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import actions as accounts_actions
from accounts.actions import DELETED_USERNAME_PREFIX  # noqa: F401 - the package re-exports it
from accounts.models import AccountDeletionRequest, ConnectionRecord, PseudonymHistory, User
from audit.events import AuditEvent
from audit.refusals import records_staff_refusals
from audit.trail import record, user_model_label
from compliance import queries
from compliance.actions.common import _check_permission
from compliance.models import (
    RestrictedCategory,
    RestrictedRecord,
)
from compliance.retention import RetentionPolicy, retention_policy
from core.refusals import RefusalCode, Refused
from moderation import actions as moderation_actions
from rooms import actions as rooms_actions
from rooms.models import Message


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _complete_account_deletion(
    deletion: AccountDeletionRequest, *, actor, policy: RetentionPolicy, now: datetime
) -> None:
    """Moves what the law keeps into the restricted store, then has each app forget
    the person through its own action, and records the deletion.

    Compliance writes only its own rows (the restricted store); rooms,
    moderation and accounts each remove or anonymise theirs, with their own
    audit entries, in this same transaction. The account row stays,
    anonymised: its messages keep pointing to it (they stay in their
    conversations, under an anonymous name) and the restricted records name
    it for requisitions.
    """
    user = User.objects.select_for_update().get(pk=deletion.user_id)
    closed_at = deletion.requested_at
    emails = list(EmailAddress.objects.filter(user=user).values_list("email", flat=True))
    RestrictedRecord.objects.create(
        category=RestrictedCategory.IDENTITY,
        user=user,
        occurred_at=closed_at,
        retain_until=closed_at + policy.identity_data,
        data={
            "email": user.email,
            "emails": emails,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_of_birth": _iso(user.date_of_birth),
        },
    )
    RestrictedRecord.objects.create(
        category=RestrictedCategory.ACCOUNT,
        user=user,
        occurred_at=closed_at,
        retain_until=closed_at + policy.account_data,
        data={
            "username": user.username,
            # The password verifier in its last version (décret 2021-1362,
            # art. 1 II 3°): a hash, never the password.
            "password": user.password,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "closed_at": _iso(closed_at),
            "age_verified_at": _iso(user.age_verified_at),
            "age_verification_method": user.age_verification_method,
            "age_verification_attempts": [
                {
                    "method": a.method,
                    "outcome": a.outcome,
                    "reason": a.reason,
                    "time": _iso(a.created),
                }
                for a in user.age_verification_attempts.order_by("created", "id")
            ],
        },
    )
    # Each pseudonym held, with its period: a requisition naming it for that
    # period finds this account (queries.resolve_pseudonym). The name held
    # until now is held until the closure.
    held_names = list(PseudonymHistory.objects.filter(user=user).order_by("valid_from", "id")) or [
        PseudonymHistory(
            user=user,
            name=user.username,
            pseudonym_key=user.pseudonym_key,
            valid_from=user.date_joined,
        )
    ]
    RestrictedRecord.objects.bulk_create(
        RestrictedRecord(
            category=RestrictedCategory.PSEUDONYM,
            user=user,
            occurred_at=held.valid_from,
            retain_until=closed_at + policy.account_data,
            data={
                "name": held.name,
                "pseudonym_key": held.pseudonym_key,
                "to": _iso(held.valid_to or max(closed_at, held.valid_from)),
            },
        )
        for held in held_names
    )
    connections = list(ConnectionRecord.objects.filter(user=user).order_by("created", "id"))
    RestrictedRecord.objects.bulk_create(
        RestrictedRecord(
            category=RestrictedCategory.CONNECTION,
            user=user,
            occurred_at=connection.created,
            retain_until=connection.created + policy.content_operations,
            data={
                "connection_record_id": connection.pk,
                "kind": connection.kind,
                "ip_address": connection.ip_address,
                "port": connection.port,
            },
        )
        for connection in connections
    )
    # Each app forgets the person through its own action (docs/compliance.md, 3.);
    # accounts' also marks the request completed.
    removed = {
        **rooms_actions.do_forget_member(user, actor=actor),
        **moderation_actions.do_forget_member(user, actor=actor),
        **accounts_actions.do_forget_account(deletion, actor=actor, now=now),
    }
    record(
        AuditEvent.ACCOUNT_DELETION_COMPLETED,
        actor=actor,
        target_type=user_model_label(),
        target_id=deletion.user_id,
        details={
            "deletion_request": deletion.pk,
            "connections_retained": len(connections),
            "removed": removed,
            "messages_kept_anonymised": Message.objects.filter(author=user).count(),
            "held": queries.is_user_held(user.pk),
        },
    )


@records_staff_refusals
@transaction.atomic(durable=True)
def do_complete_account_deletion(
    deletion: AccountDeletionRequest, *, actor, now: datetime | None = None
) -> AccountDeletionRequest:
    """Completes a member's deletion request (accounts.do_request_account_deletion)."""
    _check_permission(actor, "accounts.change_accountdeletionrequest")
    return complete_account_deletion(deletion, actor=actor, now=now)


def complete_account_deletion(
    deletion: AccountDeletionRequest, *, actor, now: datetime | None = None
) -> AccountDeletionRequest:
    """The deletion itself, inside the caller's transaction: called by
    accounts.do_request_account_deletion (registered in ComplianceConfig.ready),
    so that the member's request takes effect at once, and by the action above."""
    deletion = AccountDeletionRequest.objects.select_for_update().get(pk=deletion.pk)
    if deletion.completed_at is not None:
        raise Refused(RefusalCode.INVALID_STATUS, _("Cette suppression est déjà effectuée."))
    _complete_account_deletion(
        deletion, actor=actor, policy=retention_policy(), now=now or timezone.now()
    )
    deletion.refresh_from_db()
    return deletion
