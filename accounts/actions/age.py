"""Age verification: by a signed attestation, by the wallet's proof of age, by a
document review; each records its attempt and its audit entry."""

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import attestation, documents
from accounts.models import (
    AgeVerificationAttempt,
    AgeVerificationMethod,
    AgeVerificationOutcome,
    AttestationNonce,
    DocumentStatus,
    IdentityDocument,
    User,
    WalletRequest,
)
from accounts.models import AgeVerificationRefusal as Refusal
from accounts.wallet import protocol as wallet_protocol
from accounts.wallet import trust as wallet_trust
from accounts.wallet import verifier as wallet_verifier
from audit.events import AuditEvent
from audit.trail import record


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
