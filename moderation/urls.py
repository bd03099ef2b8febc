"""Moderation's pages and JSON API (included at the root by chatsite/urls.py)."""

from django.urls import path

from moderation import api, views

app_name = "moderation"

urlpatterns = [
    path("decisions/", views.decisions, name="decisions"),
    path("decisions/<int:pk>/", views.decision, name="decision"),
    path("decisions/reports/<int:pk>/", views.report_outcome, name="report"),
    path("decisions/reports/<int:pk>/thread/", views.report_thread, name="report_thread"),
    path("notice/", views.notice, name="notice"),
    path("trust/", views.trust_level, name="trust"),
    path("api/reports/", api.file_report, name="api_reports"),
    path("api/reports/alert/", api.file_alert, name="api_alert"),
    path("api/moderation/sanctions/", api.issue_sanction, name="api_sanctions"),
    path(
        "api/moderation/messages/<int:message_id>/", api.remove_message, name="api_remove_message"
    ),
    path("api/moderation/queue/", api.queue, name="api_queue"),
    # A room's owner and moderators (docs/moderation.md, "Modérateurs de salon").
    path("api/rooms/<slug:slug>/moderation/", api.room_moderation, name="api_room_moderation"),
    path(
        "api/rooms/<slug:slug>/moderation/hide/",
        api.room_hide_message,
        name="api_room_hide_message",
    ),
    path(
        "api/rooms/<slug:slug>/moderation/restrict/",
        api.room_restrict_member,
        name="api_room_restrict_member",
    ),
    path("api/rooms/<slug:slug>/moderation/escalate/", api.room_escalate, name="api_room_escalate"),
]
