"""The trail's settings and their defaults, in one place (core/app_settings.py explains)."""

from core.app_settings import setting


class AppSettings:
    # Path of the Ed25519 private key that signs checkpoints; empty: none.
    AUDIT_SIGNING_KEY = setting("AUDIT_SIGNING_KEY", "")
    # Path of the trusted public key for checkpoints; empty: the signing key's half.
    AUDIT_VERIFY_KEY = setting("AUDIT_VERIFY_KEY", "")


app_settings = AppSettings()
