"""A test URLconf: a plain admin site with Django's own user and group admins, and a
stand-in for the rooms app's staff view of a direct conversation.

The admin hooks are installed on ModelAdmin itself, so they are the same here as on
the real (OTP) admin site; Django's stock admins show that third-party admins are
covered, not only ours.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.http import JsonResponse
from django.urls import path

from audit.access import reason_required
from audit.events import AuditEvent

site = admin.AdminSite(name="admin")
site.register(get_user_model(), UserAdmin)
site.register(Group, GroupAdmin)


@reason_required(AuditEvent.VIEW_DIRECT_CONVERSATION, "rooms.room", "slug")
def staff_direct_conversation(request, slug):
    return JsonResponse({"room": slug, "messages": ["bonjour"]})


@reason_required(AuditEvent.VIEW_DIRECT_CONVERSATION, "rooms.room", "slug", api=True)
def staff_direct_conversation_api(request, slug):
    return JsonResponse({"room": slug, "messages": ["bonjour"]})


urlpatterns = [
    path("admin/", site.urls),
    path("staff/dm/<slug:slug>/", staff_direct_conversation, name="staff_dm"),
    path("api/staff/dm/<slug:slug>/", staff_direct_conversation_api, name="staff_dm_api"),
]
