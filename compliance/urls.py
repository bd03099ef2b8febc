"""Compliance's member-facing URL (included at the root by chatsite/urls.py)."""

from django.urls import path

from compliance import api

app_name = "compliance"

urlpatterns = [
    path("api/me/export/", api.me_export, name="api_me_export"),
]
