"""The one gate of staff-only surfaces: an active staff account whose session
passed its second factor (django-otp), and the permission the surface names.

Used by the moderation API, /metrics, the audit trail's stated-reason gate and
the chat's staff powers (`has_staff_powers`).
"""

from collections.abc import Callable

from django.utils.translation import gettext as _

from core.refusals import RefusalCode, Refused

# Refusals that say "not you, not like this" to a staff member: their attempts are
# audited (audit/refusals.py). Workflow refusals (wrong state, duplicate) are not.
AUTHORITY_CODES = frozenset(
    {
        RefusalCode.FORBIDDEN,
        RefusalCode.OTP_REQUIRED,
        RefusalCode.SAME_OFFICER,
        RefusalCode.APPROVAL_REQUIRED,
    }
)
_REPORTED = "_staff_refusal_reported"
_refusal_listeners: list[Callable] = []


def register_staff_refusal_listener(listener: Callable) -> None:
    """Lets the audit app record refused staff attempts (core sits below audit,
    as rooms below moderation: the lower layer declares, the higher one answers)."""
    if listener not in _refusal_listeners:
        _refusal_listeners.append(listener)


def report_staff_refusal(request, refusal: Refused, *, surface: str) -> None:
    """Tells the listeners that a staff member was refused; once per request and per
    refusal, so that one attempt makes one entry however many layers see it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return
    if refusal.code not in AUTHORITY_CODES and refusal.code != RefusalCode.NOT_AUTHENTICATED:
        return
    if getattr(request, _REPORTED, False) or getattr(refusal, "audited", False):
        return
    setattr(request, _REPORTED, True)
    refusal.audited = True
    for listener in _refusal_listeners:
        listener(request, refusal, surface=surface)


def is_otp_verified(user) -> bool:
    # Fail closed if django-otp's middleware did not run: no is_verified, no access.
    is_verified = getattr(user, "is_verified", None)
    return is_verified is not None and bool(is_verified())


def has_staff_powers(user) -> bool:
    """Staff whose session passed the second factor: the only ones who get
    staff powers in the chat (archived rooms, no filters, no slow mode), as in
    the admin. A request gets `is_verified` from django-otp's OTPMiddleware, a
    socket from accounts.sessions.verify_second_factor; without it, no powers."""
    if user is None or not getattr(user, "is_staff", False) or not user.is_active:
        return False
    return is_otp_verified(user)


def staff_refusal(user, permission: str | None = None) -> Refused | None:
    """None when `user` may pass; otherwise the refusal (401 not signed in, 403 else)."""
    if not user.is_authenticated:
        return Refused(RefusalCode.NOT_AUTHENTICATED, _("Connectez-vous."))
    if not user.is_active or not user.is_staff:
        return Refused(
            RefusalCode.FORBIDDEN, _("Réservé à l'équipe, double authentification validée.")
        )
    if not is_otp_verified(user):
        return Refused(
            RefusalCode.OTP_REQUIRED,
            _("Validez d'abord votre double authentification (/admin/)."),
        )
    if permission is not None and not user.has_perm(permission):
        return Refused(RefusalCode.FORBIDDEN, _("Vous n'avez pas la permission nécessaire."))
    return None
