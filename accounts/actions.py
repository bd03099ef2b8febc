"""Every change of state of the accounts app: one function each (STYLE.md).

Each action is atomic at its outermost call and writes its audit entry in the
same transaction; files are deleted and mails sent only once it commits.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import attestation, documents, staff
from accounts.models import (
    AccountDeletionRequest,
    AgeVerificationAttempt,
    AgeVerificationMethod,
    AgeVerificationOutcome,
    AttestationNonce,
    ConnectionRecord,
    DirectMessagePolicy,
    DocumentStatus,
    IdentityDocument,
    PseudonymHistory,
    ReservedPseudonym,
    User,
    WalletRequest,
)
from accounts.models import AgeVerificationRefusal as Refusal
from accounts.pseudonyms import pseudonym_key
from accounts.wallet import protocol as wallet_protocol
from accounts.wallet import trust as wallet_trust
from accounts.wallet import verifier as wallet_verifier
from audit.events import AuditEvent
from audit.trail import record

# --- Age verification by signed attestation ----------------------------------------


@transaction.atomic(durable=True)
def do_issue_attestation_nonce(user: User, *, actor: User) -> AttestationNonce:
    """A fresh single-use challenge; the view also keeps it in the session."""
    return AttestationNonce.objects.create(user=user, nonce=secrets.token_urlsafe(32))


@dataclass(frozen=True)
class AgeVerificationResult:
    accepted: bool
    reason: Refusal | None = None
    issuer: str = ""
    method: AgeVerificationMethod = AgeVerificationMethod.ATTESTATION

    @property
    def message(self):
        if self.accepted:
            return _("Votre âge est vérifié : bienvenue dans les salons !")
        return refusal_message(self.method, self.reason)


def refusal_message(method: AgeVerificationMethod, reason: Refusal):
    """The member's message for a refusal, in the words of the flow that gave it."""
    if method == AgeVerificationMethod.WALLET:
        return wallet_verifier.REFUSAL_MESSAGES[reason]
    return attestation.REFUSAL_MESSAGES[reason]


def _record_refusal(user, method, reason, issuer="") -> AgeVerificationResult:
    AgeVerificationAttempt.objects.create(
        user=user,
        method=method,
        outcome=AgeVerificationOutcome.REFUSED,
        reason=reason,
        issuer=issuer,
    )
    return AgeVerificationResult(accepted=False, reason=reason, issuer=issuer, method=method)


def _mark_age_verified(user: User, method: AgeVerificationMethod, issuer: str) -> None:
    now = timezone.now()
    user.age_verified_at = now
    user.age_verification_method = method
    # What the law needs from now on is "18 or over, how, when": the date of
    # birth declared at sign-up is not kept past the verification.
    user.date_of_birth = None
    user.save(update_fields=["age_verified_at", "age_verification_method", "date_of_birth"])
    AgeVerificationAttempt.objects.create(
        user=user, method=method, outcome=AgeVerificationOutcome.ACCEPTED, issuer=issuer
    )


@transaction.atomic(durable=True)
def do_verify_age_by_attestation(
    user: User, token: str, *, session_nonce: str | None, actor: User
) -> AgeVerificationResult:
    """Checks an attestation and its nonce; records the attempt either way.

    A refusal is a result, not an exception, so that its attempt row commits.
    """
    method = AgeVerificationMethod.ATTESTATION
    try:
        claims = attestation.verify_attestation_token(token)
    except attestation.AttestationRefused as refused:
        return _record_refusal(user, method, refused.reason, refused.issuer)

    challenge = AttestationNonce.objects.select_for_update().filter(nonce=claims.nonce).first()
    if challenge is None:
        return _record_refusal(user, method, Refusal.UNKNOWN_NONCE, claims.issuer)
    if challenge.used_at is not None:
        return _record_refusal(user, method, Refusal.REPLAYED_NONCE, claims.issuer)
    if challenge.user_id != user.pk or session_nonce != claims.nonce:
        # Someone else's challenge (another account, or a token carried over
        # from another browser): it stays unused for its owner.
        return _record_refusal(user, method, Refusal.FOREIGN_NONCE, claims.issuer)
    challenge.used_at = timezone.now()
    challenge.save(update_fields=["used_at"])
    if challenge.issued_at < challenge.used_at - attestation.NONCE_LIFETIME:
        return _record_refusal(user, method, Refusal.NONCE_EXPIRED, claims.issuer)
    if not claims.age_over_18:
        return _record_refusal(user, method, Refusal.NOT_ADULT, claims.issuer)

    _mark_age_verified(user, method, claims.issuer)
    record(
        AuditEvent.AGE_VERIFIED_BY_ATTESTATION,
        actor=actor,
        target_type="accounts.user",
        target_id=user.pk,
        details={"issuer": claims.issuer},
    )
    return AgeVerificationResult(accepted=True, issuer=claims.issuer)


