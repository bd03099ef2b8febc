"""Members' pages: "Mes décisions" (statements of reasons, appeals, the outcome
of their reports), the public notice form (DSA Art. 16), and the community
rules and terms of use that decisions cite (rules.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts import throttles
from core.refusals import Refused
from moderation import actions, rules, trust
from moderation.forms import AppealForm, NoticeForm, ThreadMessageForm
from moderation.models import Report, StatementOfReasons


@login_required
def decisions(request: HttpRequest) -> HttpResponse:
    """Reachable by a banned member too: a ban closes sockets, not the account."""
    statements = (
        StatementOfReasons.objects.disclosed().filter(user=request.user).prefetch_related("appeals")
    )
    reports = (
        Report.objects.filter(reporter=request.user)
        .annotate(staff_messages=Count("thread", filter=Q(thread__from_staff=True)))
        .order_by("-created")[:50]
    )
    return render(
        request,
        "moderation/decisions.html",
        {"title": _("Mes décisions"), "statements": statements, "reports": reports},
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(StatementOfReasons.objects.disclosed(), pk=pk, user=request.user)
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_file_appeal(statement, actor=request.user, text=form.cleaned_data["text"])
        except Refused as refusal:
            form.add_error(None, refusal.detail)
        else:
            messages.success(
                request, _("Votre recours est enregistré : un autre modérateur l'examinera.")
            )
            return redirect(statement)
    return render(
        request,
        "moderation/decision.html",
        {
            "title": _("Décision de modération"),
            "statement": statement,
            "appeals": statement.appeals.all(),
            "form": form if statement.can_appeal else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """The outcome of one of the member's reports, and the appeal of a dismissal."""
    report = get_object_or_404(Report, pk=pk, reporter=request.user)
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_file_report_appeal(
                report, actor=request.user, text=form.cleaned_data["text"]
            )
        except Refused as refusal:
            form.add_error(None, refusal.detail)
        else:
            messages.success(
                request, _("Votre recours est enregistré : un autre modérateur l'examinera.")
            )
            return redirect("moderation:report", pk=report.pk)
    return render(
        request,
        "moderation/report.html",
        {
            "title": _("Suite de votre signalement"),
            "report": report,
            "appeals": report.appeals.all(),
            "form": form if report.can_appeal else None,
            **_thread_context(report),
        },
    )


def _thread_context(report: Report, reply_form=None) -> dict:
    """The thread with the moderator: shown once they wrote; answerable while open."""
    thread = list(report.thread.all())
    primary = report.duplicate_of or report
    may_reply = primary.is_open and any(entry.from_staff for entry in thread)
    return {
        "thread": thread,
        "reply_form": (reply_form or ThreadMessageForm()) if may_reply else None,
    }


@login_required
@require_http_methods(["POST"])
def report_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """The reporter answers the moderator who handles their report."""
    report = get_object_or_404(Report, pk=pk, reporter=request.user)
    form = ThreadMessageForm(request.POST)
    if form.is_valid():
        try:
            actions.do_post_report_thread_message(
                report, actor=request.user, body=form.cleaned_data["body"]
            )
        except Refused as refusal:
            form.add_error(None, refusal.detail)
        else:
            messages.success(request, _("Votre réponse est envoyée au modérateur."))
            return redirect("moderation:report", pk=report.pk)
    return render(
        request,
        "moderation/report.html",
        {
            "title": _("Suite de votre signalement"),
            "report": report,
            "appeals": report.appeals.all(),
            "form": None,
            **_thread_context(report, form),
        },
        status=400,
    )


@require_http_methods(["GET", "POST"])
def notice(request: HttpRequest) -> HttpResponse:
    """DSA Art. 16 notices, from anyone. Throttled per client address and per
    acknowledgement address (accounts/throttles.py), so that the form relays
    neither floods nor mail to strangers; a refusal shows the form again."""
    form = NoticeForm(request.POST or None, initial={"location": request.GET.get("url", "")})
    status = 200
    if request.method == "POST" and not throttles.consume(request, "notice"):
        form.is_valid()  # keeps what was typed, with its own errors
        form.add_error(
            None,
            _("Trop de notifications envoyées depuis votre connexion : réessayez dans une heure."),
        )
        status = 429
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["email"] and not throttles.consume(
            request, "notice_mail", key=data["email"].strip().casefold()
        ):
            form.add_error(
                "email",
                _(
                    "Cette adresse a déjà reçu plusieurs accusés de réception cette heure-ci : "
                    "réessayez plus tard, ou envoyez la notification sans adresse."
                ),
            )
            return _notice_form(request, form, status=429)
        try:
            actions.do_file_notice(
                category=data["category"],
                explanation=data["explanation"],
                location=data["location"],
                good_faith=data["good_faith"],
                name=data["name"],
                email=data["email"],
                actor=request.user if request.user.is_authenticated else None,
            )
        except Refused as refusal:
            form.add_error(None, refusal.detail)
        else:
            return render(
                request,
                "moderation/notice_received.html",
                {"title": _("Notification reçue"), "email": data["email"]},
            )
    return _notice_form(request, form, status=status)


def _notice_form(request: HttpRequest, form, *, status: int) -> HttpResponse:
    return render(
        request,
        "moderation/notice.html",
        {"title": _("Signaler un contenu illégal"), "form": form},
        status=status,
    )


def _clauses_page(request: HttpRequest, *, title, clauses, effective, intro) -> HttpResponse:
    return render(
        request,
        "moderation/clauses.html",
        {"title": title, "clauses": clauses, "effective": effective, "intro": intro},
    )


@require_GET
def rules_page(request: HttpRequest) -> HttpResponse:
    """/rules/: public, so that anyone can read them before signing up."""
    return _clauses_page(
        request,
        title=_("Règles de la communauté"),
        clauses=rules.RULES,
        effective=rules.RULES_EFFECTIVE_DATE,
        intro=_(
            "Chatsite est un lieu de discussion entre adultes. Ces règles disent ce qui est "
            "interdit et ce que fait la modération ; chaque décision cite la règle enfreinte "
            "par son numéro. Elles font partie des conditions d'utilisation."
        ),
    )


@require_GET
def terms_page(request: HttpRequest) -> HttpResponse:
    return _clauses_page(
        request,
        title=_("Conditions d'utilisation"),
        clauses=rules.TERMS,
        effective=rules.TERMS_EFFECTIVE_DATE,
        intro=_(
            "Le contrat entre vous et Chatsite : ce que nous vous offrons, ce que vous vous "
            "engagez à respecter et comment les désaccords se règlent."
        ),
    )


@never_cache
@login_required
@require_GET
def trust_level(request: HttpRequest) -> HttpResponse:
    """The member's trust level, what it allows and what unlocks the next one."""
    standing = trust.standing(request.user)
    levels = [
        {**row, "requirements": standing.requirements.get(row["level"], [])}
        for row in trust.gates_by_level()
    ]
    return render(
        request,
        "moderation/trust.html",
        {
            "standing": standing,
            "levels": levels,
            "next_name": trust.level_name(standing.next_level) if standing.next_level else "",
            "gates_on": trust.app_settings.TRUST_GATES,
        },
    )
