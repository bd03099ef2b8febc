"""The audit trail's settings, each default written once, here (allauth's `app_settings`).

Read at each use, never at import time, so the environment (chatsite/settings.py sets
a name only when the environment gives it) and `override_settings` both apply.
"""

from django.conf import settings


class AppSettings:
    @property
    def AUDIT_SIGNING_KEY(self) -> str:
        """Path of the Ed25519 private key that signs checkpoints; empty: none."""
        return getattr(settings, "AUDIT_SIGNING_KEY", "")

    @property
    def AUDIT_VERIFY_KEY(self) -> str:
        """Path of the trusted public key for checkpoints; empty: the signing key's half."""
        return getattr(settings, "AUDIT_VERIFY_KEY", "")


app_settings = AppSettings()