# --- Age verification by the wallet's proof of age ---------------------------------


@transaction.atomic(durable=True)
def do_start_wallet_request(user: User, *, actor: User) -> WalletRequest:
    """A fresh OpenID4VP request (state and nonce); the user's earlier requests
    go, so at most one is open per account."""
    WalletRequest.objects.filter(user=user).delete()
    return WalletRequest.objects.create(
        user=user, state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32)
    )


def _refuse_wallet_answer(request: WalletRequest, reason: Refusal, anchor: str = ""):
    request.answered_at = request.answered_at or timezone.now()
    request.outcome = AgeVerificationOutcome.REFUSED
    request.reason = reason
    request.save(update_fields=["answered_at", "outcome", "reason"])
    return _record_refusal(request.user, AgeVerificationMethod.WALLET, reason, anchor)


@transaction.atomic(durable=True)
def do_verify_age_by_wallet(
    state: str, vp_token: str, *, dc_api_user: User | None = None, now=None
) -> AgeVerificationResult:
    """Checks a wallet's answer to the request named by `state`; records the
    attempt either way (a refusal is a result, so that its row commits).

    Through OpenID4VP's direct_post the wallet has no session: `state` alone
    finds the request and its account, and the device signature over our
    nonce proves that the answer was made for it. Through the Digital
    Credentials API the answer comes from the signed-in user's browser
    (`dc_api_user`), and the transcript names our origin instead.
    """
    now = now or timezone.now()
    request = (
        WalletRequest.objects.select_for_update().select_related("user").filter(state=state).first()
        if state
        else None
    )
    if request is None:
        return AgeVerificationResult(
            accepted=False, reason=Refusal.UNKNOWN_NONCE, method=AgeVerificationMethod.WALLET
        )
    if dc_api_user is not None and request.user_id != dc_api_user.pk:
        # Someone else's request: it stays open for its owner.
        return _record_refusal(dc_api_user, AgeVerificationMethod.WALLET, Refusal.FOREIGN_NONCE)
    if request.answered_at is not None:
        return _record_refusal(request.user, AgeVerificationMethod.WALLET, Refusal.REPLAYED_NONCE)
    if request.issued_at < now - attestation.NONCE_LIFETIME:
        return _refuse_wallet_answer(request, Refusal.NONCE_EXPIRED)
    if dc_api_user is not None:
        transcript = wallet_protocol.dc_api_session_transcript(
            origin=wallet_protocol.site_origin(), nonce=request.nonce
        )
    else:
        transcript = wallet_protocol.session_transcript(
            client_id=wallet_protocol.client_id(),
            nonce=request.nonce,
            response_uri=wallet_protocol.response_uri(),
        )
    try:
        proof = wallet_verifier.verify_device_response(
            wallet_verifier.device_response_from_vp_token(vp_token),
            session_transcript=transcript,
            roots=wallet_trust.trusted_roots(),
            now=now,
        )
    except wallet_verifier.WalletRefused as refused:
        return _refuse_wallet_answer(request, refused.reason, refused.anchor)
    request.answered_at = now
    request.outcome = AgeVerificationOutcome.ACCEPTED
    request.save(update_fields=["answered_at", "outcome"])
    user = request.user
    _mark_age_verified(user, AgeVerificationMethod.WALLET, proof.anchor)
    record(
        AuditEvent.AGE_VERIFIED_BY_WALLET,
        actor=user,
        target_type="accounts.user",
        target_id=user.pk,
        details={"trust_anchor": proof.anchor},
    )
    return AgeVerificationResult(
        accepted=True, issuer=proof.anchor, method=AgeVerificationMethod.WALLET
    )


# --- Age verification by document review -------------------------------------------


