"""Receivers that keep the connection records (décret 2021-1362).

Thin on purpose: they read the client's address and call record_connection
(and, for staff on the site's own login, the audit action).
Django's own login/logout signals cover allauth's pages and the admin alike.
"""

from accounts.actions import do_record_staff_sign_in
from accounts.models import ConnectionKind
from accounts.records import client_address, record_connection
from audit.events import AuditEvent


def _record(request, user, kind) -> None:
    if user is None or request is None:
        return
    ip_address, port = client_address(request)
    record_connection(user, kind, ip_address=ip_address, port=port)


def on_user_signed_up(sender, request, user, **kwargs) -> None:
    _record(request, user, ConnectionKind.SIGNUP)


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    _record(request, user, ConnectionKind.LOGIN)
    # Staff signing in on the site's own login page are audited like admin
    # sign-ins; the admin's login audits its own (with the second factor's
    # outcome). A login outside any URL (a shell, a test's force_login) is not
    # a sign-in from the site.
    match = getattr(request, "resolver_match", None)
    if user is not None and user.is_staff and match is not None and match.app_name != "admin":
        do_record_staff_sign_in(
            AuditEvent.STAFF_LOGIN,
            actor=user,
            target=user,
            ip_address=client_address(request)[0],
            via="site",
        )


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    _record(request, user, ConnectionKind.LOGOUT)
