"""Throttles of the public and costly endpoints, in allauth's rate syntax.

`AMOUNT/PERIOD/PER`, PER being `ip` (the client address, as the connection
records read it), `user` or `key` (a value the caller names, hashed: an e-mail
address). The counts live in Django's cache (Redis when REDIS_URL is set, so
shared by every process), through allauth's rate limiter: the same machinery
as its sign-up and login limits and the admin login's (accounts/admin_site.py).
"""

from allauth.core.internal import ratelimit
from django.conf import settings
from django.http import HttpRequest

RATE_LIMIT_APP = "chatsite"

DEFAULT_RATE_LIMITS = {
    # /notice/ needs no account: a burst from one address is refused ...
    "notice": "5/m/ip,20/h/ip",
    # ... and no address is sent more than a few acknowledgements an hour.
    "notice_mail": "3/h/key",
    # The age-attestation round trip (start, then the issuer's callback).
    "age_attestation": "10/m/user,30/h/user",
}


def rate_limits() -> dict[str, str]:
    """The defaults, each overridable by settings.CHATSITE_RATE_LIMITS."""
    return {**DEFAULT_RATE_LIMITS, **getattr(settings, "CHATSITE_RATE_LIMITS", {})}


def consume(request: HttpRequest, action: str, *, key: str | None = None) -> bool:
    """Counts one use of `action`; False once its rate is exceeded."""
    usage = ratelimit.consume(
        request,
        app=RATE_LIMIT_APP,
        action=action,
        config=rate_limits(),
        key=key,
        user=request.user if request.user.is_authenticated else None,
        limit_get=True,
    )
    return usage is not None