@transaction.atomic(durable=True)
def do_submit_identity_document(user: User, upload, *, actor: User) -> IdentityDocument:
    """Stores the file (type checked by content) and queues it for review.

    Raises documents.DocumentRejected with a message for the member.
    """
    # Lock the account row so that two uploads at once cannot both pass.
    User.objects.select_for_update().get(pk=user.pk)
    if IdentityDocument.objects.filter(user=user, status=DocumentStatus.PENDING).exists():
        raise documents.DocumentRejected(
            _("Un document est déjà en attente d'examen : attendez la décision.")
        )
    stored_name, content_type, size = documents.store_document(upload)
    try:
        document = IdentityDocument.objects.create(
            user=user, stored_name=stored_name, content_type=content_type, size=size
        )
        AgeVerificationAttempt.objects.create(
            user=user,
            method=AgeVerificationMethod.DOCUMENT,
            outcome=AgeVerificationOutcome.SUBMITTED,
        )
    except BaseException:
        documents.delete_document_file(stored_name)
        raise
    return document


class DocumentAlreadyDecided(Exception):
    pass


@transaction.atomic(durable=True)
def do_decide_identity_document(
    document: IdentityDocument, *, approve: bool, reason: str = "", actor: User
) -> IdentityDocument:
    """Approves or rejects; the file is deleted once the decision is committed."""
    document = IdentityDocument.objects.select_for_update().get(pk=document.pk)
    if document.status != DocumentStatus.PENDING:
        raise DocumentAlreadyDecided(document.pk)
    reason = reason.strip()
    if not approve and not reason:
        raise ValueError("a rejection needs a reason")
    stored_name = document.stored_name
    document.status = DocumentStatus.APPROVED if approve else DocumentStatus.REJECTED
    document.decided_at = timezone.now()
    document.decided_by = actor
    document.rejection_reason = "" if approve else reason
    document.stored_name = ""
    document.save()
    user = document.user
    if approve:
        _mark_age_verified(user, AgeVerificationMethod.DOCUMENT, "")
    else:
        AgeVerificationAttempt.objects.create(
            user=user,
            method=AgeVerificationMethod.DOCUMENT,
            outcome=AgeVerificationOutcome.REFUSED,
            reason=Refusal.DOCUMENT_REJECTED,
        )
    record(
        AuditEvent.AGE_DOCUMENT_APPROVED if approve else AuditEvent.AGE_DOCUMENT_REJECTED,
        actor=actor,
        target_type="accounts.identitydocument",
        target_id=document.pk,
        reason=document.rejection_reason,
        details={"user_id": user.pk},
    )
    if stored_name:
        transaction.on_commit(lambda: documents.delete_document_file(stored_name))
    return document


def expire_pending_documents(document_ids, *, actor, now=None) -> int:
    """Pending documents past their review period (called by compliance's
    retention purge, inside its transaction): the file goes once committed,
    the row says "expired", the member is told on the age page."""
    now = now or timezone.now()
    expired = 0
    for document in IdentityDocument.objects.select_for_update().filter(
        pk__in=document_ids, status=DocumentStatus.PENDING
    ):
        stored_name = document.stored_name
        document.status = DocumentStatus.EXPIRED
        document.decided_at = now
        document.stored_name = ""
        document.save(update_fields=["status", "decided_at", "stored_name"])
        AgeVerificationAttempt.objects.create(
            user_id=document.user_id,
            method=AgeVerificationMethod.DOCUMENT,
            outcome=AgeVerificationOutcome.REFUSED,
            reason=Refusal.DOCUMENT_EXPIRED,
        )
        record(
            AuditEvent.AGE_DOCUMENT_EXPIRED,
            actor=actor,
            target_type="accounts.identitydocument",
            target_id=document.pk,
            details={"user_id": document.user_id},
        )
        if stored_name:
            transaction.on_commit(lambda name=stored_name: documents.delete_document_file(name))
        expired += 1
    return expired


# --- Self-service ---------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_set_direct_message_policy(user: User, policy: DirectMessagePolicy, *, actor: User) -> User:
    user.direct_messages_from = DirectMessagePolicy(policy)
    user.save(update_fields=["direct_messages_from"])
    return user


# Completing a deletion (anonymising the public content, moving what the law
# keeps into a restricted store) belongs to the compliance app, which sits above
# accounts in the layers: it registers its completer here at start-up, as
# moderation registers its checks with rooms.
AccountDeletionCompleter = Callable[[AccountDeletionRequest], None]
_deletion_completers: list[AccountDeletionCompleter] = []


