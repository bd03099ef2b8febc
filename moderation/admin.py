"""The moderators' back office: the report queue, sanctions, appeals, held
messages, filters, escalations (docs/moderation.md).

Every write goes through moderation/actions/. Those actions are durable
transactions of their own, and the admin runs its change forms and its
actions inside a transaction: so the writes here are custom views (a form
per report, appeal, sanction), and each bulk action leads to a confirmation
page of its own, which calls the action once per object.

Over 500 lines: one ModelAdmin per moderation model, each with its decision
form; they share the confirmation-page machinery at the top. Splitting it per
model is the next step if it grows.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import admin as accounts_admin
from accounts.records import request_carrier
from audit.access import access_gate, mark_look_recorded
from audit.actions import do_record_staff_access
from audit.events import AuditEvent
from audit.looks import LookPolicy
from audit.trail import request_ip
from core.admin import ReadOnlyAdminMixin
from core.refusals import Refused
from moderation import actions, case_files, queries, trust
from moderation.admin_console import ReportConsoleViewsMixin
from moderation.forms import (
    AppealDecisionForm,
    BanPurgeForm,
    DecisionForm,
    DeclineEscalationForm,
    ModeratorNoteForm,
    NewModeratorNoteForm,
    RaidExtensionForm,
    RaidModeForm,
    ReasonForm,
    RemovalForm,
    SanctionForm,
    TransmissionForm,
)
from moderation.models import (
    OPEN_STATUSES,
    Appeal,
    AppealStatus,
    CaseFile,
    FilterRule,
    HeldMessage,
    HeldStatus,
    MisuseMeasure,
    ModerationRecord,
    ModeratorNote,
    Notice,
    RaidMode,
    Report,
    ReportStatus,
    RoomModeratorAction,
    SafetySignal,
    Sanction,
    StatementOfReasons,
    ThreatEscalation,
    TrustedFlagger,
)
from moderation.templatetags.moderation_admin import staff_datetime
from rooms.admin import MessageAdmin, PrivateRoomMessageAdmin
from rooms.models import Message, PrivateRoomMessage, Room, RoomKind

MAX_BULK = 200
PURGE_URL = "admin:moderation_sanction_purge_add"
# Where a moderator files the report (PHAROS has no API: a person fills its form).
PHAROS_FORM_URL = "https://www.internet-signalement.gouv.fr/PharosS1/"


# --- bulk actions through a confirmation page -------------------------------------------------


@dataclass(frozen=True)
class BulkAction:
    label: str
    permission: str
    # (obj, actor, reason, via) -> None; with form_class: (obj, actor, cleaned_data, via).
    # `via`: the staff member's request, the carrier of a content operation it causes.
    run: Callable
    needs_reason: bool = False
    form_class: type | None = None
    # Which ModelAdmin.has_<name>_permission offers the action in the list.
    admin_permission: str = "change"


class BulkActionMixin:
    """Admin actions that lead to a confirmation page outside the admin's transaction."""

    bulk_actions: dict[str, BulkAction] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.actions = [self._redirecting(verb, bulk) for verb, bulk in self.bulk_actions.items()]

    def _redirecting(self, verb: str, bulk: BulkAction):
        @admin.action(description=bulk.label, permissions=[bulk.admin_permission])
        def action(modeladmin, request, queryset):
            ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True)[:MAX_BULK])
            url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_bulk", args=[verb])
            return HttpResponseRedirect(f"{url}?{urlencode({'ids': ids})}")

        action.__name__ = f"bulk_{verb}"
        return action

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "bulk/<str:verb>/",
                self.admin_site.admin_view(self.bulk_view),
                name="{}_{}_bulk".format(*info),
            ),
            *super().get_urls(),
        ]

    def bulk_view(self, request: HttpRequest, verb: str) -> HttpResponse:
        bulk = self.bulk_actions.get(verb)
        if bulk is None:
            raise PermissionDenied
        if not request.user.has_perm(bulk.permission):
            raise PermissionDenied
        raw_ids = request.POST.get("ids") or request.GET.get("ids", "")
        ids = [int(pk) for pk in raw_ids.split(",") if pk.isdigit()][:MAX_BULK]
        objects = list(self.get_queryset(request).filter(pk__in=ids))
        form_class = bulk.form_class or (ReasonForm if bulk.needs_reason else None)
        form = form_class(request.POST or None) if form_class is not None else None
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        if request.method == "POST" and (form is None or form.is_valid()):
            if bulk.form_class is not None:
                given = form.cleaned_data
            else:
                given = form.cleaned_data["reason"] if form is not None else ""
            done, via = 0, request_carrier(request)
            for obj in objects:
                try:
                    bulk.run(obj, request.user, given, via)
                    done += 1
                except Refused as refusal:
                    messages.error(request, f"{obj}: {refusal.detail}")
            messages.success(request, _("%(count)d élément(s) traité(s).") % {"count": done})
            return HttpResponseRedirect(changelist)
        return TemplateResponse(
            request,
            "admin/moderation/bulk_confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": bulk.label,
                "objects": objects,
                "ids": ",".join(str(obj.pk) for obj in objects),
                "form": form,
                "back": changelist,
            },
        )


