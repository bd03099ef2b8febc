"""The compliance back office: requisitions, holds, the restricted store, the dashboard.

Only staff holding the compliance permissions (the Compliance group,
administrators) see any of it; moderators hold none. Every page sits behind
audit's stated-reason gate, one reason covering the model for a while, and
the dashboard records each view. Writes are custom views calling
compliance/actions/: those actions are durable transactions of their own,
which the admin's change forms (run inside a transaction) could not call.
"""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AccountDeletionRequest
from accounts.records import request_carrier
from audit.access import ReasonRequiredAdminMixin, mark_look_recorded
from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.trail import request_ip
from compliance import actions, orders, queries, transparency
from compliance.app_settings import app_settings
from compliance.forms import AddressLookupForm, LegalRequestForm, PeriodForm, ReasonForm
from compliance.models import (
    PRODUCTION_KINDS,
    REMOVAL_KINDS,
    DataCategory,
    LegalHold,
    LegalRequest,
    LegalRequestStatus,
    OrderKind,
    PublishedTransparencyReport,
    RestrictedRecord,
)
from core.admin import ReadOnlyAdminMixin
from core.refusals import Refused
from moderation import queries as moderation_queries

S = LegalRequestStatus
DELETION_PERMISSION = "accounts.change_accountdeletionrequest"
PUBLISH_PERMISSION = "compliance.add_publishedtransparencyreport"


def time_span(delta: timedelta) -> str:
    """ "2 j 03 h 05 min": a deadline's time left (or past) at a glance."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(d)d j %(h)02d h") % {"d": days, "h": hours}
    return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}


def export_directory():
    """Where the admin's export button writes packages (never served by URL)."""
    return app_settings.COMPLIANCE_EXPORT_DIR


