"""Accounts' settings and their defaults, in one place (core/app_settings.py explains)."""

from core.app_settings import setting


class AppSettings:
    # Reverse proxies (addresses or networks) whose client headers are believed.
    TRUSTED_PROXIES = setting("TRUSTED_PROXIES", [], list)
    # Where a trusted proxy names the client's IP (last hop taken) and source port.
    CLIENT_IP_HEADER = setting("CLIENT_IP_HEADER", "X-Forwarded-For")
    CLIENT_PORT_HEADER = setting("CLIENT_PORT_HEADER", "X-Forwarded-Client-Port")
    # The admin login's limits, per client IP and per account name (allauth's syntax).
    ADMIN_LOGIN_RATE_LIMITS = setting(
        "ADMIN_LOGIN_RATE_LIMITS", {"admin_login": "20/m/ip,10/15m/key"}
    )


app_settings = AppSettings()