# --- the queue --------------------------------------------------------------------------------


class OpenFilter(admin.SimpleListFilter):
    title = gettext_lazy("état")
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return [
            ("open", _("à traiter")),
            ("mine", _("pris en charge par moi")),
            ("closed", _("traités")),
            ("all", _("tous")),
        ]

    def choices(self, changelist):
        # "à traiter" is the default: the queue opens on what needs doing.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "open") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == "mine":
            return queryset.filter(status=ReportStatus.CLAIMED, claimed_by=request.user)
        if value == "closed":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


def _claim(report, actor, reason, via=None):
    actions.do_claim_report(report, actor=actor)


def _dismiss(report, actor, reason, via=None):
    actions.do_dismiss_report(report, actor=actor, reason=reason)


# An excerpt in the queue is a line, not the message: the report page has the rest.
EXCERPT_CHARS = 90


def queue_excerpt(report) -> str:
    """The reported text as it was seen (the snapshot's), shortened, for the queue.

    Only a public room's: any member can read it, so listing it is no look at
    anyone's private exchanges. A private room's or a conversation's text stays
    behind the report's own gate (decide_view asks for a reason, the audit trail
    records it): the queue says "contenu privé" instead (docs/moderation.md)."""
    if report.room is None or report.room.kind != RoomKind.PUBLIC:
        return _("contenu privé : motif demandé à l'ouverture")
    body = next(
        (
            entry.get("body", "")
            for entry in report.context
            if isinstance(entry, dict) and entry.get("id") == report.target_message_id
        ),
        None,
    )
    if body is None:  # an older report without the message in its snapshot
        body = report.target_message.body if report.target_message else ""
    return "« {} »".format(Truncator(" ".join(body.split())).chars(EXCERPT_CHARS))


def pending_review_mark(report) -> str:
    """The queue's mark of a message hidden pending review (pending_hides.py)."""
    if not report.hidden_pending_review:
        return ""
    return format_html(
        '<br><strong class="pending-review">{}</strong>', _("masqué en attente d'examen")
    )


def queue_badge(counts: dict | None = None) -> str:
    """The counts behind the moderators' badge (refreshed by queue-badge.js)."""
    counts = counts if counts is not None else queries.queue_counts()
    spans = {
        name: format_html('<span data-count="{}">{}</span>', name, counts[name])
        for name in ("open", "urgent", "overdue", "held", "appeals")
    }
    return format_html(
        '<span class="moderation-badge" data-queue-url="{}">{}</span>',
        reverse("moderation:api_queue"),
        format_html(
            _(
                "{open} à traiter, dont {urgent} urgents et {overdue} en retard · "
                "{held} messages retenus · {appeals} recours"
            ),
            **spans,
        ),
    )


