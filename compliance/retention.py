"""The retention policy: how long each category of data is kept (docs/compliance.md).

Read from `settings.COMPLIANCE_RETENTION` (a dict of day counts) at each use,
never at import time; missing keys take the defaults below, which follow
décret n° 2021-1362 and GDPR minimisation.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from accounts import documents
from compliance.app_settings import app_settings

DEFAULT_RETENTION_DAYS = {
    # Who created, changed or deleted which message, from which IP and port, when:
    # one year from the operation (décret 2021-1362).
    "content_operations": 365,
    # Pseudonym, dates, age-verification outcome: one year after closure.
    "account_data": 365,
    # E-mail address, date of birth: five years after closure (civil identity).
    "identity_data": 5 * 365,
    # A deleted message's text: hidden at once, purged after this grace period
    # (long enough for a moderation appeal or a fresh requisition to catch it).
    "deleted_message_grace": 30,
    # An identity document sent for age review and still not reviewed: its
    # file is deleted (minimisation; the member may send another or use the
    # wallet). Legal holds suspend it like every other purge.
    documents.RETENTION_KEY: documents.PENDING_REVIEW_DAYS,
}


@dataclass(frozen=True)
class RetentionPolicy:
    content_operations: timedelta
    account_data: timedelta
    identity_data: timedelta
    deleted_message_grace: timedelta
    pending_identity_documents: timedelta

    def as_days(self) -> dict[str, int]:
        return {name: getattr(self, name).days for name in DEFAULT_RETENTION_DAYS}


def retention_policy() -> RetentionPolicy:
    configured = app_settings.COMPLIANCE_RETENTION
    unknown = set(configured) - set(DEFAULT_RETENTION_DAYS)
    if unknown:
        raise ImproperlyConfigured(
            f"COMPLIANCE_RETENTION: unknown keys {sorted(unknown)}; "
            f"known: {sorted(DEFAULT_RETENTION_DAYS)}"
        )
    days = {**DEFAULT_RETENTION_DAYS, **configured}
    for name, value in days.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ImproperlyConfigured(
                f"COMPLIANCE_RETENTION[{name!r}] must be a positive number of days"
            )
    return RetentionPolicy(**{name: timedelta(days=value) for name, value in days.items()})
