"""Refused staff attempts, in the trail: one entry per attempt.

Three places see a staff member refused, and each reports once:

- the staff gates (core/staff.py `staff_refusal`: not staff, no second factor,
  no permission) on the JSON API, /metrics and the stated-reason views report
  through `core.staff.report_staff_refusal`, answered here by `record_refusal`;
- the admin's PermissionDenied (a moderator opening a compliance page, an
  officer trying a moderator's action): `StaffRefusalMiddleware`;
- actions that refuse a staff actor (self-approval of an export, an export
  without the second officer's approval, no permission): `records_staff_refusals`
  on the action records the refusal after its transaction has rolled back.

A refusal is marked once recorded (`refused.audited`, and a flag on the
request), so the API layer above a refused action does not record it again.
Workflow refusals (wrong state, duplicate, invalid input) are not attempts
against a rule of authority and are not recorded (core.staff.AUTHORITY_CODES).
"""

import functools

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Model

from audit.actions import do_record_refused_staff_attempt
from audit.trail import request_ip
from core.refusals import RefusalCode, Refused
from core.staff import _REPORTED, AUTHORITY_CODES


def record_refusal(request, refusal: Refused, *, surface: str) -> None:
    """core.staff's listener (registered in audit/apps.py)."""
    do_record_refused_staff_attempt(
        actor=request.user,
        code=refusal.code,
        surface=surface,
        detail=str(refusal.detail),
        ip_address=request_ip(request),
        details={"method": request.method},
    )


def _is_staff(actor) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and getattr(actor, "is_staff", False)
    )


def records_staff_refusals(action):
    """Records an action's refusal of a staff actor (keyword `actor`), once.

    Recorded only at the outermost call, once the action's own transaction has
    rolled back: an entry written inside it would roll back with it.
    """

    @functools.wraps(action)
    def wrapped(*args, **kwargs):
        try:
            return action(*args, **kwargs)
        except Refused as refused:
            actor = kwargs.get("actor")
            if (
                refused.code in AUTHORITY_CODES
                and _is_staff(actor)
                and not getattr(refused, "audited", False)
                and not _inside_another_transaction()
            ):
                target = args[0] if args and isinstance(args[0], Model) else None
                do_record_refused_staff_attempt(
                    actor=actor,
                    code=refused.code,
                    surface=f"{action.__module__}.{action.__name__}",
                    detail=str(refused.detail),
                    target_type=target._meta.label_lower if target is not None else "",
                    target_id=target.pk if target is not None else "",
                )
                refused.audited = True
            raise

    return wrapped


def _inside_another_transaction() -> bool:
    # A test case's own transaction does not count (Django's durability check does
    # the same): only an action calling this one would roll the entry back.
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


class StaffRefusalMiddleware:
    """The admin's (and any view's) PermissionDenied for a staff member: one entry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, PermissionDenied):
            return None
        user = getattr(request, "user", None)
        if not _is_staff(user) or getattr(request, _REPORTED, False):
            return None
        setattr(request, _REPORTED, True)
        match = request.resolver_match
        do_record_refused_staff_attempt(
            actor=user,
            code=RefusalCode.FORBIDDEN,
            surface=(match.view_name if match is not None else "") or request.path,
            detail=str(exception) or "PermissionDenied",
            ip_address=request_ip(request),
            details={"method": request.method, "path": request.path[:200]},
        )
        return None  # Django answers 403 as before
