"""The audit trail in the admin: read-only for everyone, superusers included.

Looking at the trail is itself recorded: the change list and the entries sit
behind the stated-reason gate (one reason covers the whole trail for a short
while), and a CSV export records what was exported.
"""

import csv

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit import chain, queries
from audit.access import ReasonRequiredAdminMixin, granted_reason
from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.models import AuditEntry
from audit.trail import request_ip
from core.admin import ReadOnlyAdminMixin

CSV_COLUMNS = (*chain.ROW_FIELDS, "event_label")
# A spreadsheet runs a cell that starts like a formula: such cells (and any
# starting with a quote) get one leading quote, which a verifier strips back.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


class InputFilter(admin.SimpleListFilter):
    """A filter typed in a box: the actors or targets are too many to list."""

    template = "admin/audit/input_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.request = request

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        kept = [
            (key, value)
            for key, values in self.request.GET.lists()
            if key not in (self.parameter_name, "p")
            for value in values
        ]
        yield {"kept": kept, "value": self.value() or ""}


class ActorFilter(InputFilter):
    title = _("auteur (id)")
    parameter_name = "actor_id"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(_("L'id d'un auteur est un nombre."))
        return queryset.filter(actor_id=int(value))


class TargetIdFilter(InputFilter):
    title = _("id de la cible")
    parameter_name = "target_id"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(target_id=value) if value else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReasonRequiredAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    access_event = AuditEvent.VIEW_AUDIT_TRAIL
    access_reason_covers_model = True

    list_display = ("seq", "created", "actor", "event", "target", "short_reason")
    list_display_links = ("seq",)
    list_filter = (
        "event",
        ActorFilter,
        "target_type",
        TargetIdFilter,
        ("created", admin.DateFieldListFilter),
    )
    search_fields = ("reason", "actor_label", "target_id")
    list_per_page = 50
    # COUNT(*) over millions of rows on every page: not worth it.
    show_full_result_count = False
    actions = None
    change_list_template = "admin/audit/auditentry/change_list.html"
    fields = (
        "seq",
        "created",
        "actor",
        "event",
        "target_type",
        "target_id",
        "reason",
        "pretty_details",
        "ip_address",
        "pretty_personal_details",
        "personal_digest",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    @admin.display(description=_("auteur"), ordering="actor_id")
    def actor(self, entry):
        if entry.actor_id is None:
            return entry.actor_label or _("système")
        label = entry.actor_label if not entry.is_erased else _("effacé")
        return f"{label} (#{entry.actor_id})"

    @admin.display(description=_("cible"))
    def target(self, entry):
        if not entry.target_type:
            return "-"
        return f"{entry.target_type} #{entry.target_id}"

    @admin.display(description=_("motif"))
    def short_reason(self, entry):
        return entry.reason if len(entry.reason) <= 80 else entry.reason[:79] + "…"

    @admin.display(description=_("détails"))
    def pretty_details(self, entry):
        return format_html("<pre>{}</pre>", chain.canonical_json(entry.details))

    @admin.display(description=_("détails personnels"))
    def pretty_personal_details(self, entry):
        if entry.is_erased:
            return _("effacés")
        return format_html("<pre>{}</pre>", chain.canonical_json(entry.personal_details))

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="audit_auditentry_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "chain_status": queries.chain_status()}
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """The change list's current selection as CSV; the export is recorded first."""
        refusal = self._access_gate(request, None)
        if refusal is not None:
            return refusal
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(_("Filtres invalides."))
        queryset = changelist.get_queryset(request).order_by("seq")
        do_record_staff_access(
            AuditEvent.EXPORT_AUDIT_TRAIL,
            actor=request.user,
            target_type=self.opts.label_lower,
            target_id="",
            reason=granted_reason(request, self.opts.label_lower, ""),
            ip_address=request_ip(request),
            details={
                "filters": {key: request.GET.getlist(key) for key in sorted(request.GET)},
                "rows": queryset.count(),
            },
        )
        filename = f"audit-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(
            _csv_lines(queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store, private"
        return response


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = chain.canonical_json(value)
    elif hasattr(value, "astimezone"):
        value = chain.format_time(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_lines(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    labels = dict(AuditEvent.choices)
    for row in queryset.values_list(*chain.ROW_FIELDS).iterator(chunk_size=queries.VERIFY_CHUNK):
        yield writer.writerow([*map(_csv_cell, row), labels.get(row[3], "")])
