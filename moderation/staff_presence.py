"""Is a moderator online? One function, `moderators_online()`, that the
reputation rules ask (moderation/actions/pending_hides.py).

Online: a staff member with the power to decide reports whose OTP-verified
session made a request in the last `MODERATION_ONLINE_MINUTES` minutes. Each such
request leaves a mark in the shared cache (Redis when `REDIS_URL` is set, so
every process sees it); the mark expires by itself. A staff console socket can
later leave the same mark (`mark_active`) without changing the question.
"""

import time

from django.contrib.auth import get_user_model
from django.core.cache import cache

from core.staff import has_staff_powers
from moderation.app_settings import app_settings

# Who counts: a member of staff who may decide reports (the moderators' group).
DECIDE_PERMISSION = "moderation.change_report"

_KEY = "moderation:staff-active:{}"


def mark_active(user) -> None:
    """Notes that `user` (OTP-verified staff) is active now."""
    window = app_settings.MODERATION_ONLINE_MINUTES * 60
    cache.set(_KEY.format(user.pk), time.time(), timeout=window)


def forget_active(user) -> None:
    cache.delete(_KEY.format(user.pk))


def on_signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        forget_active(user)


def moderators_online() -> list[int]:
    """The ids of the moderators active in the window, who may decide reports."""
    staff_ids = list(
        get_user_model().objects.filter(is_staff=True, is_active=True).values_list("pk", flat=True)
    )
    if not staff_ids:
        return []
    marks = cache.get_many([_KEY.format(pk) for pk in staff_ids])
    since = time.time() - app_settings.MODERATION_ONLINE_MINUTES * 60
    active = [pk for pk in staff_ids if (marks.get(_KEY.format(pk)) or 0) >= since]
    users = get_user_model().objects.filter(pk__in=active)
    return [user.pk for user in users if user.has_perm(DECIDE_PERMISSION)]


def is_moderator_online() -> bool:
    return bool(moderators_online())


class StaffActivityMiddleware:
    """Marks OTP-verified staff active on each of their requests (after
    django-otp's middleware, which tells whether the session passed it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and has_staff_powers(user):
            mark_active(user)
        return response
