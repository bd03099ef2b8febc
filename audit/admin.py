"""The audit trail in the admin: read-only for everyone, superusers included.

Looking at the trail is itself recorded: the change list and the entries sit
behind the stated-reason gate (one reason covers the whole trail for a short
while), and a CSV export records what was exported.

`StaffLookAdmin` is compliance's review of the looks (who watches the
watchers): the staff looks at personal data and the refused staff attempts,
by staff member, by person looked at, by period, exportable as CSV.
"""

import csv
from datetime import datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit import chain, queries
from audit.access import ReasonRequiredAdminMixin, granted_reason, mark_look_recorded
from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.models import AuditEntry, LookedAtPerson, StaffLook
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


class PersonFilter(InputFilter):
    title = _("personne consultée (id)")
    parameter_name = "person_id"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(_("L'id d'une personne est un nombre."))
        looks = LookedAtPerson.objects.filter(person_id=int(value)).values("seq")
        return queryset.filter(seq__in=looks)


class DateInputFilter(InputFilter):
    """One end of a period, typed as YYYY-MM-DD (the day included)."""

    def _day(self):
        value = (self.value() or "").strip()
        if not value:
            return None
        try:
            day = datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise IncorrectLookupParameters(_("Une date s'écrit AAAA-MM-JJ.")) from None
        return timezone.make_aware(datetime.combine(day, time.min))


class PeriodStartFilter(DateInputFilter):
    title = _("du (AAAA-MM-JJ)")
    parameter_name = "from"

    def queryset(self, request, queryset):
        start = self._day()
        return queryset if start is None else queryset.filter(created__gte=start)


class PeriodEndFilter(DateInputFilter):
    title = _("au (AAAA-MM-JJ, inclus)")
    parameter_name = "to"

    def queryset(self, request, queryset):
        end = self._day()
        return queryset if end is None else queryset.filter(created__lt=end + timedelta(days=1))


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

    export_prefix = "audit"

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_export",
            ),
            *super().get_urls(),
        ]

    def csv_lines(self, queryset):
        return _csv_lines(queryset)

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
        mark_look_recorded(request)  # this entry is the look: audit/looks.py adds none
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
        filename = f"{self.export_prefix}-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(
            self.csv_lines(queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store, private"
        return response


# What compliance reviews as staff looks: views of personal data, exports of the
# trail, the rate alerts, and refused staff attempts.
LOOK_EVENTS = (
    AuditEvent.VIEW_ACCOUNT_DETAILS,
    AuditEvent.VIEW_DIRECT_CONVERSATION,
    AuditEvent.VIEW_IDENTITY_DOCUMENT,
    AuditEvent.VIEW_CONNECTION_RECORDS,
    AuditEvent.VIEW_PERSONAL_DATA,
    AuditEvent.VIEW_PRIVATE_ROOM_MESSAGES,
    AuditEvent.VIEW_AUDIT_TRAIL,
    AuditEvent.EXPORT_AUDIT_TRAIL,
    AuditEvent.STAFF_LOOK_RATE_EXCEEDED,
    AuditEvent.VIEW_LEGAL_REQUESTS,
    AuditEvent.VIEW_RESTRICTED_RECORDS,
    AuditEvent.VIEW_TRANSPARENCY_DASHBOARD,
    AuditEvent.STAFF_ATTEMPT_REFUSED,
)
LOOK_CSV_COLUMNS = (
    "seq",
    "created",
    "staff_id",
    "staff",
    "event",
    "event_label",
    "target_type",
    "target_id",
    "people",
    "rooms",
    "reason",
    "details",
)


class LookEventFilter(admin.SimpleListFilter):
    title = _("événement")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return [(str(int(event)), event.label) for event in LOOK_EVENTS]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(_("Événement inconnu."))
        return queryset.filter(event=int(value))


@admin.register(StaffLook)
class StaffLookAdmin(AuditEntryAdmin):
    """The staff looks, for compliance: by staff member (auteur), by person looked
    at, by period; the CSV export is the current selection, itself recorded."""

    export_prefix = "staff-looks"
    list_display = ("seq", "created", "actor", "event", "target", "people", "short_reason")
    list_filter = (
        LookEventFilter,
        ActorFilter,
        PersonFilter,
        PeriodStartFilter,
        PeriodEndFilter,
        ("created", admin.DateFieldListFilter),
    )
    search_fields = ("reason",)
    change_list_template = "admin/audit/stafflook/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(event__in=[int(e) for e in LOOK_EVENTS])

    def changelist_view(self, request, extra_context=None):
        # The chain's status panel belongs to the trail's own page.
        return super(AuditEntryAdmin, self).changelist_view(request, extra_context)

    @admin.display(description=_("personnes consultées"))
    def people(self, entry):
        people = entry.details.get("people") or []
        if entry.event == AuditEvent.STAFF_LOOK_RATE_EXCEEDED:
            return _("%(id)s (seuil dépassé)") % {"id": entry.target_id}
        return ", ".join(map(str, people[:10])) + ("…" if len(people) > 10 else "")

    def csv_lines(self, queryset):
        writer = csv.writer(_Echo())
        yield writer.writerow(LOOK_CSV_COLUMNS)
        labels = dict(AuditEvent.choices)
        for entry in queryset.iterator(chunk_size=queries.VERIFY_CHUNK):
            details = dict(entry.details)
            people = details.pop("people", [])
            rooms = details.pop("rooms", [])
            row = [
                entry.seq,
                entry.created,
                entry.actor_id,
                "" if entry.is_erased else entry.actor_label,
                entry.event,
                labels.get(entry.event, ""),
                entry.target_type,
                entry.target_id,
                " ".join(map(str, people)),
                " ".join(map(str, rooms)),
                entry.reason,
                details,
            ]
            yield writer.writerow(list(map(_csv_cell, row)))


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
