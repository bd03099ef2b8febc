"""The stated-reason gate for staff views of personal data.

A staff member who opens someone's personal data (an account's details, a
private or direct conversation, an identity document, connection records,
the audit trail itself) first states why. The reason grants this session
access to that target for ACCESS_GRANT_SECONDS; a GET without a granted
reason never shows the data: it gets the reason form, with status 403.

Every view shown under a grant is recorded, one entry each (the actor, the
target, the reason, and in the admin the people and rooms the page showed):
stating the reason records nothing by itself, the look does. In the admin,
audit/looks.py gates every registered ModelAdmin's pages and records the look
once the page is built; a gate inside such a page (access_gate) only names the
more precise target and event that entry should carry.

Staff JSON APIs send the reason in the X-Access-Reason header instead: each
such call is recorded, and nothing is kept in the session.
"""

import functools
import time

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.forms import MIN_REASON_LENGTH, REASON_FIELD, AccessReasonForm
from audit.trail import request_ip
from core.jsonapi import refusal_response
from core.refusals import RefusalCode
from core.staff import report_staff_refusal, staff_refusal

ACCESS_GRANT_SECONDS = 15 * 60
REASON_HEADER = "X-Access-Reason"
SESSION_KEY = "audit_access_grants"
TEMPLATE = "admin/audit/access_reason.html"
# Set on a request by audit/looks.py's admin gate: the look is recorded there.
LOOK = "_audit_look"


def _grant_key(target_type: str, target_id: str) -> str:
    return f"{target_type}:{target_id}"


def granted_reason(request: HttpRequest, target_type: str, target_id: str) -> str | None:
    """The reason this session stated for this target, while its grant lasts."""
    grant = request.session.get(SESSION_KEY, {}).get(_grant_key(target_type, target_id))
    if not grant or grant["until"] < time.time():
        return None
    return grant["reason"]


def _grant(request: HttpRequest, target_type: str, target_id: str, reason: str) -> None:
    now = time.time()
    grants = {
        key: grant
        for key, grant in request.session.get(SESSION_KEY, {}).items()
        if grant["until"] >= now
    }
    grants[_grant_key(target_type, target_id)] = {
        "reason": reason,
        "until": now + ACCESS_GRANT_SECONDS,
    }
    request.session[SESSION_KEY] = grants


def access_gate(
    request: HttpRequest,
    event: AuditEvent,
    target_type: str,
    target_id: str,
    *,
    context: dict | None = None,
) -> HttpResponse | None:
    """None when this session may see the target; otherwise the response to send.

    That response is the reason form (403), or, once a valid reason is posted,
    the redirect back to the page after the reason has been recorded.
    """
    target_id = str(target_id)
    stating = request.method == "POST" and REASON_FIELD in request.POST
    # A posted reason is never passed on to the view as if it were the view's own form.
    reason = None if stating else granted_reason(request, target_type, target_id)
    if reason is not None:
        note_look(request, event, target_type, target_id, reason)
        return None
    if stating:
        form = AccessReasonForm(request.POST)
        if form.is_valid():
            # Granted, not yet recorded: the page it leads to is the look, recorded then.
            _grant(request, target_type, target_id, form.cleaned_data[REASON_FIELD])
            # Back to the same page with a GET: a reload does not post the reason again.
            return HttpResponseRedirect(request.get_full_path())
    else:
        form = AccessReasonForm()
    return TemplateResponse(
        request,
        TEMPLATE,
        {
            **(context or {}),
            "form": form,
            "event_label": AuditEvent(event).label,
            "grant_minutes": ACCESS_GRANT_SECONDS // 60,
            "title": _("Motif de consultation requis"),
        },
        status=403,
    )


def note_look(request, event, target_type: str, target_id: str, reason: str) -> None:
    """Records a look now, or, inside an admin page gated by audit/looks.py, names the
    target and event of the entry that page records once built (one entry per look)."""
    look = getattr(request, LOOK, None)
    if look is not None:
        look.update(event=event, target_type=target_type, target_id=target_id, reason=reason)
        return
    do_record_staff_access(
        event,
        actor=request.user,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        ip_address=request_ip(request),
    )


