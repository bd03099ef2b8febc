"""Every change of state of the compliance app: one function each (STYLE.md).

Each action is atomic at its outermost call and writes its audit entry last,
in the same transaction. Files (export packages) are written beside their
final name and moved into place only once the transaction commits.
"""

import csv
import hashlib
import io
import json
import os
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
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
from audit.actions import erase_personal_data
from audit.events import AuditEvent
from audit.trail import record, user_model_label
from compliance import queries
from compliance.models import (
    REASON_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    DataCategory,
    LegalBasis,
    LegalExportApproval,
    LegalHold,
    LegalRequest,
    LegalRequestStatus,
    RestrictedCategory,
    RestrictedRecord,
)
from compliance.retention import RetentionPolicy, retention_policy
from core.refusals import RefusalCode, Refused
from rooms.models import Block, Message, Room, RoomInvitation, RoomMembership, RoomPresence

REQUEST_TARGET = "compliance.legalrequest"
HOLD_TARGET = "compliance.legalhold"
APPROVE_PERMISSION = "compliance.approve_legalrequest"
EXPORT_PERMISSION = "compliance.export_legalrequest"
CHANGE_PERMISSION = "compliance.change_legalrequest"
MANIFEST_NAME = "manifest.json"
PACKAGE_FORMAT = "chatsite-legal-export/1"
PURGE_BATCH = 500
DELETED_USERNAME_PREFIX = "supprime-"

S = LegalRequestStatus


def _check_permission(actor, permission: str) -> None:
    # None is the platform itself: an operator at the server's command line.
    if actor is not None and not actor.has_perm(permission):
        raise Refused(
            RefusalCode.FORBIDDEN, _("Action réservée aux agents de conformité habilités.")
        )


def _required_text(value, field_label: str, max_length: int = REASON_MAX_LENGTH) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if not text:
        raise Refused(
            RefusalCode.INVALID, _("Le champ « %(field)s » est requis.") % {"field": field_label}
        )
    if len(text) > max_length:
        raise Refused(
            RefusalCode.INVALID,
            _("Le champ « %(field)s » dépasse %(max)d caractères.")
            % {"field": field_label, "max": max_length},
        )
    return text


def _locked(request: LegalRequest) -> LegalRequest:
    return LegalRequest.objects.select_for_update().get(pk=request.pk)


def _require_status(request: LegalRequest, allowed: Iterable[str]) -> None:
    if request.status not in allowed:
        raise Refused(
            RefusalCode.INVALID_STATUS,
            _("Impossible dans l'état actuel de la réquisition (%(status)s).")
            % {"status": request.get_status_display()},
        )


def _audit_request(event: AuditEvent, request: LegalRequest, *, actor, reason="", details=None):
    record(
        event,
        actor=actor,
        target_type=REQUEST_TARGET,
        target_id=request.pk,
        reason=reason,
        details={"status": request.status, **(details or {})},
    )


# --- legal holds ------------------------------------------------------------------------------


