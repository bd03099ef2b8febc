"""The trail's settings and their defaults, in one place (core/app_settings.py explains)."""

from django.conf import settings

from core.app_settings import setting


class AppSettings:
    # Path of the Ed25519 private key that signs checkpoints; empty: none.
    AUDIT_SIGNING_KEY = setting("AUDIT_SIGNING_KEY", "")
    # Path of the trusted public key for checkpoints; empty: the signing key's half.
    AUDIT_VERIFY_KEY = setting("AUDIT_VERIFY_KEY", "")
    # Who watches the watchers (audit/watch.py): more than THRESHOLD looks at private
    # conversations or identity files by one staff member within WINDOW seconds raise
    # one alert (an entry, chatsite_staff_look_alerts_total, a mail) per window.
    AUDIT_LOOK_ALERT_THRESHOLD = setting("AUDIT_LOOK_ALERT_THRESHOLD", 30, int)
    AUDIT_LOOK_ALERT_WINDOW_SECONDS = setting("AUDIT_LOOK_ALERT_WINDOW_SECONDS", 3600, int)

    @property
    def AUDIT_LOOK_ALERT_EMAIL(self) -> str:
        """Where the alert goes; by default the data protection contact (PRIVACY_CONTACT_EMAIL)."""
        return getattr(settings, "AUDIT_LOOK_ALERT_EMAIL", "") or settings.PRIVACY_CONTACT_EMAIL


app_settings = AppSettings()
