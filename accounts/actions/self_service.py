"""What members change themselves: who may write to them, closing their account."""

from collections.abc import Callable

from django.db import transaction

from accounts.models import (
    AccountDeletionRequest,
    DirectMessagePolicy,
    ReservedPseudonym,
    User,
    WalletRequest,
)
from accounts.pseudonyms import pseudonym_key
from audit.events import AuditEvent
from audit.trail import record


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
