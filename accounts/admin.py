"""Admin for accounts: members, connection records, and identity document review.

Every view of personal data sits behind audit's stated-reason gate; document
files are shown only through `document_file`, which checks the review
permission and the reason before reading the file.
"""

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts import actions, documents
from accounts.forms import DocumentDecision
from accounts.models import (
    AccountDeletionRequest,
    AgeVerificationAttempt,
    ConnectionRecord,
    DocumentStatus,
    IdentityDocument,
    PseudonymHistory,
    User,
)
from audit.access import ReasonRequiredAdminMixin, reason_required
from audit.events import AuditEvent
from core.admin import ReadOnlyAdminMixin

REVIEW_PERMISSION = "accounts.review_identitydocument"

# What other apps show staff on a member's page (moderation's trust level):
# accounts imports none of them; each registers `user -> (title, safe html)`
# at start-up, as rooms' policy checks are registered.
_member_panels: list[Callable[[object], tuple[str, str]]] = []


def register_member_panel(panel: Callable[[object], tuple[str, str]]) -> None:
    if panel not in _member_panels:
        _member_panels.append(panel)


DOCUMENT_TARGET_TYPE = "accounts.identitydocument"


@admin.register(User)
class UserAdmin(ReasonRequiredAdminMixin, DjangoUserAdmin):
    access_event = AuditEvent.VIEW_ACCOUNT_DETAILS
    list_display = ("username", "is_active", "is_staff", "age_verified_at", "date_joined")
    list_filter = ("is_staff", "is_active", "age_verification_method", "groups")
    search_fields = ("username", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Vérifications et préférences"),
            {
                "fields": (
                    "date_of_birth",
                    "age_verified_at",
                    "age_verification_method",
                    "direct_messages_from",
                )
            },
        ),
        (_("Vu par les autres applications"), {"fields": ("member_panels",)}),
    )
    readonly_fields = (
        "age_verified_at",
        "age_verification_method",
        "last_login",
        "date_joined",
        "member_panels",
    )

    @admin.display(description=_("Confiance et modération"))
    def member_panels(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        return (
            format_html_join(
                "", "<section><h4>{}</h4>{}</section>", (panel(obj) for panel in _member_panels)
            )
            or "—"
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A name given or changed here enters the pseudonym history like any other.
        if not change or "username" in form.changed_data:
            PseudonymHistory.objects.record(obj)


@admin.register(ConnectionRecord)
class ConnectionRecordAdmin(ReasonRequiredAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    access_event = AuditEvent.VIEW_CONNECTION_RECORDS
    # The list shows no address: the IP and port are in the gated detail view.
    list_display = ("user", "kind", "created")
    list_filter = ("kind",)
    search_fields = ("user__username",)
    date_hierarchy = "created"
    fields = ("user", "kind", "ip_address", "port", "created")


@admin.register(AgeVerificationAttempt)
class AgeVerificationAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "method", "outcome", "reason", "issuer", "created")
    list_filter = ("method", "outcome", "reason")
    search_fields = ("user__username",)


@admin.register(AccountDeletionRequest)
class AccountDeletionRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "requested_at", "completed_at")
    list_filter = ("completed_at",)


@admin.register(IdentityDocument)
class IdentityDocumentAdmin(ReasonRequiredAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    access_event = AuditEvent.VIEW_IDENTITY_DOCUMENT
    list_display = ("id", "user", "status", "content_type", "uploaded_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("user__username",)
    change_form_template = "accounts/admin/identitydocument_review.html"
    fields = (
        "user",
        "status",
        "content_type",
        "size",
        "uploaded_at",
        "decided_at",
        "decided_by",
        "rejection_reason",
    )

    def get_urls(self):
        # admin_view: staff, OTP-verified, never cached.
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:document_id>/file/",
                self.admin_site.admin_view(self.document_file),
                name="{}_{}_file".format(*info),
            ),
            path(
                "<int:document_id>/decide/",
                self.admin_site.admin_view(self.decide),
                name="{}_{}_decide".format(*info),
            ),
            *super().get_urls(),
        ]

    def _check_reviewer(self, request) -> None:
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "decision_form": DocumentDecision(),
            "can_review": request.user.has_perm(REVIEW_PERMISSION),
            "pending": DocumentStatus.PENDING,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def document_file(self, request, document_id):
        self._check_reviewer(request)
        return _serve_document(request, document_id=document_id)

    def decide(self, request, document_id):
        self._check_reviewer(request)
        if request.method != "POST":
            raise Http404
        document = get_object_or_404(IdentityDocument, pk=document_id)
        change_url = reverse("admin:accounts_identitydocument_change", args=[document.pk])
        form = DocumentDecision(request.POST)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "accounts/admin/identitydocument_decision_error.html",
                {**self.admin_site.each_context(request), "form": form, "back": change_url},
                status=400,
            )
        try:
            actions.do_decide_identity_document(
                document,
                approve=form.cleaned_data["decision"] == DocumentDecision.APPROVE,
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except actions.DocumentAlreadyDecided:
            messages.warning(request, _("Ce document a déjà fait l'objet d'une décision."))
        else:
            messages.success(request, _("Décision enregistrée ; le fichier a été supprimé."))
        return HttpResponseRedirect(change_url)


@reason_required(AuditEvent.VIEW_IDENTITY_DOCUMENT, DOCUMENT_TARGET_TYPE, "document_id")
def _serve_document(request, *, document_id):
    document = get_object_or_404(IdentityDocument, pk=document_id)
    if not document.has_file:
        raise Http404(_("Le fichier a été supprimé après la décision."))
    try:
        handle = documents.document_path(document.stored_name).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=document.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store, private"
    # Shown to a reviewer, never executed: a PDF's scripts stay sandboxed.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response
