"""May this account use the chat at all? The one place that answers it.

Rooms asks these questions before a socket joins or a message is stored; the
answer depends only on the account (room-level rules live in rooms/policy.py).
"""

from collections.abc import Callable
from enum import StrEnum

from allauth.account.models import EmailAddress
from django.db import connection


class ChatAccess(StrEnum):
    ALLOWED = "allowed"
    NOT_AUTHENTICATED = "not_authenticated"
    INACTIVE = "inactive"
    EMAIL_UNVERIFIED = "email_unverified"
    AGE_UNVERIFIED = "age_unverified"


def has_verified_email(user) -> bool:
    # Plain SQL: asked on every socket open and full re-check, where the ORM's
    # query building cost several times the round trip.
    with connection.cursor() as cursor:
        table = EmailAddress._meta.db_table
        sql = f"SELECT EXISTS (SELECT 1 FROM {table} WHERE user_id = %s AND verified)"  # noqa: S608
        cursor.execute(sql, [user.pk])
        return bool(cursor.fetchone()[0])


def chat_access(user) -> ChatAccess:
    """The account-level verdict, most basic refusal first."""
    if user is None or not user.is_authenticated:
        return ChatAccess.NOT_AUTHENTICATED
    if not user.is_active:
        return ChatAccess.INACTIVE
    if not has_verified_email(user):
        return ChatAccess.EMAIL_UNVERIFIED
    if not user.is_age_verified:
        return ChatAccess.AGE_UNVERIFIED
    return ChatAccess.ALLOWED


# --- sign-up pauses ---------------------------------------------------------------------------
# May anyone sign up now? Apps above accounts (moderation's raid mode) register a
# pause here at start-up; accounts never imports them. A pause answers with the
# sentence the sign-up page shows, or "" when it does not object.
_signup_pauses: list[Callable[[], str]] = []


def register_signup_pause(pause: Callable[[], str]) -> None:
    if pause not in _signup_pauses:
        _signup_pauses.append(pause)


def unregister_signup_pause(pause: Callable[[], str]) -> None:
    if pause in _signup_pauses:
        _signup_pauses.remove(pause)


def signup_paused() -> str:
    """Why sign-ups are paused now ("" when they are open)."""
    for pause in _signup_pauses:
        if why := pause():
            return why
    return ""