@admin.register(Report)
class ReportAdmin(ReportConsoleViewsMixin, BulkActionMixin, admin.ModelAdmin):
    # One reason covers the queue for a while; a report about private content asks
    # for its own (decide_view). Each page is recorded (audit/looks.py).
    look_policy = LookPolicy.MODEL
    # Severity and deadline first: what to do next reads at a glance, even on a narrow screen.
    list_display = (
        "severity_badge",
        "deadline_display",
        "category",
        "target",
        "reporters",
        "status",
        "claimed_by",
        "source",
        "created",
    )
    list_display_links = ("category",)
    list_filter = (OpenFilter, "severity", "category", "source", "is_trusted_flagger")
    search_fields = ("target_user__username", "reporter__username")
    list_select_related = ("target_user", "target_message", "claimed_by", "room")
    list_per_page = 50
    # A filtered queue (a category, a source) does not also count every report ever
    # made for its "(N au total)" link: a figure nobody works from, a scan of the table.
    show_full_result_count = False
    bulk_actions = {
        "claim": BulkAction(gettext_lazy("Prendre en charge"), "moderation.change_report", _claim),
        "dismiss": BulkAction(
            gettext_lazy("Classer sans suite"),
            "moderation.change_report",
            _dismiss,
            needs_reason=True,
        ),
    }

    def get_queryset(self, request):
        # The queue lists one row per reported item: the group's primary.
        return super().get_queryset(request).filter(duplicate_of__isnull=True)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("gravité"), ordering="severity")
    def severity_badge(self, report):
        return format_html(
            '<span class="severity-{}">{}</span>', report.severity, report.get_severity_display()
        )

    # One column for who reported: how many, their summed precision (moderation/reputation.py)
    # and a trusted flagger's mark; three columns would not fit 1280 px beside the excerpt.
    @admin.display(description=gettext_lazy("signalements"), ordering="reporter_weight")
    def reporters(self, report):
        trusted = (
            format_html('<br><span class="report-trusted">{}</span>', _("signaleur de confiance"))
            if report.is_trusted_flagger
            else ""
        )
        return format_html(
            '{}<br><span class="report-weight">{} {}</span>{}',
            report.reporter_count,
            _("fiabilité"),
            f"{report.reporter_weight:.2f}",
            trusted,
        )

    @admin.display(description=gettext_lazy("cible"))
    def target(self, report):
        if report.target_message_id:
            return format_html(
                '{}<br><span class="report-excerpt">{}</span>{}',
                _("message #%(id)s de %(user)s")
                % {"id": report.target_message_id, "user": report.target_user},
                queue_excerpt(report),
                pending_review_mark(report),
            )
        if report.target_user_id:
            return _("compte %(user)s") % {"user": report.target_user}
        if report.notice_id:
            return _("notification publique")
        return "—"

    @admin.display(description=gettext_lazy("à traiter avant"), ordering="deadline")
    def deadline_display(self, report):
        if report.is_overdue:
            return format_html(
                '<span class="overdue">{} ({})</span>',
                staff_datetime(report.deadline),
                _("en retard"),
            )
        return staff_datetime(report.deadline)

    change_list_template = "admin/moderation/report/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "title": _("File de modération"),
            **(extra_context or {}),
            "queue_badge": queue_badge(),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="moderation_report_decide",
            ),
            path(
                "<int:pk>/claim/",
                self.admin_site.admin_view(self.claim_view),
                name="moderation_report_claim",
            ),
            path(
                "<int:pk>/escalate/",
                self.admin_site.admin_view(self.escalate_view),
                name="moderation_report_escalate",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A report opens on its decision page.
        if not str(object_id).isdigit():
            raise Http404
        return HttpResponseRedirect(
            reverse("admin:moderation_report_decide", args=[int(object_id)])
        )

    def _report(self, request, pk) -> Report:
        report = get_object_or_404(Report, pk=pk)
        if not (self.has_change_permission(request) or self.may_open_report(request, report)):
            raise PermissionDenied
        return report

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self._report(request, pk)
        if report.duplicate_of_id:
            return HttpResponseRedirect(
                reverse("admin:moderation_report_decide", args=[report.duplicate_of_id])
            )
        if report.room is not None and report.room.kind != RoomKind.PUBLIC:
            # A private room or conversation (its text, versions and context snapshot):
            # the moderator states why they open this one.
            refusal = access_gate(
                request,
                AuditEvent.VIEW_DIRECT_CONVERSATION
                if report.room.is_direct
                else AuditEvent.VIEW_PRIVATE_ROOM_MESSAGES,
                "moderation.report",
                report.pk,
                context=self.admin_site.each_context(request),
            )
            if refusal is not None:
                return refusal
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                self._decide(request, report, form.cleaned_data)
            except Refused as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(request, _("Décision enregistrée."))
                pending = report.escalations.filter(
                    transmitted_at__isnull=True, declined_at__isnull=True
                ).first()
                if pending is not None:
                    # The case calls for a notification (a child-safety case with a
                    # measure, a threat to life): its page is the next step.
                    messages.warning(
                        request,
                        _(
                            "Signalez maintenant ce cas à PHAROS, puis enregistrez ce qui a "
                            "été transmis et le numéro de signalement."
                        ),
                    )
                    return HttpResponseRedirect(
                        reverse("admin:moderation_threatescalation_change", args=[pending.pk])
                    )
                return HttpResponseRedirect(reverse("admin:moderation_report_changelist"))
        group = [report, *report.duplicates.select_related("reporter").order_by("created")]
        message = report.target_message
        # The text as reported, and every version of it: authors edit their messages.
        versions = list(message.versions.all()) if message is not None else []
        return TemplateResponse(
            request,
            "admin/moderation/report/decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Signalement #%(id)s") % {"id": report.pk},
                "report": report,
                "group": group,
                "form": form if report.is_open else None,
                "history": queries.target_history(report),
                "time_zone": timezone.get_current_timezone_name(),
                "record": ModerationRecord.objects.filter(user=report.target_user_id).first(),
                "escalations": report.escalations.all(),
                "reported_text": message.body_at_version(report.target_message_version or 0)
                if message is not None
                else None,
                "message_versions": versions,
                **self.console_context(request, report),
            },
        )

    def _decide(self, request, report: Report, data: dict) -> None:
        outcome = data["outcome"]
        if outcome == DecisionForm.OUTCOME_DISMISS:
            actions.do_dismiss_report(
                report,
                actor=request.user,
                reason=data["reason"],
                manifestly_unfounded=data["manifestly_unfounded"],
            )
            return
        kind = outcome.removeprefix("remove_") if outcome != "remove" else None
        actions.do_decide_report(
            report,
            actor=request.user,
            decision=data["reason"],
            remove_message=outcome.startswith("remove"),
            sanction_kind=kind,
            room=None if data["site_wide"] else report.room,
            duration_minutes=data["duration_minutes"],
            ground=data["ground"] or None,
            clause=data["clause"] or None,
            threat_to_life=data["threat_to_life"],
            legal_provision=data["legal_provision"] or None,
            via=request_carrier(request),
        )

    def claim_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self._report(request, pk)
        if request.method != "POST":
            raise PermissionDenied
        try:
            actions.do_claim_report(report, actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.detail)
        return HttpResponseRedirect(reverse("admin:moderation_report_decide", args=[pk]))

    def escalate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self._report(request, pk)
        if request.method != "POST":
            raise PermissionDenied
        escalation = actions.do_escalate_threat(report, actor=request.user)
        return HttpResponseRedirect(
            reverse("admin:moderation_threatescalation_change", args=[escalation.pk])
        )


