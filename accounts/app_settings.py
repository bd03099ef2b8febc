"""Accounts' settings, each default written once, here (allauth's `app_settings`).

Read at each use, never at import time, so the environment (chatsite/settings.py sets
a name only when the environment gives it) and `override_settings` both apply.
"""

from django.conf import settings


class AppSettings:
    @property
    def TRUSTED_PROXIES(self) -> list[str]:
        """Reverse proxies (addresses or networks) whose client headers are believed."""
        return list(getattr(settings, "TRUSTED_PROXIES", []))

    @property
    def CLIENT_IP_HEADER(self) -> str:
        """The header in which a trusted proxy names the client's IP (last hop taken)."""
        return getattr(settings, "CLIENT_IP_HEADER", "X-Forwarded-For")

    @property
    def CLIENT_PORT_HEADER(self) -> str:
        """The header in which a trusted proxy gives the client's source port."""
        return getattr(settings, "CLIENT_PORT_HEADER", "X-Forwarded-Client-Port")

    @property
    def ADMIN_LOGIN_RATE_LIMITS(self) -> dict[str, str]:
        """The admin login's limits, per client IP and per account name (allauth syntax)."""
        return getattr(settings, "ADMIN_LOGIN_RATE_LIMITS", {"admin_login": "20/m/ip,10/15m/key"})


app_settings = AppSettings()
