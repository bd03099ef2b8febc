"""Member and staff pages of the accounts app: thin, the actions do the work."""

import json
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import actions, attestation, demo_issuer, documents, throttles
from accounts.forms import (
    AccountDeletionForm,
    DirectMessagePolicyForm,
    IdentityDocumentForm,
    TOTPConfirmForm,
)
from accounts.models import (
    AgeVerificationAttempt,
    AgeVerificationMethod,
    AgeVerificationOutcome,
    DocumentStatus,
    IdentityDocument,
    WalletRequest,
)
from accounts.wallet import demo as wallet_demo
from accounts.wallet import protocol as wallet_protocol

ROOMS_URL = "/rooms/"


# --- Age verification --------------------------------------------------------------------


@require_GET
@login_required
@never_cache
def age_status(request: HttpRequest) -> HttpResponse:
    user = request.user
    latest_document = IdentityDocument.objects.filter(user=user).order_by("-uploaded_at").first()
    last_attempt = AgeVerificationAttempt.objects.filter(user=user).first()
    return render(
        request,
        "accounts/age.html",
        {
            "attestation_available": bool(attestation.provider_url()),
            "demo_wallet": settings.DEBUG,
            "document_review_days": documents.pending_review_days(),
            "demo_provider": not settings.AGE_ATTESTATION_PROVIDER_URL and settings.DEBUG,
            "latest_document": latest_document,
            "document_pending": latest_document is not None
            and latest_document.status == DocumentStatus.PENDING,
            "last_attempt": last_attempt,
            "rooms_url": ROOMS_URL,
        },
    )


@require_GET
@login_required
@never_cache
def attestation_start(request: HttpRequest) -> HttpResponse:
    """302 to the provider with a fresh nonce and our absolute callback URL.
    A GET by contract (the provider's flow): it only issues a single-use nonce
    bound to this session, throttled per user (accounts/throttles.py)."""
    if not throttles.consume(request, "age_attestation"):
        return _attestation_limited(request)
    provider = attestation.provider_url()
    if not provider:
        messages.error(request, _("Aucun fournisseur d'attestation n'est configuré sur ce site."))
        return redirect("accounts_age")
    challenge = actions.do_issue_attestation_nonce(request.user, actor=request.user)
    request.session[attestation.SESSION_NONCE_KEY] = challenge.nonce
    query = urlencode({"nonce": challenge.nonce, "return_to": attestation.callback_url()})
    separator = "&" if "?" in provider else "?"
    return HttpResponseRedirect(f"{provider}{separator}{query}")


@require_GET
@login_required
@never_cache
def attestation_callback(request: HttpRequest) -> HttpResponse:
    if not throttles.consume(request, "age_attestation"):
        return _attestation_limited(request)
    if request.user.is_age_verified:
        messages.info(request, _("Votre âge est déjà vérifié."))
        return HttpResponseRedirect(ROOMS_URL)
    result = actions.do_verify_age_by_attestation(
        request.user,
        request.GET.get("token", ""),
        session_nonce=request.session.get(attestation.SESSION_NONCE_KEY),
        actor=request.user,
    )
    if result.accepted:
        request.session.pop(attestation.SESSION_NONCE_KEY, None)
        messages.success(request, result.message)
        # The end of the guided path: a short tour, then the rooms.
        return redirect("accounts_tour")
    messages.error(request, result.message)
    return redirect("accounts_age")


