"""Access that ends closes the sockets it opened, on every server process.

Our own actions (a ban, a kick, a block) close sockets from their on-commit
hooks. The ends of access below also happen outside our actions: allauth's
sign-out and password flows, Django's admin (a password set, an account
deactivated, a member removed from an inline). So they are caught where every
path meets, in signals, and these receivers only send a notice on commit: the
sockets then check the database themselves (rooms/consumers.py), which stays
the one place that decides. No rule lives here.

- sign-out: that session's sockets close (4401);
- a password change or reset, a deactivation, an account closure: every socket
  of the account re-checks its session auth hash and its account, so that
  every other session's sockets close (4401) and the session that changed
  the password keeps its own (told its new key: `session.rekey`);
- a membership removed (private or direct room): that user's sockets in that
  room check again and close (4403; 4401 when the account itself closed).
"""

from functools import partial

from allauth.account.signals import password_changed, password_reset, password_set
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from rooms import notify
from rooms.models import RoomMembership
from rooms.protocol import CloseCode

# Saves that touch only these fields cannot end access (a sign-in updates last_login).
HARMLESS_FIELDS = frozenset({"last_login"})


def on_signed_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        # Sent before the session is flushed: the key is still the signed-in one.
        transaction.on_commit(
            partial(notify.close_session_sockets, session_key, int(CloseCode.NOT_AUTHENTICATED))
        )


def on_account_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= HARMLESS_FIELDS):
        return
    transaction.on_commit(partial(notify.revalidate_user_sockets, instance.pk))


def on_password_changed(sender, request=None, user=None, **kwargs) -> None:
    """allauth sends this once the changing session holds the new hash, under a
    new key (update_session_auth_hash cycles it; the request still carries the
    old one in its cookie). Saved now rather than with the response, so that
    the sockets that follow it to the new key find the new hash there."""
    if user is None:
        return
    session = getattr(request, "session", None)
    old_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME) if request is not None else None
    if session is not None and old_key and session.session_key and old_key != session.session_key:
        session.save()
        transaction.on_commit(partial(notify.rekey_session_sockets, old_key, session.session_key))
    transaction.on_commit(partial(notify.revalidate_user_sockets, user.pk))


def on_membership_removed(sender, instance, **kwargs) -> None:
    # A re-check rather than a plain 4403: when the membership goes because the
    # account closed, the socket must say so (4401), whatever order the
    # closure's steps ran in.
    transaction.on_commit(
        partial(notify.revalidate_user_sockets, instance.user_id, instance.room_id)
    )


def connect() -> None:
    user_logged_out.connect(on_signed_out, dispatch_uid="rooms.revocation.signed_out")
    post_save.connect(
        on_account_saved, sender=get_user_model(), dispatch_uid="rooms.revocation.account"
    )
    for signal in (password_changed, password_reset, password_set):
        signal.connect(on_password_changed, dispatch_uid=f"rooms.revocation.{id(signal)}")
    post_delete.connect(
        on_membership_removed, sender=RoomMembership, dispatch_uid="rooms.revocation.membership"
    )
