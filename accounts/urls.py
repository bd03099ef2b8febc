"""Chatsite's own pages under /accounts/ (allauth's are included after these)."""

from django.urls import path, re_path

from accounts import views
from accounts.confirmation import ConfirmEmailOnClickView

urlpatterns = [
    # Before allauth's own route of the same name and pattern (accounts/confirmation.py).
    re_path(
        r"^confirm-email/(?P<key>[-:\w]+)/$",
        ConfirmEmailOnClickView.as_view(),
        name="account_confirm_email",
    ),
    path("age/", views.age_status, name="accounts_age"),
    path("age/attestation/start/", views.attestation_start, name="accounts_age_attestation_start"),
    path(
        "age/attestation/callback/",
        views.attestation_callback,
        name="accounts_age_attestation_callback",
    ),
    path("age/demo-issuer/", views.demo_age_issuer, name="accounts_age_demo_issuer"),
    path("age/wallet/", views.wallet_page, name="accounts_age_wallet"),
    path("age/wallet/status/", views.wallet_status, name="accounts_age_wallet_status"),
    path("age/wallet/response/", views.wallet_response, name="accounts_age_wallet_response"),
    path("age/wallet/dc-api/", views.wallet_dc_api, name="accounts_age_wallet_dc_api"),
    path("age/demo-wallet/", views.demo_wallet, name="accounts_age_demo_wallet"),
    path("age/document/", views.document_upload, name="accounts_age_document"),
    path("tour/", views.tour, name="accounts_tour"),
    path("tour/<int:step>/", views.tour, name="accounts_tour_step"),
    path("profile/", views.profile, name="accounts_profile"),
    path("delete/", views.delete_account, name="accounts_delete"),
    # A member's own second factor (room moderators need it, docs/moderation.md).
    path("otp/", views.member_otp, name="accounts_member_otp"),
    path("staff/otp/", views.otp_setup, name="accounts_otp_setup"),
    path("staff/otp/backup-codes/", views.otp_backup_codes, name="accounts_otp_backup_codes"),
]