def _attestation_limited(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/attestation_limited.html", status=429)


@require_http_methods(["GET", "POST"])
@never_cache
def demo_age_issuer(request: HttpRequest) -> HttpResponse:
    """The DEMONSTRATION issuer (DEBUG only): asks, signs, sends the browser back."""
    if not settings.DEBUG:
        raise Http404
    source = request.POST if request.method == "POST" else request.GET
    nonce = source.get("nonce", "")
    return_to = source.get("return_to", "")
    # Only ever back to our own callback: never an open redirect.
    if not nonce or len(nonce) > 64 or return_to != attestation.callback_url():
        return render(request, "accounts/demo_issuer.html", {"invalid": True}, status=400)
    if request.method == "POST":
        token = demo_issuer.sign_attestation(nonce, age_over_18=request.POST.get("adult") == "yes")
        return HttpResponseRedirect(f"{return_to}?{urlencode({'token': token})}")
    return render(
        request,
        "accounts/demo_issuer.html",
        {"nonce": nonce, "return_to": return_to, "issuer": demo_issuer.DEMO_ISSUER},
    )


# --- Age verification by the wallet's proof of age ---------------------------------------

SESSION_WALLET_STATE_KEY = "accounts.age_wallet_state"


def _session_wallet_request(request: HttpRequest) -> WalletRequest | None:
    state = request.session.get(SESSION_WALLET_STATE_KEY)
    if not state:
        return None
    return WalletRequest.objects.filter(state=state, user=request.user).first()


def _qr_svg_data_uri(text: str) -> str:
    return segno.make(text, error="l").svg_data_uri(scale=3, border=4)


@require_GET
@login_required
@never_cache
def wallet_page(request: HttpRequest) -> HttpResponse:
    """The request to the wallet (link, QR code, Digital Credentials API); when
    the wallet has answered, its outcome."""
    pending = _session_wallet_request(request)
    if request.user.is_age_verified and (
        pending is None or pending.outcome != AgeVerificationOutcome.ACCEPTED
    ):
        messages.info(request, _("Votre âge est déjà vérifié."))
        return redirect("accounts_age")
    if pending is not None and pending.answered_at is not None:
        request.session.pop(SESSION_WALLET_STATE_KEY, None)
        if pending.outcome == AgeVerificationOutcome.ACCEPTED:
            messages.success(request, _("Votre âge est vérifié : bienvenue dans les salons !"))
            return redirect("accounts_tour")
        messages.error(
            request, actions.refusal_message(AgeVerificationMethod.WALLET, pending.reason)
        )
        pending = None
    if pending is None or pending.issued_at < timezone.now() - attestation.NONCE_LIFETIME:
        pending = actions.do_start_wallet_request(request.user, actor=request.user)
        request.session[SESSION_WALLET_STATE_KEY] = pending.state
    link = wallet_protocol.request_link(nonce=pending.nonce, state=pending.state)
    parameters = wallet_protocol.request_parameters(nonce=pending.nonce, state=pending.state)
    return render(
        request,
        "accounts/age_wallet.html",
        {
            "request_link": link,
            "qr_data_uri": _qr_svg_data_uri(link),
            "dc_api_request": {
                "protocol": wallet_protocol.DC_API_PROTOCOL,
                "data": wallet_protocol.dc_api_request(nonce=pending.nonce),
            },
            "state": pending.state,
            "response_uri": wallet_protocol.response_uri(),
            "wallet_strings": {
                "answered": _("Réponse reçue : affichage du résultat…"),
                "waiting": _("Votre navigateur demande la preuve à votre portefeuille…"),
                "cancelled": _(
                    "Aucune preuve n'a été partagée. Vous pouvez réessayer, ou utiliser le lien "
                    "ou le code QR."
                ),
            },
            "demo_wallet_url": (
                reverse("accounts_age_demo_wallet") + "?" + urlencode(parameters)
                if settings.DEBUG
                else ""
            ),
        },
    )


@require_GET
@login_required
@never_cache
def wallet_status(request: HttpRequest) -> JsonResponse:
    """Polled by the wallet page: has the wallet answered the session's request?"""
    pending = _session_wallet_request(request)
    if pending is None:
        return JsonResponse({"status": "none"})
    return JsonResponse({"status": "answered" if pending.answered_at else "pending"})


def _wants_html(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept


@csrf_exempt
@require_POST
@never_cache
def wallet_response(request: HttpRequest) -> HttpResponse:
    """OpenID4VP's response_uri (direct_post): the wallet, which has none of the
    user's cookies, POSTs `vp_token` and `state`; `state` names the request and
    the device signature over its nonce proves the answer was made for it.
    A wallet gets JSON; a browser form (the demonstration wallet) is sent back
    to the wallet page, which shows the outcome."""
    result = actions.do_verify_age_by_wallet(
        request.POST.get("state", ""), request.POST.get("vp_token", "")
    )
    next_url = settings.SITE_URL + reverse("accounts_age_wallet")
    if _wants_html(request):
        return HttpResponseRedirect(next_url, status=303)
    if result.accepted:
        return JsonResponse({"redirect_uri": next_url})
    return JsonResponse(
        {"error": "invalid_request", "error_description": str(result.message)}, status=400
    )


@require_POST
@login_required
@never_cache
def wallet_dc_api(request: HttpRequest) -> JsonResponse:
    """The Digital Credentials API's answer, forwarded by our page's script
    (CSRF-protected, the user's own session)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JsonResponse({"accepted": False, "message": _("Requête illisible.")}, status=400)
    vp_token = body.get("vp_token")
    if isinstance(vp_token, dict):
        vp_token = json.dumps(vp_token)
    result = actions.do_verify_age_by_wallet(
        str(body.get("state", "")),
        vp_token if isinstance(vp_token, str) else "",
        dc_api_user=request.user,
    )
    if result.accepted:
        request.session.pop(SESSION_WALLET_STATE_KEY, None)
        messages.success(request, result.message)
        return JsonResponse({"accepted": True, "next": reverse("accounts_tour")})
    return JsonResponse({"accepted": False, "message": str(result.message)}, status=400)


@require_GET
@never_cache
def demo_wallet(request: HttpRequest) -> HttpResponse:
    """The DEMONSTRATION wallet (DEBUG only): answers our own requests with a
    proof of age freshly signed by the demonstration issuer."""
    if not settings.DEBUG:
        raise Http404
    parameters = {name: request.GET.get(name, "") for name in ("client_id", "nonce", "state")}
    parameters["response_uri"] = request.GET.get("response_uri", "")
    # It answers Chatsite only: never a signing service for another site.
    if (
        parameters["response_uri"] != wallet_protocol.response_uri()
        or parameters["client_id"] != wallet_protocol.client_id()
        or not parameters["nonce"]
        or not parameters["state"]
        or len(parameters["nonce"]) > 64
        or len(parameters["state"]) > 64
    ):
        return render(request, "accounts/demo_wallet.html", {"invalid": True}, status=400)
    return render(
        request,
        "accounts/demo_wallet.html",
        {
            "response_uri": parameters["response_uri"],
            "client_id": parameters["client_id"],
            "state": parameters["state"],
            "adult_token": wallet_demo.answer_request(parameters, age_over_18=True),
            "minor_token": wallet_demo.answer_request(parameters, age_over_18=False),
            "issuer": wallet_demo.DEMO_ISSUER_NAME,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def document_upload(request: HttpRequest) -> HttpResponse:
    if request.user.is_age_verified:
        messages.info(request, _("Votre âge est déjà vérifié."))
        return redirect("accounts_age")
    form = IdentityDocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_submit_identity_document(
                request.user, form.cleaned_data["document"], actor=request.user
            )
        except documents.DocumentRejected as rejected:
            form.add_error("document", rejected.message)
        else:
            messages.success(
                request,
                _(
                    "Document reçu : l'équipe l'examinera rapidement. Il sera supprimé dès "
                    "la décision prise."
                ),
            )
            return redirect("accounts_age")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/document_upload.html", {"form": form}, status=status)


# --- Welcome tour --------------------------------------------------------------------------

# Three screens, each one idea with its picture: talking (rooms and private
# messages), keeping one's peace (block, ignore), getting help (report, alert).
TOUR_STEPS = ("talk", "block", "help")
TOUR_TITLES = {
    "talk": gettext_lazy("Salons et messages privés"),
    "block": gettext_lazy("Bloquer ou ignorer"),
    "help": gettext_lazy("Signaler, alerter"),
}


@require_GET
@login_required
@never_cache
def tour(request: HttpRequest, step: int = 1) -> HttpResponse:
    """Three short pages after age verification (and from the profile), each
    with "Passer" straight to the rooms: plain links, no script, so it works
    with a keyboard, a screen reader or JS turned off."""
    if not 1 <= step <= len(TOUR_STEPS):
        raise Http404
    return render(
        request,
        "accounts/tour.html",
        {
            "step": step,
            "topic": TOUR_STEPS[step - 1],
            "total": len(TOUR_STEPS),
            "title": TOUR_TITLES[TOUR_STEPS[step - 1]],
            "steps": [(number, TOUR_TITLES[topic]) for number, topic in enumerate(TOUR_STEPS, 1)],
            "previous_step": step - 1 if step > 1 else None,
            "next_step": step + 1 if step < len(TOUR_STEPS) else None,
            "rooms_url": ROOMS_URL,
        },
    )


# --- Self-service --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = DirectMessagePolicyForm(
        request.POST or None, initial={"direct_messages_from": user.direct_messages_from}
    )
    if request.method == "POST" and form.is_valid():
        actions.do_set_direct_message_policy(
            user, form.cleaned_data["direct_messages_from"], actor=user
        )
        messages.success(request, _("Vos préférences de messages privés sont enregistrées."))
        return redirect("accounts_profile")
    return render(request, "accounts/profile.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def delete_account(request: HttpRequest) -> HttpResponse:
    form = AccountDeletionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        actions.do_request_account_deletion(request.user, actor=request.user)
        logout(request)
        messages.success(
            request,
            _(
                "Votre compte est fermé et votre demande de suppression enregistrée. Certaines "
                "données sont conservées le temps exigé par la loi."
            ),
        )
        return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})


# --- Staff second factor -------------------------------------------------------------------


def _staff_only(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied


def _qr_data_uri(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def otp_setup(request: HttpRequest) -> HttpResponse:
    """TOTP enrolment for staff: QR code, a confirming code, then backup codes."""
    _staff_only(request)
    user = request.user
    has_confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if has_confirmed and not user.is_verified():
        # A password alone must not be enough to add a second factor.
        return render(request, "accounts/otp_setup.html", {"needs_verification": True})
    if has_confirmed:
        return render(request, "accounts/otp_setup.html", {"enrolled": True})
    device = actions.do_start_totp_enrolment(user, actor=user)
    form = TOTPConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = actions.do_confirm_totp_device(device, form.cleaned_data["token"], actor=user)
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            return render(
                request, "accounts/otp_setup.html", {"backup_codes": codes, "enrolled": True}
            )
        form.add_error("token", _("Ce code n'est pas valide. Vérifiez l'heure de votre téléphone."))
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr_data_uri": _qr_data_uri(device),
            "secret": b32encode(device.bin_key).decode("ascii"),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@login_required
@never_cache
def otp_backup_codes(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    if not request.user.is_verified():
        raise PermissionDenied
    codes = actions.do_regenerate_backup_codes(request.user, actor=request.user)
    return render(request, "accounts/otp_setup.html", {"backup_codes": codes, "enrolled": True})


# --- A member's second factor --------------------------------------------------------------


def _next_path(request: HttpRequest) -> str:
    """Where to go back to once verified: a path of this site only."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def member_otp(request: HttpRequest) -> HttpResponse:
    """A member's second factor (TOTP): room moderators need a verified session
    to act (docs/moderation.md, "Modérateurs de salon"). Without an app: the
    enrolment, as staff enrol; with one: a code verifies this session."""
    user = request.user
    next_path = _next_path(request)
    context = {"next": next_path}
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        if user.is_verified():
            return render(request, "accounts/member_otp.html", {**context, "verified": True})
        form = TOTPConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            # Tries the TOTP app and the backup codes; django-otp throttles failures.
            device = match_token(user, form.cleaned_data["token"])
            if device is not None:
                otp_login(request, device)
                if next_path:
                    return HttpResponseRedirect(next_path)
                return render(request, "accounts/member_otp.html", {**context, "verified": True})
            form.add_error(
                "token", _("Ce code n'est pas valide. Vérifiez l'heure de votre téléphone.")
            )
        return render(
            request,
            "accounts/member_otp.html",
            {**context, "form": form, "verify": True},
            status=400 if form.errors else 200,
        )
    device = actions.do_start_totp_enrolment(user, actor=user)
    form = TOTPConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = actions.do_confirm_totp_device(device, form.cleaned_data["token"], actor=user)
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            return render(
                request,
                "accounts/member_otp.html",
                {**context, "backup_codes": codes, "verified": True},
            )
        form.add_error("token", _("Ce code n'est pas valide. Vérifiez l'heure de votre téléphone."))
    return render(
        request,
        "accounts/member_otp.html",
        {
            **context,
            "form": form,
            "qr_data_uri": _qr_data_uri(device),
            "secret": b32encode(device.bin_key).decode("ascii"),
        },
        status=400 if form.errors else 200,
    )
