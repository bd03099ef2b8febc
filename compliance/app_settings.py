"""Compliance's settings and their defaults, in one place (core/app_settings.py explains).

The retention periods' defaults are the policy itself and are explained where they
are defined, in compliance/retention.py; this reads only what a deployment changes.
"""

from pathlib import Path

from django.conf import settings

from core.app_settings import setting


class AppSettings:
    # Retention periods (days) that differ from compliance/retention.py's defaults.
    COMPLIANCE_RETENTION = setting("COMPLIANCE_RETENTION", None, lambda value: dict(value or {}))
    # The prefix of the platform's unique id (puid) of each statement of reasons
    # sent to the DSA Transparency Database: "<prefix>-<statement id>", never reused.
    COMPLIANCE_DSA_PUID_PREFIX = setting("COMPLIANCE_DSA_PUID_PREFIX", "chatsite-sor")
    # The processors the privacy page names (compliance/disclosures.py): empty, the
    # host of AGE_ATTESTATION_PROVIDER_URL or of EMAIL_URL; the host is LEGAL_HOST_NAME.
    PRIVACY_AGE_VERIFICATION_PROVIDER = setting("PRIVACY_AGE_VERIFICATION_PROVIDER", "")
    PRIVACY_MAIL_PROVIDER = setting("PRIVACY_MAIL_PROVIDER", "")

    @property
    def COMPLIANCE_ORDER_ALERT_EMAIL(self) -> str:
        """Who is mailed at once when an order with a deadline in hours arrives (a
        terrorist-content removal order, an LCEN removal, an emergency EU
        production order); by default the authorities' contact."""
        return (
            getattr(settings, "COMPLIANCE_ORDER_ALERT_EMAIL", "")
            or settings.AUTHORITIES_CONTACT_EMAIL
        )

    @property
    def COMPLIANCE_EXPORT_DIR(self) -> Path:
        """Where the admin's export button writes legal packages (never served by URL);
        by default under VAR_DIR, itself a setting."""
        configured = getattr(settings, "COMPLIANCE_EXPORT_DIR", None)
        return Path(configured) if configured else settings.VAR_DIR / "legal-exports"

    @property
    def COMPLIANCE_BACKUP_DIR(self) -> Path:
        """Where scripts/backup.py writes the database backups that rotate_backups
        rotates: the `BACKUP_DIR` setting (environment variable of the same name)."""
        configured = getattr(settings, "BACKUP_DIR", None)
        return Path(configured) if configured else settings.VAR_DIR / "backups"


app_settings = AppSettings()
