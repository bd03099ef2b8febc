"""The one gate of staff-only surfaces: an active staff account whose session
passed its second factor (django-otp), and the permission the surface names.

Used by the moderation API, /metrics, the audit trail's stated-reason gate and
the chat's staff powers (`has_staff_powers`).
"""

from django.utils.translation import gettext as _

from core.refusals import RefusalCode, Refused


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