# --- sanctions --------------------------------------------------------------------------------


def _lift(sanction, actor, reason, via=None):
    actions.do_lift_sanction(sanction, actor=actor, reason=reason)


class ActiveFilter(admin.SimpleListFilter):
    """In force or not, by the model's own `active()` (sanctions, raid modes)."""

    title = gettext_lazy("en vigueur")
    parameter_name = "en_vigueur"

    def lookups(self, request, model_admin):
        return [("1", _("oui")), ("0", _("non"))]

    def queryset(self, request, queryset):
        active = queryset.model.objects.active().values("pk")
        if self.value() == "1":
            return queryset.filter(pk__in=active)
        if self.value() == "0":
            return queryset.exclude(pk__in=active)
        return queryset


@admin.register(Sanction)
class SanctionAdmin(BulkActionMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "kind",
        "room",
        "starts_at",
        "ends_at",
        "is_active",
        "automated",
        "issued_by",
    )
    list_filter = (ActiveFilter, "kind", "automated")
    search_fields = ("user__username",)
    list_select_related = ("user", "room", "issued_by")
    readonly_fields = [field.name for field in Sanction._meta.fields]
    bulk_actions = {
        "lift": BulkAction(
            gettext_lazy("Lever les sanctions"), "moderation.change_sanction", _lift, True
        ),
    }

    @admin.display(description=gettext_lazy("en vigueur"), boolean=True)
    def is_active(self, sanction):
        return sanction.is_active

    def get_urls(self):
        return [
            # A form that issues a sanction, like the add view, and shows no one's
            # data: named "_add" so that the looks gate lets it through (audit/looks.py).
            path(
                "purge/",
                self.admin_site.admin_view(self.purge_view),
                name="moderation_sanction_purge_add",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "purge_url": reverse(PURGE_URL)}
        return super().changelist_view(request, extra_context)

    def purge_view(self, request: HttpRequest) -> HttpResponse:
        """ "Bannir et purger": calls do_ban_and_purge (its own transaction)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BanPurgeForm(request.POST or None, initial={"user": request.GET.get("user", "")})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                sanction = actions.do_ban_and_purge(
                    queries.user_named(data["user"]),
                    actor=request.user,
                    purge_hours=data["purge_hours"],
                    room=data["room"],
                    duration_minutes=data["duration_minutes"],
                    reason=data["reason"],
                    ground=data["ground"],
                    clause=data["clause"] or None,
                    legal_provision=data["legal_provision"] or None,
                    via=request_carrier(request),
                )
            except Refused as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(
                    request,
                    _("%(sanction)s ; %(count)d message(s) masqué(s).")
                    % {
                        "sanction": sanction,
                        "count": len(sanction.statement.purged_messages),
                    },
                )
                return HttpResponseRedirect(reverse("admin:moderation_sanction_changelist"))
        return TemplateResponse(
            request,
            "admin/moderation/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Bannir et purger"),
                "form": form,
                "submit": _("Bannir et purger"),
            },
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """The sanction form: calls do_issue_sanction (its own transaction)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"user": request.GET.get("user", "")}
        if request.GET.get("room"):
            initial["room"] = Room.objects.filter(slug=request.GET["room"]).first()
        form = SanctionForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                sanction = actions.do_issue_sanction(
                    queries.user_named(data["user"]),
                    actor=request.user,
                    kind=data["kind"],
                    room=data["room"],
                    duration_minutes=data["duration_minutes"],
                    reason=data["reason"],
                    ground=data["ground"],
                    clause=data["clause"] or None,
                    legal_provision=data["legal_provision"] or None,
                )
            except Refused as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(
                    request, _("Sanction prononcée : %(sanction)s.") % {"sanction": sanction}
                )
                return HttpResponseRedirect(reverse("admin:moderation_sanction_changelist"))
        return TemplateResponse(
            request,
            "admin/moderation/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Prononcer une sanction"),
                "form": form,
                "submit": _("Prononcer"),
            },
        )


# --- appeals ----------------------------------------------------------------------------------


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ("__str__", "appellant", "status", "created", "decided_by")
    list_filter = ("status",)
    list_select_related = ("statement", "report", "appellant", "decided_by")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if not str(object_id).isdigit():
            raise Http404
        appeal = get_object_or_404(Appeal, pk=object_id)
        may_decide = self.has_change_permission(request) and appeal.status == AppealStatus.OPEN
        form = AppealDecisionForm(request.POST or None) if may_decide else None
        if request.method == "POST" and form is not None and form.is_valid():
            try:
                actions.do_decide_appeal(
                    appeal,
                    actor=request.user,
                    reverse_decision=form.cleaned_data["reverse_decision"],
                    answer=form.cleaned_data["answer"],
                    via=request_carrier(request),
                )
            except Refused as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(request, _("Recours décidé."))
                return HttpResponseRedirect(reverse("admin:moderation_appeal_changelist"))
        return TemplateResponse(
            request,
            "admin/moderation/appeal/decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Recours #%(id)s") % {"id": appeal.pk},
                "appeal": appeal,
                "statement": appeal.statement,
                "form": form,
            },
        )


