"""Compliance's settings, each default written once, here (allauth's `app_settings`).

Read at each use, never at import time, so the environment and `override_settings`
both apply. The retention periods' defaults are the policy itself and are explained
where they are defined, in compliance/retention.py; this reads only what a deployment
changes.
"""

from pathlib import Path

from django.conf import settings


class AppSettings:
    @property
    def COMPLIANCE_EXPORT_DIR(self) -> Path:
        """Where the admin's export button writes legal packages (never served by URL)."""
        configured = getattr(settings, "COMPLIANCE_EXPORT_DIR", None)
        return Path(configured) if configured else settings.VAR_DIR / "legal-exports"

    @property
    def COMPLIANCE_RETENTION(self) -> dict[str, int]:
        """Retention periods (days) that differ from compliance/retention.py's defaults."""
        return dict(getattr(settings, "COMPLIANCE_RETENTION", None) or {})


app_settings = AppSettings()