def register_account_deletion_completer(completer: AccountDeletionCompleter) -> None:
    if completer not in _deletion_completers:
        _deletion_completers.append(completer)


@transaction.atomic(durable=True)
def do_request_account_deletion(user: User, *, actor: User) -> AccountDeletionRequest:
    """Closes the account and, in the same transaction, has the registered
    completer remove the profile and anonymise the public content at once."""
    request = AccountDeletionRequest.objects.create(user=user)
    WalletRequest.objects.filter(user=user).delete()
    # The pseudonym stays reserved once the account (and its name) is gone.
    # For at least the retention period of account data (the purge's
    # "reserved_pseudonyms" step), longer while the account is held.
    ReservedPseudonym.objects.create(
        pseudonym_key=pseudonym_key(user.username), reserved_at=request.requested_at, user=user
    )
    user.is_active = False
    user.save(update_fields=["is_active"])
    record(
        AuditEvent.ACCOUNT_DELETION_REQUESTED,
        actor=actor,
        target_type="accounts.user",
        target_id=user.pk,
    )
    for complete in _deletion_completers:
        complete(request)
    return request


# --- Staff and their second factor ------------------------------------------------------


@dataclass
class StaffAccount:
    user: User
    totp_device: TOTPDevice
    backup_codes: list[str] = field(default_factory=list)