# --- held messages ----------------------------------------------------------------------------


def _release(held, actor, reason, via=None):
    actions.do_release_held_message(held, actor=actor, via=via)


def _reject(held, actor, reason, via=None):
    actions.do_reject_held_message(held, actor=actor, reason=reason)


@admin.register(HeldMessage)
class HeldMessageAdmin(BulkActionMixin, admin.ModelAdmin):
    # Their text: a page showing a private room's or a direct conversation's held
    # messages is recorded as a look at private content (audit/looks.py).
    private_content_room = "room"
    list_display = ("created", "room", "author", "body", "rule", "raid_mode", "status")
    readonly_fields = [field.name for field in HeldMessage._meta.fields]
    list_filter = ("status",)
    list_select_related = ("room", "author", "rule", "raid_mode__room")
    bulk_actions = {
        "release": BulkAction(
            gettext_lazy("Publier les messages"), "moderation.change_heldmessage", _release
        ),
        "reject": BulkAction(
            gettext_lazy("Refuser les messages"), "moderation.change_heldmessage", _reject, True
        ),
    }

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if "status__exact" not in request.GET:
            queryset = queryset.filter(status=HeldStatus.PENDING)
        return queryset


# --- escalations ------------------------------------------------------------------------------


@admin.register(ThreatEscalation)
class ThreatEscalationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # The list needs a reason, and each escalation its own (it carries connection data).
    look_policy = LookPolicy.OBJECT
    access_event = AuditEvent.VIEW_CONNECTION_RECORDS
    list_display = (
        "created",
        "report",
        "reason",
        "authority",
        "transmitted_at",
        "authority_reference",
        "declined_at",
    )
    list_filter = ("reason", "authority", ("transmitted_at", admin.EmptyFieldListFilter))
    list_select_related = ("report",)

    def look_subjects(self, escalation) -> tuple[list[int], list[int]]:
        return [escalation.report.target_user_id], [escalation.report.room_id]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not str(object_id).isdigit():
            raise Http404
        escalation = get_object_or_404(ThreatEscalation, pk=object_id)
        # It carries the suspect's connection data: the viewer states why.
        refusal = access_gate(
            request,
            AuditEvent.VIEW_CONNECTION_RECORDS,
            "moderation.threatescalation",
            escalation.pk,
            context=self.admin_site.each_context(request),
        )
        if refusal is not None:
            return refusal
        may_change = (
            request.user.has_perm("moderation.change_threatescalation") and escalation.is_pending
        )
        decline = "decline_reason" in request.POST
        form = TransmissionForm(None if decline else request.POST or None) if may_change else None
        decline_form = (
            DeclineEscalationForm(request.POST if decline else None) if may_change else None
        )
        if request.method == "POST" and may_change:
            try:
                if decline and decline_form.is_valid():
                    actions.do_decline_escalation(
                        escalation,
                        actor=request.user,
                        reason=decline_form.cleaned_data["decline_reason"],
                    )
                    messages.success(request, _("Non-transmission enregistrée."))
                    return HttpResponseRedirect(request.path)
                if not decline and form.is_valid():
                    actions.do_mark_escalation_transmitted(
                        escalation,
                        actor=request.user,
                        authority=form.cleaned_data["authority"],
                        reference=form.cleaned_data["reference"],
                        category=form.cleaned_data["category"],
                        items=form.cleaned_data["items"],
                        summary=form.cleaned_data["summary"],
                    )
                    messages.success(request, _("Transmission enregistrée."))
                    return HttpResponseRedirect(request.path)
            except Refused as refusal:
                (decline_form if decline else form).add_error(None, refusal.detail)
        return TemplateResponse(
            request,
            "admin/moderation/escalation.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Signalement aux autorités (article 18) : %(reason)s")
                % {"reason": escalation.get_reason_display()},
                "escalation": escalation,
                "information": escalation.information,
                "pharos_url": PHAROS_FORM_URL,
                "time_zone": timezone.get_current_timezone_name(),
                "form": form,
                "decline_form": decline_form,
            },
        )


# --- configuration and records ----------------------------------------------------------------


@admin.register(FilterRule)
class FilterRuleAdmin(admin.ModelAdmin):
    look_policy = LookPolicy.NO_PERSONAL_DATA  # patterns and settings, nobody's data
    list_display = ("name", "room", "kind", "action", "category", "is_active")
    list_filter = ("kind", "action", "is_active")
    list_editable = ("is_active",)
    search_fields = ("name", "pattern")


@admin.register(TrustedFlagger)
class TrustedFlaggerAdmin(admin.ModelAdmin):
    list_display = ("organisation", "user", "is_active", "created_at")
    raw_id_fields = ("user",)


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created", "category", "location", "acknowledged_at")
    list_filter = ("category",)


