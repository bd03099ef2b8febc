"""Top-level URLs: each app's own URLconf, plus site-wide pages."""

from django.contrib import admin
from django.urls import include, path

from chatsite import metrics_views, views
from compliance import views as compliance_views
from moderation import views as moderation_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Prometheus text format for OTP-verified staff (docs/operations.md).
    path("metrics", metrics_views.metrics, name="metrics"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    # The service worker, at the root so that its scope is the whole site.
    path("sw.js", views.service_worker, name="service_worker"),
    path("offline/", views.offline, name="offline"),
    *(path(name, views.root_icon, {"name": name}) for name in views.ROOT_ICONS),
    path("i18n/", include("django.conf.urls.i18n")),
    # Chatsite's own account pages first (age, profile, staff 2FA), then allauth's.
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # /rooms/, /dm/<username>/, /conversations/ and the rooms JSON API under /api/.
    path("", include("rooms.urls")),
    # /decisions/, /notice/, POST /api/reports/ and the moderators' /api/moderation/.
    path("", include("moderation.urls")),
    # GET /api/me/export/ (GDPR access and portability).
    path("", include("compliance.urls")),
    # Reference pages, linked from every footer (_footer_links.html): short,
    # unnamespaced names because the whole site links them (docs/pages.md).
    path("rules/", moderation_views.rules_page, name="rules"),
    path("terms/", moderation_views.terms_page, name="terms"),
    path("privacy/", compliance_views.privacy, name="privacy"),
    path("legal/", compliance_views.legal_notice, name="legal_notice"),
    path("authorities/", compliance_views.authorities, name="authorities"),
    # The published transparency reports, each as HTML and CSV (DSA Art. 15 and 24).
    path("transparency/", compliance_views.transparency_index, name="transparency"),
    path(
        "transparency/<str:period>.csv",
        compliance_views.transparency_report_csv,
        name="transparency_report_csv",
    ),
    path(
        "transparency/<str:period>/",
        compliance_views.transparency_report,
        name="transparency_report",
    ),
]
