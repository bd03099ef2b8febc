"""The one place where Chatsite customises django-allauth (STYLE.md)."""

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import reverse

from accounts.confirmation import remember_confirmation_asked
from accounts.gates import signup_paused
from accounts.models import PseudonymHistory
from accounts.pseudonyms import validate_pseudonym, validate_pseudonym_is_free
from accounts.records import client_address


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username: str, shallow: bool = False) -> str:
        validate_pseudonym(username)
        if not shallow:
            # Look-alikes (same UTS #39 skeleton) of a member's or a closed
            # account's pseudonym, beyond allauth's exact, case-blind check.
            validate_pseudonym_is_free(username)
        return super().clean_username(username, shallow=shallow)

    def is_open_for_signup(self, request) -> bool:
        # A pause (moderation's raid mode) closes the sign-up page and refuses its
        # POST: allauth then renders account/signup_closed.html, which says why.
        if why := signup_paused():
            request.signup_paused_because = why
            return False
        return super().is_open_for_signup(request)

    def save_user(self, request, user, form, commit=True):
        # The form has already refused anyone under 18: only adults reach here.
        user.date_of_birth = form.cleaned_data["date_of_birth"]
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            # The account's first pseudonym period (a requisition resolves names by period).
            PseudonymHistory.objects.record(user, at=user.date_joined)
        return user

    def get_signup_redirect_url(self, request) -> str:
        # Where the confirmation link lands a new member: the age check.
        return reverse("accounts_age")

    def get_login_redirect_url(self, request) -> str:
        # A new member's next step is the age check, not an empty rooms page
        # they may not enter yet.
        if not request.user.is_age_verified:
            return reverse("accounts_age")
        return super().get_login_redirect_url(request)

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        # Links in mail use the public origin, not whatever Host the request had.
        return settings.SITE_URL + reverse("account_confirm_email", args=[emailconfirmation.key])

    def get_reset_password_from_key_url(self, key: str) -> str:
        return settings.SITE_URL + urlsplit(super().get_reset_password_from_key_url(key)).path

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Mails are signed "Chatsite" with SITE_URL, never the request's Host nor a
        # bare host:port (templates/account/email/, HTML and text).
        site = SimpleNamespace(name="Chatsite", domain=urlsplit(settings.SITE_URL).netloc)
        context = {"current_site": site, "site_url": settings.SITE_URL, **context}
        super().send_mail(template_prefix, email, context)

    def send_confirmation_mail(self, request, emailconfirmation, signup: bool) -> None:
        # This browser asked for the link: opening it here confirms at once
        # (accounts/views.py ConfirmEmailOnClickView).
        if request is not None and hasattr(request, "session"):
            remember_confirmation_asked(request, emailconfirmation.email_address.email)
        super().send_confirmation_mail(request, emailconfirmation, signup)

    def get_client_ip(self, request) -> str:
        # Same answer as the connection records: honours TRUSTED_PROXIES only.
        ip, _port = client_address(request)
        return ip or super().get_client_ip(request)