@admin.register(SafetySignal)
class SafetySignalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    private_content_room = "room"  # the excerpt quotes the conversation
    list_display = ("created", "kind", "user", "room")
    list_filter = ("kind",)
    list_select_related = ("user", "room")


@admin.register(StatementOfReasons)
class StatementOfReasonsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created",
        "user",
        "measure",
        "scope",
        "ground",
        "clause",
        "legal_provision",
        "category",
        "source_type",
        "automated_decision",
    )
    list_filter = ("measure", "ground", "clause", "category", "source_type", "automated_decision")
    search_fields = ("user__username",)


@admin.register(ModerationRecord)
class ModerationRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "violations", "unfounded_reports", "reporting_suspended_until")
    ordering = ("-violations",)
    search_fields = ("user__username",)


class MisuseInForceFilter(admin.SimpleListFilter):
    """A warning is in force within its window, a suspension until its end."""

    title = gettext_lazy("en vigueur")
    parameter_name = "en_vigueur"

    def lookups(self, request, model_admin):
        return [("1", _("oui")), ("0", _("non"))]

    def queryset(self, request, queryset):
        in_force = queries.misuse_measures_in_force().values("pk")
        if self.value() == "1":
            return queryset.filter(pk__in=in_force)
        if self.value() == "0":
            return queryset.exclude(pk__in=in_force)
        return queryset


@admin.register(MisuseMeasure)
class MisuseMeasureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """DSA Art. 23 steps (moderation/actions/misuse.py): who was warned or suspended,
    when, until when, on which figures. Written only by the procedure; a
    suspension is ended by deciding the appeal against its statement."""

    list_display = ("created", "user", "kind", "ends_at", "in_force", "statement", "sanction")
    list_filter = (MisuseInForceFilter, "kind", ("created", admin.DateFieldListFilter))
    search_fields = ("user__username",)
    list_select_related = ("user", "statement", "sanction")
    date_hierarchy = "created"
    fields = ("kind", "user", "created", "ends_at", "statement", "sanction", "figures_table")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("en vigueur"), boolean=True)
    def in_force(self, measure: MisuseMeasure) -> bool:
        return queries.misuse_measure_in_force(measure)

    @admin.display(description=gettext_lazy("chiffres constatés"))
    def figures_table(self, measure: MisuseMeasure) -> str:
        rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{}</td></tr>",
            (
                (label, measure.figures[key])
                for key, label in FIGURE_LABELS
                if key in measure.figures
            ),
        )
        return format_html("<table>{}</table>", rows) if rows else "—"


# What each figure of an Art. 23 step means (moderation/actions/misuse.py).
FIGURE_LABELS = (
    ("decided_reports", gettext_lazy("signalements examinés dans la période")),
    ("manifestly_unfounded", gettext_lazy("dont manifestement infondés")),
    ("illegal_contents", gettext_lazy("contenus manifestement illicites dans la période")),
    ("window_days", gettext_lazy("période observée (jours)")),
    ("threshold_decided", gettext_lazy("seuil : signalements examinés")),
    ("threshold_percent", gettext_lazy("seuil : pourcentage infondé")),
    ("threshold", gettext_lazy("seuil : contenus illicites")),
)


# --- messages: removals from the message list -------------------------------------------------


def _remove(message, actor, data, via=None):
    actions.do_remove_message(
        message,
        actor=actor,
        reason=data["reason"],
        ground=data["ground"] or None,
        clause=data["clause"] or None,
        legal_provision=data["legal_provision"] or None,
        via=via,
    )


