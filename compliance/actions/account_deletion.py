"""Account deletion (GDPR Art. 17, within the retention duties)."""

import secrets
from datetime import datetime

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import documents
from accounts.models import (
    AccountDeletionRequest,
    AttestationNonce,
    ConnectionRecord,
    DirectMessagePolicy,
    IdentityDocument,
    User,
)
from audit.events import AuditEvent
from audit.trail import record, user_model_label
from compliance import queries
from compliance.actions.common import _check_permission
from compliance.models import (
    RestrictedCategory,
    RestrictedRecord,
)
from compliance.retention import RetentionPolicy, retention_policy
from core.refusals import RefusalCode, Refused
from rooms.models import Block, Message, RoomInvitation, RoomMembership, RoomPresence

DELETED_USERNAME_PREFIX = "supprime-"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _complete_account_deletion(
    deletion: AccountDeletionRequest, *, policy: RetentionPolicy, now: datetime
) -> dict:
    """Moves what the law keeps into the restricted store, then strips the account.

    The account row stays, anonymised: its messages keep pointing to it (they
    stay in their conversations, under an anonymous name) and the restricted
    records name it for requisitions.
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
    connections = list(ConnectionRecord.objects.filter(user=user).order_by("created", "id"))
    RestrictedRecord.objects.bulk_create(
        RestrictedRecord(
            category=RestrictedCategory.CONNECTION,
            user=user,
            occurred_at=connection.created,
            retain_until=connection.created + policy.content_operations,
            data={
                "kind": connection.kind,
                "ip_address": connection.ip_address,
                "port": connection.port,
            },
        )
        for connection in connections
    )
    ConnectionRecord.objects.filter(pk__in=[c.pk for c in connections]).delete()

    # The profile and everything that was only the member's own state goes.
    pending_files = [
        name
        for name in IdentityDocument.objects.filter(user=user).values_list("stored_name", flat=True)
        if name
    ]
    removed = {
        "email_addresses": EmailAddress.objects.filter(user=user).delete()[0],
        "memberships": RoomMembership.objects.filter(user=user).delete()[0],
        "invitations": RoomInvitation.objects.filter(invitee=user).delete()[0],
        "blocks": Block.objects.filter(Q(blocker=user) | Q(blocked=user)).delete()[0],
        "presences": RoomPresence.objects.filter(user=user).delete()[0],
        "identity_documents": IdentityDocument.objects.filter(user=user).delete()[0],
        "age_verification_attempts": user.age_verification_attempts.all().delete()[0],
        "attestation_nonces": AttestationNonce.objects.filter(user=user).delete()[0],
        "otp_devices": TOTPDevice.objects.filter(user=user).delete()[0]
        + StaticDevice.objects.filter(user=user).delete()[0],
    }
    user.username = f"{DELETED_USERNAME_PREFIX}{secrets.token_hex(6)}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.set_unusable_password()
    user.date_of_birth = None
    user.age_verified_at = None
    user.age_verification_method = ""
    user.direct_messages_from = DirectMessagePolicy.NOBODY
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    deletion.completed_at = now
    deletion.save(update_fields=["completed_at"])
    for stored_name in pending_files:
        transaction.on_commit(lambda name=stored_name: documents.delete_document_file(name))
    return {
        "deletion_request": deletion.pk,
        "connections_retained": len(connections),
        "removed": removed,
        "messages_kept_anonymised": Message.objects.filter(author=user).count(),
        "held": queries.is_user_held(user.pk),
    }


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
    details = _complete_account_deletion(
        deletion, policy=retention_policy(), now=now or timezone.now()
    )
    record(
        AuditEvent.ACCOUNT_DELETION_COMPLETED,
        actor=actor,
        target_type=user_model_label(),
        target_id=deletion.user_id,
        details=details,
    )
    return deletion
