"""Rooms' settings, each default written once, here (allauth's `app_settings`).

Read at each use, never at import time, so the environment (chatsite/settings.py sets
a name only when the environment gives it) and `override_settings` both apply.
"""

from django.conf import settings


class AppSettings:
    @property
    def MESSAGE_RATE_LIMIT(self) -> str:
        """Per-user sending limit, `BURST/PER_SECOND` or `off` (rooms/ratelimit.py)."""
        return getattr(settings, "MESSAGE_RATE_LIMIT", "5/1")

    @property
    def MAX_SOCKETS_PER_USER(self) -> int:
        """Sockets one account may hold open at once, on all processes; 0: no cap."""
        return int(getattr(settings, "MAX_SOCKETS_PER_USER", 20))


app_settings = AppSettings()