def _replace_backup_codes(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=staff.BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(staff.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic(durable=True)
def do_create_staff_account(
    username: str, *, email: str, role: staff.StaffRole, password: str, actor: User | None
) -> StaffAccount:
    role = staff.StaffRole(role)
    user = User.objects.create_user(
        username=username,
        email=email,
        password=password,
        is_staff=True,
        is_superuser=role is staff.StaffRole.ADMIN,
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    user.groups.add(Group.objects.get(name=staff.ROLE_GROUPS[role]))
    device = TOTPDevice.objects.create(user=user, name=staff.TOTP_DEVICE_NAME, confirmed=True)
    codes = _replace_backup_codes(user)
    record(
        AuditEvent.STAFF_ACCOUNT_CREATED,
        actor=actor,
        target_type="accounts.user",
        target_id=user.pk,
        details={"role": str(role)},
    )
    return StaffAccount(user=user, totp_device=device, backup_codes=codes)


@transaction.atomic(durable=True)
def do_start_totp_enrolment(user: User, *, actor: User) -> TOTPDevice:
    """The unconfirmed device whose QR code the enrolment page shows (one at a time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=staff.TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic(durable=True)
def do_confirm_totp_device(device: TOTPDevice, token: str, *, actor: User) -> list[str] | None:
    """Confirms the device if `token` is right; returns the new backup codes, or
    None when the token is wrong."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _replace_backup_codes(device.user)
    record(
        AuditEvent.OTP_DEVICE_CONFIRMED,
        actor=actor,
        target_type="accounts.user",
        target_id=device.user_id,
    )
    return codes


@transaction.atomic(durable=True)
def do_regenerate_backup_codes(user: User, *, actor: User) -> list[str]:
    codes = _replace_backup_codes(user)
    record(
        AuditEvent.OTP_BACKUP_CODES_REGENERATED,
        actor=actor,
        target_type="accounts.user",
        target_id=user.pk,
    )
    return codes


@transaction.atomic(durable=True)
def do_record_staff_sign_in(
    event: AuditEvent,
    *,
    actor: User | None,
    target: User | None,
    ip_address: str | None,
    via: str = "admin",
) -> None:
    """Audits a staff sign-in, a failed password or a failed second factor.

    `via`: "admin" for the admin's login (with its second factor), "site" for
    the site's own login page. A failed attempt has no actor; its target is the
    account it named, if any (what was typed is not kept: it may be someone's
    password).
    """
    record(
        event,
        actor=actor,
        target_type="accounts.user" if target else "",
        target_id=target.pk if target else "",
        details={"via": via},
        ip_address=ip_address,
    )


# --- Forgetting a person, and expired records (called by compliance) -------------------

DELETED_USERNAME_PREFIX = "supprime-"


@transaction.atomic
def do_forget_account(
    deletion: AccountDeletionRequest, *, actor, now: datetime | None = None
) -> dict[str, int]:
    """Completes a deletion request: strips the closed account to an anonymous row, once
    compliance has copied what the law keeps into its restricted store.

    The row stays (messages, reports and sanctions point to it) under a
    `supprime-<random>` pseudonym, with no e-mail, names, birth date, password,
    staff rights or second factor; its connection records, addresses,
    age-verification attempts and challenges, identity documents and
    pseudonym history go (a pending document's file once the transaction
    commits). The rename is the history's last entry: the anonymous name's
    period opens at the closure. Atomic but not durable: compliance calls it
    inside its deletion's transaction.
    """
    deletion = AccountDeletionRequest.objects.select_for_update().get(pk=deletion.pk)
    user = User.objects.select_for_update().get(pk=deletion.user_id)
    documents_of_user = IdentityDocument.objects.filter(user=user)
    pending_files = [
        name for name in documents_of_user.values_list("stored_name", flat=True) if name
    ]
    forgotten = {
        "connection_records": ConnectionRecord.objects.filter(user=user).delete()[0],
        "email_addresses": EmailAddress.objects.filter(user=user).delete()[0],
        "identity_documents": documents_of_user.delete()[0],
        "age_verification_attempts": user.age_verification_attempts.all().delete()[0],
        "attestation_nonces": AttestationNonce.objects.filter(user=user).delete()[0],
        "wallet_requests": WalletRequest.objects.filter(user=user).delete()[0],
        "pseudonyms": PseudonymHistory.objects.filter(user=user).delete()[0],
        "otp_devices": TOTPDevice.objects.filter(user=user).delete()[0]
        + StaticDevice.objects.filter(user=user).delete()[0],
        "groups": user.groups.count(),
        "permissions": user.user_permissions.count(),
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
    PseudonymHistory.objects.record(user, at=deletion.requested_at)
    user.groups.clear()
    user.user_permissions.clear()
    deletion.completed_at = now or timezone.now()
    deletion.save(update_fields=["completed_at"])
    record(
        AuditEvent.ACCOUNT_FORGOTTEN,
        actor=actor,
        target_type="accounts.user",
        target_id=user.pk,
        details={"deletion_request": deletion.pk, **forgotten},
    )
    for stored_name in pending_files:
        transaction.on_commit(partial(documents.delete_document_file, stored_name))
    return forgotten


@transaction.atomic
def do_forget_connection_records(record_ids, *, actor, reason: str) -> int:
    """Deletes connection records whose retention period is over; returns how many went."""
    ids = sorted(
        ConnectionRecord.objects.filter(pk__in=list(record_ids)).values_list("pk", flat=True)
    )
    deleted = ConnectionRecord.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        record(
            AuditEvent.CONNECTION_RECORDS_FORGOTTEN,
            actor=actor,
            target_type="accounts.connectionrecord",
            reason=reason,
            details={"records": deleted, "first_id": ids[0], "last_id": ids[-1]},
        )
    return deleted


@transaction.atomic
def do_forget_attestation_challenges(challenge_ids, *, actor, reason: str) -> int:
    """Deletes age-attestation challenges whose retention period is over; returns how many."""
    ids = sorted(
        AttestationNonce.objects.filter(pk__in=list(challenge_ids)).values_list("pk", flat=True)
    )
    deleted = AttestationNonce.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        record(
            AuditEvent.ATTESTATION_CHALLENGES_FORGOTTEN,
            actor=actor,
            target_type="accounts.attestationnonce",
            reason=reason,
            details={"challenges": deleted, "first_id": ids[0], "last_id": ids[-1]},
        )
    return deleted


@transaction.atomic
def do_forget_reserved_pseudonyms(reservation_ids, *, actor, reason: str) -> int:
    """Frees closed accounts' pseudonyms whose reservation period is over; returns how many."""
    ids = sorted(
        ReservedPseudonym.objects.filter(pk__in=list(reservation_ids)).values_list("pk", flat=True)
    )
    deleted = ReservedPseudonym.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        record(
            AuditEvent.RESERVED_PSEUDONYMS_FORGOTTEN,
            actor=actor,
            target_type="accounts.reservedpseudonym",
            reason=reason,
            details={"reservations": deleted, "first_id": ids[0], "last_id": ids[-1]},
        )
    return deleted