def _place_hold(request: LegalRequest, *, user=None, room=None, actor) -> LegalHold:
    if (user is None) == (room is None):
        raise Refused(RefusalCode.INVALID, _("Une conservation vise un compte ou un salon."))
    existing = LegalHold.objects.filter(
        request=request, user=user, room=room, released_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    return LegalHold.objects.create(request=request, user=user, room=room, placed_by=actor)


@transaction.atomic(durable=True)
def do_place_hold(request: LegalRequest, *, user=None, room=None, actor) -> LegalHold:
    """Suspends the retention purge of one account or room for this requisition."""
    _check_permission(actor, CHANGE_PERMISSION)
    request = _locked(request)
    if request.is_closed:
        raise Refused(RefusalCode.INVALID_STATUS, _("Cette réquisition est close."))
    hold = _place_hold(request, user=user, room=room, actor=actor)
    record(
        AuditEvent.LEGAL_HOLD_PLACED,
        actor=actor,
        target_type=HOLD_TARGET,
        target_id=hold.pk,
        details={"request": request.pk, "user": hold.user_id, "room": hold.room_id},
    )
    return hold


@transaction.atomic(durable=True)
def do_release_hold(hold: LegalHold, *, actor, reason) -> LegalHold:
    """Ends a hold: the data it protected follows the retention policy again."""
    _check_permission(actor, CHANGE_PERMISSION)
    reason = _required_text(reason, _("motif"))
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise Refused(RefusalCode.INVALID_STATUS, _("Cette conservation est déjà levée."))
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.release_reason = reason
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    record(
        AuditEvent.LEGAL_HOLD_RELEASED,
        actor=actor,
        target_type=HOLD_TARGET,
        target_id=hold.pk,
        reason=reason,
        details={"request": hold.request_id, "user": hold.user_id, "room": hold.room_id},
    )
    return hold


# --- requisitions -----------------------------------------------------------------------------


def _clean_categories(categories) -> list[str]:
    values = list(dict.fromkeys(categories or ()))
    unknown = [value for value in values if value not in DataCategory.values]
    if unknown:
        raise Refused(
            RefusalCode.INVALID,
            _("Catégorie de données inconnue : %(values)s") % {"values": unknown},
        )
    if not values:
        raise Refused(RefusalCode.INVALID, _("Indiquez au moins une catégorie de données."))
    return sorted(values)


@transaction.atomic(durable=True)
def do_open_legal_request(
    *,
    reference: str,
    authority: str,
    legal_basis: str,
    received_at: datetime,
    deadline: datetime,
    period_start: datetime,
    period_end: datetime,
    data_categories: Iterable[str],
    assigned_officer: User,
    accounts: Iterable[User] = (),
    rooms: Iterable[Room] = (),
    legal_basis_detail: str = "",
    place_holds: bool = True,
    actor,
) -> LegalRequest:
    """Records a requisition as received; with `place_holds`, holds its accounts and rooms."""
    _check_permission(actor, "compliance.add_legalrequest")
    reference = _required_text(reference, _("référence"), REFERENCE_MAX_LENGTH)
    authority = _required_text(authority, _("autorité requérante"), 200)
    if legal_basis not in LegalBasis.values:
        raise Refused(RefusalCode.INVALID, _("Fondement juridique inconnu."))
    legal_basis_detail = (legal_basis_detail or "").strip()
    if legal_basis == LegalBasis.OTHER and not legal_basis_detail:
        raise Refused(RefusalCode.INVALID, _("Précisez le fondement juridique."))
    if period_start > period_end:
        raise Refused(RefusalCode.INVALID, _("La période commence après sa fin."))
    if deadline < received_at:
        raise Refused(RefusalCode.INVALID, _("L'échéance précède la réception."))
    if not assigned_officer.has_perm(CHANGE_PERMISSION):
        raise Refused(RefusalCode.INVALID, _("L'agent chargé doit être un agent de conformité."))
    accounts, rooms = list(accounts), list(rooms)
    if not accounts and not rooms:
        raise Refused(RefusalCode.INVALID, _("Indiquez au moins un compte ou un salon visé."))
    if LegalRequest.objects.filter(reference=reference).exists():
        raise Refused(RefusalCode.DUPLICATE, _("Une réquisition porte déjà cette référence."))
    request = LegalRequest.objects.create(
        reference=reference,
        authority=authority,
        legal_basis=legal_basis,
        legal_basis_detail=legal_basis_detail,
        received_at=received_at,
        deadline=deadline,
        period_start=period_start,
        period_end=period_end,
        data_categories=_clean_categories(data_categories),
        assigned_officer=assigned_officer,
    )
    request.accounts.set(accounts)
    request.rooms.set(rooms)
    holds = []
    if place_holds:
        holds = [_place_hold(request, user=user, actor=actor) for user in accounts]
        holds += [_place_hold(request, room=room, actor=actor) for room in rooms]
    _audit_request(
        AuditEvent.LEGAL_REQUEST_OPENED,
        request,
        actor=actor,
        details={
            "legal_basis": legal_basis,
            "accounts": sorted(user.pk for user in accounts),
            "rooms": sorted(room.pk for room in rooms),
            "categories": request.data_categories,
            "period": [request.period_start.isoformat(), request.period_end.isoformat()],
            "deadline": request.deadline.isoformat(),
            "assigned_officer": assigned_officer.pk,
            "holds": [hold.pk for hold in holds],
        },
    )
    return request


@transaction.atomic(durable=True)
def do_verify_legal_request(request: LegalRequest, *, actor) -> LegalRequest:
    """The officer checked the requisition's authenticity and the authority's competence."""
    _check_permission(actor, CHANGE_PERMISSION)
    request = _locked(request)
    _require_status(request, (S.RECEIVED, S.ON_HOLD))
    old = request.status
    request.status = S.VERIFIED
    request.status_reason = ""
    request.save(update_fields=["status", "status_reason"])
    _audit_request(AuditEvent.LEGAL_REQUEST_VERIFIED, request, actor=actor, details={"old": old})
    return request


@transaction.atomic(durable=True)
def do_put_legal_request_on_hold(request: LegalRequest, *, actor, reason) -> LegalRequest:
    """Waiting on the authority (a clarification, a missing signature...)."""
    _check_permission(actor, CHANGE_PERMISSION)
    reason = _required_text(reason, _("motif"))
    request = _locked(request)
    _require_status(request, (S.RECEIVED, S.VERIFIED))
    old = request.status
    request.status = S.ON_HOLD
    request.status_reason = reason
    request.save(update_fields=["status", "status_reason"])
    _audit_request(
        AuditEvent.LEGAL_REQUEST_PUT_ON_HOLD,
        request,
        actor=actor,
        reason=reason,
        details={"old": old},
    )
    return request


@transaction.atomic(durable=True)
def do_approve_legal_export(request: LegalRequest, *, actor: User) -> LegalExportApproval:
    """A second officer agrees that the package may be produced (four-eyes rule)."""
    if actor is None:
        raise Refused(RefusalCode.FORBIDDEN, _("Une approbation est le fait d'un agent nommé."))
    _check_permission(actor, APPROVE_PERMISSION)
    request = _locked(request)
    _require_status(request, (S.VERIFIED, S.EXPORTED))
    if actor.pk == request.assigned_officer_id:
        raise Refused(
            RefusalCode.SAME_OFFICER,
            _("L'approbation doit venir d'un autre agent que l'agent chargé de la réquisition."),
        )
    approval, created = LegalExportApproval.objects.get_or_create(request=request, officer=actor)
    if not created:
        raise Refused(RefusalCode.DUPLICATE, _("Vous avez déjà approuvé cet export."))
    _audit_request(
        AuditEvent.LEGAL_EXPORT_APPROVED, request, actor=actor, details={"approval": approval.pk}
    )
    return approval


@dataclass(frozen=True)
class ExportedPackage:
    path: Path
    sha256: str
    files: dict[str, str]  # name -> SHA-256


def _csv_bytes(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    columns = ["account_id", "username", "kind", "ip_address", "port", "time", "source"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _json_bytes(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


CATEGORY_FILES = {
    DataCategory.IDENTITY: "identity.json",
    DataCategory.CONNECTIONS: "connections.csv",
    DataCategory.MESSAGES: "messages.json",
    DataCategory.MODERATION: "moderation.json",
}


def _package_files(request: LegalRequest, *, actor, now: datetime) -> dict[str, bytes]:
    files = {
        "request.json": _json_bytes(
            {
                "reference": request.reference,
                "authority": request.authority,
                "legal_basis": request.legal_basis,
                "legal_basis_label": str(LegalBasis(request.legal_basis).label),
                "legal_basis_detail": request.legal_basis_detail,
                "received_at": request.received_at.isoformat(),
                "deadline": request.deadline.isoformat(),
                "period_start": request.period_start.isoformat(),
                "period_end": request.period_end.isoformat(),
                "accounts": list(request.accounts.order_by("id").values_list("id", flat=True)),
                "rooms": list(request.rooms.order_by("id").values_list("slug", flat=True)),
                "data_categories": request.data_categories,
            }
        )
    }
    for category in request.data_categories:
        rows = queries.CATEGORY_ROWS[category](request)
        name = CATEGORY_FILES[category]
        files[name] = _csv_bytes(rows) if name.endswith(".csv") else _json_bytes(rows)
    manifest = {
        "format": PACKAGE_FORMAT,
        "reference": request.reference,
        "generated_at": now.isoformat(),
        "generated_by": actor.pk if actor is not None else None,
        "approved_by": sorted(request.approvals.values_list("officer_id", flat=True)),
        "files": [
            {"name": name, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            for name, content in sorted(files.items())
        ],
    }
    files[MANIFEST_NAME] = _json_bytes(manifest)
    return files


def _write_zip(files: dict[str, bytes], directory: Path) -> tuple[Path, str]:
    """Writes the zip to a temporary file in `directory`; returns it and its SHA-256."""
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".export-", suffix=".zip.part")
    os.close(handle)
    temporary = Path(temporary)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as package:
            for name, content in files.items():
                package.writestr(name, content)
        os.chmod(temporary, 0o600)
        digest = hashlib.sha256(temporary.read_bytes()).hexdigest()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary, digest


@transaction.atomic(durable=True)
def do_export_legal_request(request: LegalRequest, *, actor, out_dir) -> ExportedPackage:
    """Produces the requisition's zip in `out_dir`, after a second officer's approval.

    The package's SHA-256 goes into the audit trail: what was handed over can be
    proven later, byte for byte.
    """
    _check_permission(actor, EXPORT_PERMISSION)
    request = _locked(request)
    _require_status(request, (S.VERIFIED, S.EXPORTED))
    approvals = request.approvals.exclude(officer_id=request.assigned_officer_id)
    if actor is not None:
        approvals = approvals.exclude(officer_id=actor.pk)
    if not approvals.exists():
        raise Refused(
            RefusalCode.APPROVAL_REQUIRED,
            _(
                "L'export doit d'abord être approuvé par un second agent de conformité "
                "(ni l'agent chargé, ni celui qui exporte)."
            ),
        )
    directory = Path(out_dir)
    if not directory.is_dir():
        raise Refused(
            RefusalCode.INVALID, _("Le dossier %(dir)s n'existe pas.") % {"dir": directory}
        )
    now = timezone.now()
    files = _package_files(request, actor=actor, now=now)
    name = f"requisition-{slugify(request.reference) or request.pk}-{now:%Y%m%dT%H%M%SZ}.zip"
    final_path = directory / name
    temporary, digest = _write_zip(files, directory)
    try:
        request.status = S.EXPORTED
        request.exported_at = now
        request.package_name = name
        request.package_sha256 = digest
        request.save(update_fields=["status", "exported_at", "package_name", "package_sha256"])
        _audit_request(
            AuditEvent.LEGAL_REQUEST_EXPORTED,
            request,
            actor=actor,
            details={
                "package": name,
                "sha256": digest,
                "files": {
                    entry["name"]: entry["sha256"]
                    for entry in json.loads(files[MANIFEST_NAME])["files"]
                },
                "approved_by": sorted(approvals.values_list("officer_id", flat=True)),
            },
        )
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    # Only a committed export has its package under its final name.
    transaction.on_commit(lambda: os.replace(temporary, final_path))
    return ExportedPackage(
        path=final_path,
        sha256=digest,
        files={
            name: hashlib.sha256(content).hexdigest()
            for name, content in files.items()
            if name != MANIFEST_NAME
        },
    )


@transaction.atomic(durable=True)
def do_answer_legal_request(request: LegalRequest, *, actor, note: str = "") -> LegalRequest:
    """The package was handed to the authority: the requisition is answered."""
    _check_permission(actor, CHANGE_PERMISSION)
    request = _locked(request)
    _require_status(request, (S.EXPORTED,))
    request.status = S.ANSWERED
    request.answered_at = timezone.now()
    request.status_reason = (note or "").strip()[:REASON_MAX_LENGTH]
    request.save(update_fields=["status", "answered_at", "status_reason"])
    _audit_request(
        AuditEvent.LEGAL_REQUEST_ANSWERED,
        request,
        actor=actor,
        reason=request.status_reason,
        details={"package_sha256": request.package_sha256},
    )
    return request


@transaction.atomic(durable=True)
def do_refuse_legal_request(request: LegalRequest, *, actor, reason) -> LegalRequest:
    """Refuses (not a valid requisition, not our data...), always with the reason."""
    _check_permission(actor, CHANGE_PERMISSION)
    reason = _required_text(reason, _("motif"))
    request = _locked(request)
    _require_status(request, (S.RECEIVED, S.VERIFIED, S.ON_HOLD))
    old = request.status
    request.status = S.REFUSED
    request.status_reason = reason
    request.answered_at = timezone.now()
    request.save(update_fields=["status", "status_reason", "answered_at"])
    _audit_request(
        AuditEvent.LEGAL_REQUEST_REFUSED, request, actor=actor, reason=reason, details={"old": old}
    )
    return request


# --- account deletion (GDPR Art. 17, within the retention duties) ---------------------------


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


# --- the retention purge ----------------------------------------------------------------------


PURGE_STEPS = (
    "account_deletions",
    "connection_records",
    "attestation_challenges",
    "deleted_message_texts",
    "content_operation_records",
    "restricted_records",
)


@dataclass
class PurgeSummary:
    dry_run: bool
    now: datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PURGE_STEPS, 0))
    held_accounts: int = 0
    held_rooms: int = 0
    audit_erasures: int = 0


Progress = Callable[[str, int, int], None]


def _purge_querysets(policy: RetentionPolicy, now: datetime, held_users, held_rooms) -> dict:
    deleted_messages = Message.objects.filter(deleted_at__isnull=False).exclude(
        Q(author_id__in=held_users) | Q(room_id__in=held_rooms)
    )
    row_expiry = now - max(policy.content_operations, policy.deleted_message_grace)
    return {
        # A hold suspends the purge of retained data, not the anonymisation:
        # everything is kept in the restricted store until the hold ends.
        "account_deletions": AccountDeletionRequest.objects.filter(completed_at__isnull=True),
        "connection_records": ConnectionRecord.objects.filter(
            created__lt=now - policy.content_operations
        ).exclude(user_id__in=held_users),
        # The single-use challenges of the age attestation flow (used within ten
        # minutes or never): kept as long as the connection records they go with.
        "attestation_challenges": AttestationNonce.objects.filter(
            issued_at__lt=now - policy.content_operations
        ).exclude(user_id__in=held_users),
        # The text goes after the grace period; the row (who posted and deleted
        # what, when) is the content operation record, kept its own period.
        "deleted_message_texts": deleted_messages.filter(
            deleted_at__lt=now - policy.deleted_message_grace
        ).exclude(body=""),
        "content_operation_records": deleted_messages.filter(deleted_at__lt=row_expiry),
        "restricted_records": RestrictedRecord.objects.filter(retain_until__lt=now).exclude(
            user_id__in=held_users
        ),
    }


def _batches(queryset):
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), PURGE_BATCH):
        yield ids[start : start + PURGE_BATCH]