@admin.register(LegalRequest)
class LegalRequestAdmin(ReasonRequiredAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    access_event = AuditEvent.VIEW_LEGAL_REQUESTS
    access_reason_covers_model = True
    list_display = (
        "reference",
        "kind",
        "authority",
        "legal_basis",
        "status",
        "deadline_flag",
        "secret",
        "assigned_officer",
        "received_at",
    )
    list_filter = ("kind", "status", "legal_basis", "secret")
    search_fields = ("reference", "authority")
    actions = None
    change_list_template = "admin/compliance/legalrequest/change_list.html"

    @admin.display(description=gettext_lazy("échéance"), ordering="deadline")
    def deadline_flag(self, request_: LegalRequest):
        when = timezone.localtime(request_.deadline).strftime("%Y-%m-%d %H:%M")
        if request_.is_overdue:
            return format_html(
                '<strong class="compliance-deadline-near">⚠ {} ({} {})</strong>',
                when,
                _("en retard de"),
                time_span(-request_.time_left),
            )
        if request_.deadline_is_near:
            return format_html(
                '<strong class="compliance-deadline-near">⚠ {} ({} {})</strong>',
                when,
                _("reste"),
                time_span(request_.time_left),
            )
        return when

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("compliance.add_legalrequest")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "dashboard/",
                view(self.dashboard_view),
                name="compliance_dashboard",
            ),
            path(
                "<int:pk>/do/<str:verb>/",
                view(self.step_view),
                name="compliance_legalrequest_step",
            ),
            path(
                "<int:pk>/package/",
                view(self.package_view),
                name="compliance_legalrequest_package",
            ),
            path(
                "lookup/",
                view(self.lookup_view),
                name="compliance_address_lookup",
            ),
            path(
                "deletions/",
                view(self.deletions_view),
                name="compliance_pending_deletions",
            ),
            path(
                "deletions/<int:deletion_id>/complete/",
                view(self.complete_deletion_view),
                name="compliance_complete_deletion",
            ),
            path(
                "transparency/publish/",
                view(self.publish_transparency_view),
                name="compliance_publish_transparency",
            ),
            path(
                "holds/<int:hold_id>/release/",
                view(self.release_hold_view),
                name="compliance_legalhold_release",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = LegalRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                legal_request = actions.do_open_legal_request(actor=request.user, **data)
            except Refused as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(request, _("Réquisition enregistrée."))
                return HttpResponseRedirect(
                    reverse("admin:compliance_legalrequest_change", args=[legal_request.pk])
                )
        return TemplateResponse(
            request,
            "admin/compliance/form.html",
            self._context(
                request,
                form=form,
                title=_("Enregistrer une réquisition ou une injonction"),
                submit=_("Enregistrer"),
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        refusal = self._gate_object_page(request, object_id, self.has_view_permission)
        if refusal is not None:
            return refusal
        legal_request = self.get_object(request, unquote(object_id))
        if legal_request is None:
            raise Http404
        return TemplateResponse(
            request,
            "admin/compliance/legalrequest/detail.html",
            self._context(
                request,
                title=_("Réquisition %(reference)s") % {"reference": legal_request.reference},
                legal_request=legal_request,
                rule=orders.rule(legal_request.kind),
                time_left=time_span(abs(legal_request.time_left)),
                contents=legal_request.content_messages().select_related("room", "author"),
                production=legal_request.kind in PRODUCTION_KINDS,
                removal=legal_request.kind in REMOVAL_KINDS,
                eu_preservation=legal_request.kind == OrderKind.EU_PRESERVATION,
                categories=[DataCategory(value).label for value in legal_request.data_categories],
                holds=legal_request.holds.select_related("user", "room"),
                subjects=legal_request.subjects.all(),
                approvals=legal_request.approvals.select_related("officer"),
                reason_form=ReasonForm(),
                can_change=request.user.has_perm(actions.CHANGE_PERMISSION),
                can_approve=request.user.has_perm(actions.APPROVE_PERMISSION),
                can_export=request.user.has_perm(actions.EXPORT_PERMISSION),
                S=S,
            ),
        )

    def step_view(self, request: HttpRequest, pk: int, verb: str) -> HttpResponse:
        if request.method != "POST":
            raise Http404
        refusal = self._access_gate(request, None)
        if refusal is not None:
            return refusal
        legal_request = get_object_or_404(LegalRequest, pk=pk)
        back = reverse("admin:compliance_legalrequest_change", args=[pk])
        reason = request.POST.get("reason", "")
        steps = {
            "verify": lambda: actions.do_verify_legal_request(legal_request, actor=request.user),
            "hold": lambda: actions.do_put_legal_request_on_hold(
                legal_request, actor=request.user, reason=reason
            ),
            "approve": lambda: actions.do_approve_legal_export(legal_request, actor=request.user),
            "export": lambda: self._export(legal_request, request),
            "answer": lambda: actions.do_answer_legal_request(
                legal_request, actor=request.user, note=reason
            ),
            "refuse": lambda: actions.do_refuse_legal_request(
                legal_request, actor=request.user, reason=reason
            ),
            "acknowledge": lambda: actions.do_acknowledge_order(
                legal_request, actor=request.user, note=reason
            ),
            "effect": lambda: actions.do_give_effect_to_order(
                legal_request, actor=request.user, via=request_carrier(request)
            ),
            "lift_secrecy": lambda: actions.do_lift_order_secrecy(
                legal_request, actor=request.user, reason=reason
            ),
            "extend": lambda: actions.do_extend_preservation(
                legal_request, actor=request.user, reason=reason
            ),
            "confirm": lambda: actions.do_confirm_preservation(
                legal_request, actor=request.user, reason=reason
            ),
        }
        if verb not in steps:
            raise Http404
        try:
            steps[verb]()
        except Refused as refusal:
            messages.error(request, refusal.detail)
        else:
            messages.success(request, _("C'est fait."))
        return HttpResponseRedirect(back)

    def _export(self, legal_request: LegalRequest, request) -> None:
        directory = export_directory()
        directory.mkdir(parents=True, exist_ok=True)
        package = actions.do_export_legal_request(
            legal_request, actor=request.user, out_dir=directory
        )
        messages.info(
            request,
            _("Paquet %(name)s, SHA-256 %(sha)s.")
            % {"name": package.path.name, "sha": package.sha256},
        )

    def package_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Downloads the exported package (for handing over to the authority)."""
        if not request.user.has_perm(actions.EXPORT_PERMISSION):
            raise PermissionDenied
        refusal = self._access_gate(request, None)
        if refusal is not None:
            return refusal
        legal_request = get_object_or_404(LegalRequest, pk=pk)
        if not legal_request.package_name:
            raise Http404
        try:
            handle = (export_directory() / legal_request.package_name).open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, as_attachment=True, filename=legal_request.package_name)
        response["Cache-Control"] = "no-store, private"
        return response

    def release_hold_view(self, request: HttpRequest, hold_id: int) -> HttpResponse:
        if request.method != "POST":
            raise Http404
        refusal = self._access_gate(request, None)
        if refusal is not None:
            return refusal
        hold = get_object_or_404(LegalHold, pk=hold_id)
        try:
            actions.do_release_hold(hold, actor=request.user, reason=request.POST.get("reason", ""))
        except Refused as refusal:
            messages.error(request, refusal.detail)
        else:
            messages.success(request, _("Conservation levée."))
        return HttpResponseRedirect(
            reverse("admin:compliance_legalrequest_change", args=[hold.request_id])
        )

    def lookup_view(self, request: HttpRequest) -> HttpResponse:
        """Who used this address and port at that time. Behind the back office's
        reason grant like every page here (audit/looks.py), and each look states
        its own reason besides, audited by the action whatever it finds."""
        if not request.user.has_perm(actions.LOOKUP_PERMISSION):
            raise PermissionDenied
        form = AddressLookupForm(request.POST or None)
        rows = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                rows = actions.do_look_up_address(
                    ip_address=data["ip_address"],
                    port=data["port"],
                    when=data["when"],
                    window=timedelta(minutes=data["window_minutes"]),
                    reason=data["reason"],
                    actor=request.user,
                    actor_ip=request_ip(request),
                )
            except Refused as refusal:
                form.add_error(None, refusal.detail)
        response = TemplateResponse(
            request,
            "admin/compliance/lookup.html",
            self._context(
                request,
                form=form,
                rows=rows,
                title=_("Recherche d'un compte par adresse IP, port et date"),
            ),
        )
        response["Cache-Control"] = "no-store, private"
        return response

    def deletions_view(self, request: HttpRequest) -> HttpResponse:
        """Pending account deletions, to complete now rather than at the next purge run."""
        if not request.user.has_perm(DELETION_PERMISSION):
            raise PermissionDenied
        refusal = self._access_gate(request, None)
        if refusal is not None:
            return refusal
        pending = AccountDeletionRequest.objects.filter(completed_at__isnull=True).select_related(
            "user"
        )
        return TemplateResponse(
            request,
            "admin/compliance/deletions.html",
            self._context(
                request,
                title=_("Suppressions de compte en attente"),
                pending=pending,
                held=queries.held_user_ids(),
            ),
        )

    def complete_deletion_view(self, request: HttpRequest, deletion_id: int) -> HttpResponse:
        if request.method != "POST" or not request.user.has_perm(DELETION_PERMISSION):
            raise PermissionDenied
        refusal = self._access_gate(request, None)
        if refusal is not None:
            return refusal
        deletion = get_object_or_404(AccountDeletionRequest, pk=deletion_id)
        try:
            actions.do_complete_account_deletion(deletion, actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.detail)
        else:
            messages.success(request, _("Compte supprimé ; les données légales sont conservées."))
        return HttpResponseRedirect(reverse("admin:compliance_pending_deletions"))

    def publish_transparency_view(self, request: HttpRequest) -> HttpResponse:
        """POST from the dashboard: publishes the period shown (a closed one)."""
        if request.method != "POST" or not request.user.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied
        form = PeriodForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Période invalide."))
        else:
            try:
                published = actions.do_publish_transparency_report(
                    form.cleaned_data["start"], form.cleaned_data["end"], actor=request.user
                )
            except Refused as refusal:
                messages.error(request, refusal.detail)
            else:
                messages.success(
                    request,
                    _("Rapport publié : %(url)s") % {"url": published.get_absolute_url()},
                )
        return HttpResponseRedirect(reverse("admin:compliance_dashboard"))

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """The transparency figures with bar charts; each view is recorded."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        start, end = PeriodForm.default_period()
        form = PeriodForm(request.GET or None, initial={"start": start, "end": end})
        if request.GET and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        report = transparency.build_report(transparency.Period(start, end))
        # The entry below is this page's look (audit/looks.py), with its stated reason.
        reason = mark_look_recorded(request)
        do_record_staff_access(
            AuditEvent.VIEW_TRANSPARENCY_DASHBOARD,
            actor=request.user,
            target_type="",
            target_id="",
            reason=reason,
            ip_address=request_ip(request),
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
        return TemplateResponse(
            request,
            "admin/compliance/dashboard.html",
            self._context(
                request,
                title=_("Tableau de bord de conformité"),
                form=form,
                upcoming=LegalRequest.objects.exclude(status__in=(S.ANSWERED, S.REFUSED))
                .filter(taken_effect_at__isnull=True)
                .order_by("deadline")[:20],
                # Art. 18 notifications still to send (or decline), whatever the period.
                pending_escalations=moderation_queries.pending_escalations()[:50],
                **transparency.chart_context(report),
                period_start=start,
                period_end=end,
                may_publish=request.user.has_perm(PUBLISH_PERMISSION),
            ),
        )


@admin.register(LegalHold)
class LegalHoldAdmin(ReasonRequiredAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    access_event = AuditEvent.VIEW_LEGAL_REQUESTS
    access_reason_covers_model = True
    list_display = ("request", "user", "room", "placed_at", "expires_at", "released_at")
    list_filter = (("released_at", admin.EmptyFieldListFilter),)
    actions = None


@admin.register(RestrictedRecord)
class RestrictedRecordAdmin(ReasonRequiredAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    access_event = AuditEvent.VIEW_RESTRICTED_RECORDS
    access_reason_covers_model = True
    list_display = ("user_id", "category", "occurred_at", "retain_until")
    list_filter = ("category",)
    search_fields = ("=user__id",)
    fields = ("user", "category", "data", "occurred_at", "retain_until", "created")
    actions = None


@admin.register(PublishedTransparencyReport)
class PublishedTransparencyReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Published from the dashboard (its "publish" button); never edited afterwards."""

    list_display = ("period_start", "period_end", "published_at", "published_by")
    exclude = ("figures_json",)
    actions = None
