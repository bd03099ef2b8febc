"""The admin site: django-otp's OTPAdminSite, rate limited and audited.

A staff session reaches /admin/ only once verified by a TOTP (or backup) code;
the same verified session is what the staff JSON API requires.
"""

from allauth.core.internal import ratelimit
from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import admin_french
from accounts.actions import do_record_staff_sign_in
from accounts.app_settings import app_settings
from accounts.records import client_address
from audit.events import AuditEvent

RATE_LIMIT_APP = "accounts.admin"


def admin_login_rate_limits() -> dict[str, str]:
    return app_settings.ADMIN_LOGIN_RATE_LIMITS


class StaffLoginForm(OTPAdminAuthenticationForm):
    """django-otp's admin login form, choosing the device from the code's shape.

    django-otp asks for an explicit device rather than trying each in turn (a
    failed try would throttle the others). A staff member has one TOTP app
    and one set of backup codes, told apart by the code itself: digits only
    for the app, letters and digits for a backup code. An explicit
    `otp_device` still wins.
    """

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        token = (self.cleaned_data.get("otp_token") or "").strip()
        if device is not None or not token:
            return device
        model = TOTPDevice if token.isdigit() else StaticDevice
        return model.objects.filter(user=user, confirmed=True).order_by("pk").first()


class StaffAdminSite(OTPAdminSite):
    site_header = _("Chatsite : administration")
    site_title = _("Administration Chatsite")
    index_title = _("Tableau de bord")
    login_form = StaffLoginForm

    def __init__(self, name: str = "admin"):
        # OTPAdminSite defaults to the name "otpadmin": keep "admin" so that
        # every reverse("admin:...") still works.
        super().__init__(name)
        # Django's "delete selected", described in French that agrees with the model.
        self._actions["delete_selected"] = admin_french.delete_selected
        self._global_actions["delete_selected"] = admin_french.delete_selected

    def login(self, request, extra_context=None):
        if request.method == "POST":
            username = request.POST.get("username", "")[:150].casefold()
            allowed = ratelimit.consume(
                request,
                app=RATE_LIMIT_APP,
                action="admin_login",
                config=admin_login_rate_limits(),
                key=username,
            )
            if not allowed:
                return render(request, "accounts/admin_login_limited.html", status=429)
        response = super().login(request, extra_context)
        if request.method == "POST":
            self._audit_login(request, response)
        return response

    def logout(self, request, extra_context=None):
        if request.user.is_authenticated:
            do_record_staff_sign_in(
                AuditEvent.STAFF_LOGOUT,
                actor=request.user,
                target=request.user,
                ip_address=client_address(request)[0],
            )
        return super().logout(request, extra_context)

    def _audit_login(self, request, response) -> None:
        ip_address = client_address(request)[0]
        # The login form only lets a user through with a valid second factor;
        # request.user is then the freshly logged-in (not yet wrapped) user.
        if response.status_code == 302 and request.user.is_authenticated:
            do_record_staff_sign_in(
                AuditEvent.STAFF_LOGIN,
                actor=request.user,
                target=request.user,
                ip_address=ip_address,
            )
            return
        form = getattr(response, "context_data", {}).get("form")
        if form is None or not form.errors:
            return
        user = form.get_user()
        if user is not None and user.is_staff and form.cleaned_data.get("otp_token"):
            event = AuditEvent.STAFF_OTP_FAILED
        else:
            event = AuditEvent.STAFF_LOGIN_FAILED
            if user is None:
                user = (
                    get_user_model()
                    .objects.filter(username__iexact=request.POST.get("username", ""))
                    .first()
                )
        do_record_staff_sign_in(event, actor=None, target=user, ip_address=ip_address)