@transaction.atomic(durable=True)
def do_purge_expired(
    *, actor, dry_run: bool = False, now: datetime | None = None, progress: Progress | None = None
) -> PurgeSummary:
    """Applies the retention policy; nothing under an active legal hold is purged.

    A dry run counts what would go and changes nothing. Either way the run is
    recorded in the audit trail with its counts.
    """
    _check_permission(actor, "compliance.delete_restrictedrecord")
    now = now or timezone.now()
    policy = retention_policy()
    held_users = queries.held_user_ids()
    held_rooms = queries.held_room_ids()
    summary = PurgeSummary(
        dry_run=dry_run, now=now, held_accounts=len(held_users), held_rooms=len(held_rooms)
    )
    report = progress or (lambda step, done, total: None)
    plan = _purge_querysets(policy, now, held_users, held_rooms)
    for step in PURGE_STEPS:
        queryset = plan[step]
        total = queryset.count()
        report(step, 0, total)
        if dry_run:
            summary.counts[step] = total
            if step == "restricted_records":
                summary.audit_erasures = queryset.filter(
                    category=RestrictedCategory.ACCOUNT
                ).count()
            report(step, total, total)
            continue
        done = 0
        for ids in _batches(queryset):
            done += _PURGE_APPLY[step](ids, policy=policy, now=now, actor=actor, summary=summary)
            report(step, done, total)
        summary.counts[step] = done
    record(
        AuditEvent.RETENTION_PURGE_RUN,
        actor=actor,
        details={
            "dry_run": dry_run,
            "now": now.isoformat(),
            "counts": summary.counts,
            "audit_erasures": summary.audit_erasures,
            "held_accounts": summary.held_accounts,
            "held_rooms": summary.held_rooms,
            "policy_days": policy.as_days(),
        },
    )
    return summary


