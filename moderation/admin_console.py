"""The report page's live-console moves (docs/moderation.md, "La console en
direct"): release, reassign, escalate to a senior moderator or to compliance,
and the thread with the reporter. ReportAdmin (admin.py) takes these views;
each calls its action in moderation/actions/console.py, which pushes the
change to every open console."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _

from core.refusals import Refused
from moderation import actions
from moderation.admin_metrics import metrics_view
from moderation.forms import EscalateForm, ReassignForm, ThreadMessageForm
from moderation.models import EscalationTier, Report


def reassign_candidates(report: Report):
    """Active staff who may work this report at its tier, the holder excepted."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
    allowed = [user.pk for user in staff if actions.may_handle(report, user)]
    return staff.filter(pk__in=allowed).exclude(pk=report.claimed_by_id)


class ReportConsoleViewsMixin:
    """Views and page context of the console's moves, for ReportAdmin."""

    def may_open_report(self, request, report: Report) -> bool:
        """Compliance officers read and work what was handed up to them."""
        return report.escalated_to == EscalationTier.COMPLIANCE and request.user.has_perm(
            "moderation.handle_compliance_report"
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/release/", view(self.release_view), name="moderation_report_release"),
            path("<int:pk>/reassign/", view(self.reassign_view), name="moderation_report_reassign"),
            path("<int:pk>/refer/", view(self.refer_view), name="moderation_report_refer"),
            path("<int:pk>/thread/", view(self.thread_view), name="moderation_report_thread"),
            path("metrics/", view(self.metrics_view), name="moderation_report_metrics"),
            *super().get_urls(),
        ]

    def console_context(self, request, report: Report) -> dict:
        """What the report page shows of the console: the threads and the forms."""
        threads = [
            (member, list(member.thread.select_related("author")))
            for member in [report, *report.duplicates.order_by("created")]
            if member.reporter_id is not None
        ]
        holder = report.claimed_by_id == request.user.pk
        return {
            "threads": threads,
            "may_write": report.is_open and holder,
            "thread_form": ThreadMessageForm(),
            # Prefixed: the report page holds the decision form's `reason` too (one id each).
            "reassign_form": ReassignForm(prefix="reassign", candidates=reassign_candidates(report))
            if report.is_open
            else None,
            "escalate_form": EscalateForm(prefix="refer") if report.is_open else None,
            "may_release": report.is_open and report.claimed_by_id is not None,
        }

    def metrics_view(self, request: HttpRequest) -> HttpResponse:
        return metrics_view(request, self.admin_site, self.opts)

    def _console_post(self, request: HttpRequest, pk: int) -> Report:
        if request.method != "POST":
            raise PermissionDenied
        report = get_object_or_404(Report, pk=pk)
        if not (self.has_change_permission(request) or self.may_open_report(request, report)):
            raise PermissionDenied
        return report

    def _back(self, pk: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:moderation_report_decide", args=[pk]))

    def _run(self, request, action, success: str) -> None:
        try:
            action()
        except Refused as refusal:
            messages.error(request, refusal.detail)
        else:
            messages.success(request, success)

    def release_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self._console_post(request, pk)
        self._run(
            request,
            lambda: actions.do_release_report(report, actor=request.user),
            _("Signalement rendu à la file."),
        )
        return self._back(pk)

    def reassign_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self._console_post(request, pk)
        form = ReassignForm(request.POST, prefix="reassign", candidates=reassign_candidates(report))
        if not form.is_valid():
            messages.error(request, _("Choisissez à qui confier le signalement."))
            return self._back(pk)
        data = form.cleaned_data
        self._run(
            request,
            lambda: actions.do_reassign_report(
                report, actor=request.user, to_user=data["to_user"], reason=data["reason"]
            ),
            _("Signalement confié à %(name)s.") % {"name": data["to_user"].get_username()},
        )
        return self._back(pk)

    def refer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self._console_post(request, pk)
        form = EscalateForm(request.POST, prefix="refer")
        if not form.is_valid():
            messages.error(request, _("Choisissez à qui transmettre, et dites pourquoi."))
            return self._back(pk)
        data = form.cleaned_data
        self._run(
            request,
            lambda: actions.do_escalate_report(
                report, actor=request.user, tier=data["tier"], reason=data["reason"]
            ),
            _("Signalement transmis : %(tier)s.") % {"tier": EscalationTier(data["tier"]).label},
        )
        return self._back(pk)

    def thread_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Posts to the thread of one report of the group (one reporter's)."""
        member = self._console_post(request, pk)
        form = ThreadMessageForm(request.POST)
        primary = member.duplicate_of_id or member.pk
        if not form.is_valid():
            messages.error(request, _("Écrivez un message."))
            return self._back(primary)
        self._run(
            request,
            lambda: actions.do_post_report_thread_message(
                member, actor=request.user, body=form.cleaned_data["body"]
            ),
            _("Message envoyé à l'auteur du signalement."),
        )
        return self._back(primary)
