"""Accounts' settings and their defaults, in one place (core/app_settings.py explains)."""

from core.app_settings import setting


def _document_review_days(retention) -> int:
    from accounts import documents

    return dict(retention or {}).get(documents.RETENTION_KEY, documents.PENDING_REVIEW_DAYS)


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
    # The review period of an identity document, as the age page announces it: the
    # key of COMPLIANCE_RETENTION by which compliance's retention purge expires it.
    DOCUMENT_REVIEW_DAYS = setting("COMPLIANCE_RETENTION", None, _document_review_days)


app_settings = AppSettings()