class ModeratedMessageAdmin(BulkActionMixin, MessageAdmin):
    """Rooms' message list, whose bulk removal is moderation's: each removed
    message gets its author's statement of reasons and counts in the
    transparency report (do_remove_message), like a removal from the queue."""

    bulk_actions = {
        "remove": BulkAction(
            gettext_lazy("Supprimer les messages (avec exposé des motifs)"),
            "moderation.add_sanction",
            _remove,
            form_class=RemovalForm,
            admin_permission="remove",
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.actions = [*self.actions, ban_and_purge_author]

    def has_remove_permission(self, request) -> bool:
        # The list is read-only; removing is a moderator's power, as in the API.
        return request.user.has_perm("moderation.add_sanction")


@admin.action(description=gettext_lazy("Bannir et purger l'auteur"), permissions=["remove"])
def ban_and_purge_author(modeladmin, request, queryset):
    """Leads to the "Bannir et purger" form for the selected messages' author."""
    authors = set(queryset.values_list("author__username", flat=True)[: MAX_BULK + 1])
    if len(authors) != 1:
        modeladmin.message_user(
            request, _("Choisissez les messages d'un seul auteur."), messages.ERROR
        )
        return None
    return HttpResponseRedirect(f"{reverse(PURGE_URL)}?{urlencode({'user': authors.pop()})}")


# Rooms registers the list; moderation owns what a removal means.
admin.site.unregister(Message)
admin.site.register(Message, ModeratedMessageAdmin)


# --- room moderators' actions -------------------------------------------------------------------


def _reverse_room_action(room_action, actor, reason, via=None):
    actions.do_reverse_room_moderator_action(room_action, actor=actor, reason=reason)


class ReversedFilter(admin.SimpleListFilter):
    title = gettext_lazy("annulée par l'équipe")
    parameter_name = "annulee"

    def lookups(self, request, model_admin):
        return [("1", _("oui")), ("0", _("non"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(reversed_at__isnull=self.value() == "0")
        return queryset


@admin.register(RoomModeratorAction)
class RoomModeratorActionAdmin(BulkActionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """ "Actions des modérateurs de salon": what rooms' owners and moderators did
    in their rooms; staff reverse a measure (the message restored, the sanction
    lifted, the member told) through do_reverse_room_moderator_action."""

    list_display = (
        "created",
        "room",
        "actor",
        "role",
        "kind",
        "target_user",
        "message_id",
        "report",
        "reversed_at",
    )
    list_filter = (ReversedFilter, "kind", "role")
    search_fields = ("room__slug", "actor__username", "target_user__username")
    list_select_related = ("room", "actor", "target_user", "report")
    bulk_actions = {
        "reverse": BulkAction(
            gettext_lazy("Annuler ces mesures (message rétabli, sanction levée)"),
            "moderation.change_roommoderatoraction",
            _reverse_room_action,
            True,
            admin_permission="view",
        ),
    }


# --- trust levels on a member's admin page ------------------------------------------------


def trust_panel(user) -> tuple[str, str]:
    """The member's trust level and, level by level, which conditions hold (moderation/trust.py)."""
    standing = trust.standing(user)
    rows = format_html_join(
        "",
        "<li><strong>{} · {}</strong><ul>{}</ul></li>",
        (
            (
                level,
                trust.level_name(level),
                format_html_join(
                    "",
                    "<li>{} {}{}</li>",
                    (
                        (
                            "✓" if requirement.met else "✗",
                            requirement.text,
                            f" ({requirement.status})" if requirement.status else "",
                        )
                        for requirement in requirements
                    ),
                ),
            )
            for level, requirements in standing.requirements.items()
        ),
    )
    summary = format_html(
        "<p>{}</p><ul class='trust-levels'>{}</ul>",
        _("Niveau %(level)d · %(name)s") % {"level": standing.level, "name": standing.name},
        rows,
    )
    return _("Niveau de confiance"), summary


accounts_admin.register_member_panel(trust_panel)


# --- private rooms' messages: the same removals ------------------------------------------------


class ModeratedPrivateRoomMessageAdmin(ModeratedMessageAdmin, PrivateRoomMessageAdmin):
    """Private rooms' messages, behind their stated reason (rooms/admin.py), with
    the same removal (a statement each) and "ban and purge" as the public list."""


admin.site.unregister(PrivateRoomMessage)
admin.site.register(PrivateRoomMessage, ModeratedPrivateRoomMessageAdmin)


# --- raid mode ----------------------------------------------------------------------------------


def _extend_raid(raid, actor, data, via=None):
    actions.do_extend_raid_mode(raid, actor=actor, minutes=data["minutes"], reason=data["reason"])


def _end_raid(raid, actor, reason, via=None):
    actions.do_end_raid_mode(raid, actor=actor, reason=reason)


class RaidActiveFilter(ActiveFilter):
    title = gettext_lazy("en cours")
    parameter_name = "en_cours"


@admin.register(RaidMode)
class RaidModeAdmin(BulkActionMixin, admin.ModelAdmin):
    """Raid modes (docs/moderation.md, "Mode raid"): switched on here (a reason
    and an OTP-verified session, as the whole back office), extended or ended
    with a reason; the automatic ones show the figures that tripped them."""

    look_policy = LookPolicy.NO_PERSONAL_DATA  # a scope, times and counts, nobody's data
    list_display = (
        "__str__",
        "scope",
        "trigger",
        "started_at",
        "ends_at",
        "is_active",
        "started_by",
        "ended_by",
    )
    list_filter = (RaidActiveFilter, "trigger")
    list_select_related = ("room", "started_by", "ended_by")
    readonly_fields = [field.name for field in RaidMode._meta.fields]
    bulk_actions = {
        "extend": BulkAction(
            gettext_lazy("Prolonger le mode raid"),
            "moderation.change_raidmode",
            _extend_raid,
            form_class=RaidExtensionForm,
        ),
        "end": BulkAction(
            gettext_lazy("Arrêter le mode raid"), "moderation.change_raidmode", _end_raid, True
        ),
    }

    @admin.display(description=gettext_lazy("portée"))
    def scope(self, raid):
        return raid.room if raid.room_id else _("tout le site")

    @admin.display(description=gettext_lazy("en cours"), boolean=True)
    def is_active(self, raid):
        return raid.is_active

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """The switch: calls do_start_raid_mode (its own transaction)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RaidModeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                raid = actions.do_start_raid_mode(
                    actor=request.user,
                    room=data["room"],
                    duration_minutes=data["duration_minutes"],
                    reason=data["reason"],
                )
            except Refused as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(
                    request,
                    _("Mode raid activé jusqu'au %(until)s.")
                    % {"until": staff_datetime(raid.ends_at)},
                )
                return HttpResponseRedirect(reverse("admin:moderation_raidmode_changelist"))
        return TemplateResponse(
            request,
            "admin/moderation/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Activer le mode raid"),
                "form": form,
                "submit": _("Activer"),
            },
        )


# --- the case file of an account (docs/moderation.md, "Le dossier d'un compte") ---------------


@admin.register(CaseFile)
class CaseFileAdmin(admin.ModelAdmin):
    """One timeline per account (moderation/case_files.py). Opening one is a look at
    that person's data: its own stated reason (OBJECT), and an entry naming the
    account and everyone else the page showed."""

    look_policy = LookPolicy.OBJECT
    access_event = AuditEvent.VIEW_CASE_FILE
    list_display = ("username", "date_joined", "is_active")
    search_fields = ("username",)
    ordering = ("username",)
    fields = ("username",)
    change_form_template = "admin/moderation/casefile/timeline.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            raise Http404
        subject = get_object_or_404(CaseFile, pk=int(object_id))
        if not self.has_view_permission(request, subject):
            raise PermissionDenied
        can_write = request.user.has_perm("moderation.add_moderatornote")
        form = ModeratorNoteForm(request.POST or None) if can_write else None
        if request.method == "POST":
            if form is None:
                raise PermissionDenied
            if form.is_valid():
                try:
                    actions.do_add_moderator_note(
                        subject, form.cleaned_data["body"], actor=request.user
                    )
                except Refused as refusal:
                    form.add_error(None, refusal.detail)
                else:
                    messages.success(request, _("Note ajoutée au dossier."))
                    return HttpResponseRedirect(request.path)
        try:
            page_number = int(request.GET.get("p", "1"))
        except ValueError:
            page_number = 1
        page = case_files.case_file_page(subject.pk, page_number)
        # This page records its own entry: the account, and the others it named.
        reason = mark_look_recorded(request)
        do_record_staff_access(
            AuditEvent.VIEW_CASE_FILE,
            actor=request.user,
            target_type="accounts.user",
            target_id=subject.pk,
            reason=reason,
            ip_address=request_ip(request),
            details={
                "view": "moderation_casefile_change",
                "page": page.page,
                "rows": len(page.entries),
            },
            people={subject.pk, *case_files.people_shown(page)},
            rooms=case_files.rooms_shown(page),
        )
        return TemplateResponse(
            request,
            self.change_form_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Dossier de %(user)s") % {"user": subject.get_username()},
                "subject": subject,
                "page": page,
                "form": form,
                "time_zone": timezone.get_current_timezone_name(),
                "record": ModerationRecord.objects.filter(user=subject.pk).first(),
            },
        )


@admin.register(ModeratorNote)
class ModeratorNoteAdmin(admin.ModelAdmin):
    """Notes are written and rewritten through moderation's actions (an audit entry
    each, the text kept erasable), never by the admin's own save."""

    look_policy = LookPolicy.MODEL
    list_display = ("created", "subject", "excerpt", "author", "updated")
    search_fields = ("subject__username",)
    list_select_related = ("subject", "author")
    raw_id_fields = ("subject",)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("note"))
    def excerpt(self, note: ModeratorNote) -> str:
        return Truncator(note.body).chars(80)

    def _form_page(self, request, form, title):
        return TemplateResponse(
            request,
            "admin/moderation/form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "form": form,
                "submit": _("Enregistrer"),
            },
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewModeratorNoteForm(
            request.POST or None, initial={"subject": request.GET.get("subject", "")}
        )
        if request.method == "POST" and form.is_valid():
            try:
                subject = queries.user_named(form.cleaned_data["subject"].strip())
                actions.do_add_moderator_note(
                    subject, form.cleaned_data["body"], actor=request.user
                )
            except Refused as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(request, _("Note ajoutée au dossier."))
                return HttpResponseRedirect(
                    reverse("admin:moderation_casefile_change", args=[subject.pk])
                )
        return self._form_page(request, form, _("Ajouter une note de modération"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            raise Http404
        note = get_object_or_404(ModeratorNote.objects.select_related("subject"), pk=object_id)
        if not self.has_view_or_change_permission(request, note):
            raise PermissionDenied
        if not self.has_change_permission(request, note):
            return super().change_view(request, object_id, form_url, extra_context)
        form = ModeratorNoteForm(request.POST or None, initial={"body": note.body})
        if request.method == "POST" and form.is_valid():
            try:
                actions.do_edit_moderator_note(note, form.cleaned_data["body"], actor=request.user)
            except Refused as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(request, _("Note modifiée."))
                return HttpResponseRedirect(
                    reverse("admin:moderation_casefile_change", args=[note.subject_id])
                )
        return self._form_page(
            request,
            form,
            _("Note sur %(user)s, écrite le %(date)s")
            % {"user": note.subject, "date": staff_datetime(note.created)},
        )
