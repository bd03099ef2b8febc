"""Receivers that keep the connection records (décret 2021-1362).

Thin on purpose: they read the client's address and call record_connection.
Django's own login/logout signals cover allauth's pages and the admin alike.
"""

from accounts.models import ConnectionKind
from accounts.records import client_address, record_connection


def _record(request, user, kind) -> None:
    if user is None or request is None:
        return
    ip_address, port = client_address(request)
    record_connection(user, kind, ip_address=ip_address, port=port)


def on_user_signed_up(sender, request, user, **kwargs) -> None:
    _record(request, user, ConnectionKind.SIGNUP)


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    _record(request, user, ConnectionKind.LOGIN)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    _record(request, user, ConnectionKind.LOGOUT)
