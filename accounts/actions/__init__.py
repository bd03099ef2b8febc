"""Every change of state of the accounts app: one function each (STYLE.md), one
module per concern: age verification, self-service, staff accounts, forgetting.

Each action is atomic at its outermost call and writes its audit entry in the
same transaction; files are deleted and mails sent only once it commits. Callers
import the package (`from accounts import actions`).
"""

from accounts.actions.age import (
    AgeVerificationResult,
    DocumentAlreadyDecided,
    do_decide_identity_document,
    do_issue_attestation_nonce,
    do_start_wallet_request,
    do_submit_identity_document,
    do_verify_age_by_attestation,
    do_verify_age_by_wallet,
    expire_pending_documents,
    refusal_message,
)
from accounts.actions.forget import (
    DELETED_USERNAME_PREFIX,
    do_forget_account,
    do_forget_attestation_challenges,
    do_forget_connection_records,
    do_forget_reserved_pseudonyms,
)
from accounts.actions.self_service import (
    AccountDeletionCompleter,
    do_request_account_deletion,
    do_set_direct_message_policy,
    register_account_deletion_completer,
)
from accounts.actions.staff_accounts import (
    StaffAccount,
    do_confirm_totp_device,
    do_create_staff_account,
    do_record_staff_sign_in,
    do_regenerate_backup_codes,
    do_start_totp_enrolment,
)

__all__ = [
    "DELETED_USERNAME_PREFIX",
    "AccountDeletionCompleter",
    "AgeVerificationResult",
    "DocumentAlreadyDecided",
    "StaffAccount",
    "do_confirm_totp_device",
    "do_create_staff_account",
    "do_decide_identity_document",
    "do_forget_account",
    "do_forget_attestation_challenges",
    "do_forget_connection_records",
    "do_forget_reserved_pseudonyms",
    "do_issue_attestation_nonce",
    "do_record_staff_sign_in",
    "do_regenerate_backup_codes",
    "do_request_account_deletion",
    "do_set_direct_message_policy",
    "do_start_totp_enrolment",
    "do_start_wallet_request",
    "do_submit_identity_document",
    "do_verify_age_by_attestation",
    "do_verify_age_by_wallet",
    "expire_pending_documents",
    "refusal_message",
    "register_account_deletion_completer",
]