def mark_look_recorded(request) -> str:
    """A gated admin page that records its own, richer entry (an export, a dashboard)
    tells audit/looks.py not to add a second one for the same look; returns the
    reason stated for the page, for that entry."""
    look = getattr(request, LOOK, None)
    if look is None:
        return ""
    look["recorded"] = True
    return look.get("reason", "")


def _api_access(request, event, target_type, target_id) -> HttpResponse | None:
    reason = request.headers.get(REASON_HEADER, "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        return JsonResponse(
            {
                "error": "reason_required",
                "detail": _(
                    "Indiquez le motif de la consultation (au moins %(min)d caractères) "
                    "dans l'en-tête %(header)s."
                )
                % {"min": MIN_REASON_LENGTH, "header": REASON_HEADER},
            },
            status=403,
        )
    do_record_staff_access(
        event,
        actor=request.user,
        target_type=target_type,
        target_id=target_id,
        reason=reason[:500],
        ip_address=request_ip(request),
    )
    return None


def _refuse_unless_verified_staff(request, *, api: bool) -> HttpResponse | None:
    # A staff session must have passed its second factor (core/staff.py).
    refusal = staff_refusal(request.user)
    if refusal is None:
        return None
    report_staff_refusal(request, refusal, surface=request.path)
    if api:
        return refusal_response(refusal)
    if refusal.code == RefusalCode.NOT_AUTHENTICATED:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    raise PermissionDenied


def reason_required(
    event: AuditEvent, target_type: str, target_id_kwarg: str, *, api: bool = False
):
    """The stated-reason gate for a function view whose target comes from a URL kwarg.

    Only OTP-verified staff get past it; the view still checks its own
    permissions on the object. With `api=True` the reason comes in the
    X-Access-Reason header and refusals are JSON.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            refusal = _refuse_unless_verified_staff(request, api=api)
            if refusal is not None:
                return refusal
            target_id = str(kwargs[target_id_kwarg])
            if api:
                refusal = _api_access(request, event, target_type, target_id)
            else:
                refusal = access_gate(
                    request,
                    event,
                    target_type,
                    target_id,
                    context=admin.site.each_context(request),
                )
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class ReasonRequiredAdminMixin:
    """Declares a ModelAdmin's gate and keeps its own pages behind it.

    `access_event` names what is being looked at. By default each object needs
    its own reason (audit/looks.py's OBJECT policy); `access_reason_covers_model
    = True` makes one reason cover the change list and every object of the model
    (MODEL). audit/looks.py gates and records every page of every ModelAdmin;
    these overrides check the same grants again from inside (a second lock, and
    the helpers `_access_gate`, `_gate_object_page` for custom views).
    """

    access_event: AuditEvent
    access_reason_covers_model = False

    def _access_gate(self, request, object_id: str | None) -> HttpResponse | None:
        target_id = "" if self.access_reason_covers_model else str(unquote(object_id))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "target_id": target_id,
        }
        return access_gate(
            request, self.access_event, self.opts.label_lower, target_id, context=context
        )

    def _gate_object_page(self, request, object_id, has_permission) -> HttpResponse | None:
        # Permission first: nobody states a reason for what they may not see anyway,
        # and a missing object is left to the admin's own "does not exist" answer.
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return None
        if not has_permission(request, obj):
            raise PermissionDenied
        return self._access_gate(request, object_id)

    def changelist_view(self, request, extra_context=None):
        if self.access_reason_covers_model:
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied
            refusal = self._access_gate(request, None)
            if refusal is not None:
                return refusal
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        refusal = self._gate_object_page(request, object_id, self.has_view_or_change_permission)
        if refusal is not None:
            return refusal
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        refusal = self._gate_object_page(request, object_id, self.has_view_or_change_permission)
        if refusal is not None:
            return refusal
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        refusal = self._gate_object_page(request, object_id, self.has_delete_permission)
        if refusal is not None:
            return refusal
        return super().delete_view(request, object_id, extra_context)