def _apply_account_deletions(ids, *, policy, now, actor, summary) -> int:
    for deletion in AccountDeletionRequest.objects.filter(pk__in=ids).select_for_update():
        details = _complete_account_deletion(deletion, policy=policy, now=now)
        record(
            AuditEvent.ACCOUNT_DELETION_COMPLETED,
            actor=actor,
            target_type=user_model_label(),
            target_id=deletion.user_id,
            details=details,
        )
    return len(ids)


def _apply_connection_records(ids, **_kwargs) -> int:
    return ConnectionRecord.objects.filter(pk__in=ids).delete()[0]


def _apply_attestation_challenges(ids, **_kwargs) -> int:
    return AttestationNonce.objects.filter(pk__in=ids).delete()[0]


def _apply_deleted_message_texts(ids, **_kwargs) -> int:
    return Message.objects.filter(pk__in=ids).update(body="")


def _apply_content_operation_records(ids, **_kwargs) -> int:
    return Message.objects.filter(pk__in=ids).delete()[0]


def _apply_restricted_records(ids, *, actor, summary, **_kwargs) -> int:
    records = RestrictedRecord.objects.filter(pk__in=ids)
    expired_accounts = list(
        records.filter(category=RestrictedCategory.ACCOUNT).values_list("user_id", flat=True)
    )
    deleted = records.delete()[0]
    # The pseudonym's retention is over: the audit trail forgets it too (its
    # actor labels and IP addresses), the chain still verifying.
    for user_id in expired_accounts:
        erase_personal_data(user_id, actor=actor, reason="retention period ended")
        summary.audit_erasures += 1
    return deleted


_PURGE_APPLY = {
    "account_deletions": _apply_account_deletions,
    "connection_records": _apply_connection_records,
    "attestation_challenges": _apply_attestation_challenges,
    "deleted_message_texts": _apply_deleted_message_texts,
    "content_operation_records": _apply_content_operation_records,
    "restricted_records": _apply_restricted_records,
}


# --- GDPR access -------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_export_own_data(user: User, *, actor: User) -> dict:
    """The member's own data (GDPR Art. 15 and 20); the export is recorded."""
    data = queries.gdpr_export(user)
    record(
        AuditEvent.GDPR_DATA_EXPORTED,
        actor=actor,
        target_type=user_model_label(),
        target_id=user.pk,
        details={"messages": len(data["messages"]), "connections": len(data["connections"])},
    )
    return data
