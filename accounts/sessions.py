"""Is a signed-in session still what it was? For sockets, which outlive the
request that authenticated them.

Django checks a session against the account on every request (the session's
HASH_SESSION_KEY against `get_session_auth_hash()`, which changes with the
password). A socket opened once must ask the same question again: on a timer,
before a post, and when told the account changed (rooms/revocation.py).
"""

from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.utils.crypto import constant_time_compare
from django_otp.middleware import OTPMiddleware


def session_data(session_key: str | None) -> dict:
    """The session's stored data as it is now; {} when it is gone or expired
    (signed out, flushed, cleared by a password reset)."""
    if not session_key:
        return {}
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return dict(store.load())


def session_matches(data: dict, user) -> bool:
    """Does this session data still authenticate `user`, as Django's
    `get_user()` would decide on the next request?"""
    if user is None or str(data.get(SESSION_KEY)) != str(user.pk):
        return False
    stored = data.get(HASH_SESSION_KEY) or ""
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    # Hashes made with a SECRET_KEY_FALLBACKS key stay valid, as in Django.
    return any(constant_time_compare(stored, h) for h in user.get_session_auth_fallback_hash())


def verify_second_factor(user, data: dict):
    """Marks `user` OTP-verified or not from the session data, exactly as
    django-otp's OTPMiddleware does for a request (`user.otp_device`,
    `user.is_verified()`): a socket has no request, and staff powers in the
    chat need the verified second factor as the admin does."""
    request = SimpleNamespace(session=dict(data))
    return OTPMiddleware(lambda request: None)._verify_user_sync(request, user)
