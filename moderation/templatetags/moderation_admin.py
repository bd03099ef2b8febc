"""The moderators' back office in templates: the landing page's queue panel
({% moderation_landing %}, on the admin index) and one way to write a time
(|staff_time: local time, one format, whether it comes as a datetime or as the
ISO 8601 UTC string of a context snapshot)."""

from datetime import datetime

from django import template
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from moderation import queries
from rooms.models import RoomKind

register = template.Library()


def staff_datetime(value) -> str:
    """`value` (a datetime, or an ISO 8601 string as snapshots keep them) in the
    current time zone (TIME_ZONE, Europe/Paris), in the one short format of the
    back office; "" for nothing, the value itself if it is not a time."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATETIME_FORMAT")


register.filter("staff_time", staff_datetime)


@register.filter
def room_label(room) -> str:
    """A room as the landing page may name it: a public room by its name, a private
    room or a conversation by its kind only (their names may name people)."""
    if room is None:
        return ""
    if room.kind == RoomKind.PUBLIC:
        return room.name
    return _("conversation privée") if room.kind == RoomKind.DIRECT else _("salon privé")


@register.inclusion_tag("admin/moderation/landing.html", takes_context=True)
def moderation_landing(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("moderation.view_report"):
        return {"show": False}
    from moderation.admin import queue_badge  # the admin module registers models: import late

    landing = queries.landing(user)
    queue = reverse("admin:moderation_report_changelist")
    return {
        "show": True,
        **landing,
        "badge": queue_badge(landing["counts"]),
        "queue_url": queue,
        "held_url": reverse("admin:moderation_heldmessage_changelist"),
        "appeals_url": reverse("admin:moderation_appeal_changelist") + "?status__exact=open",
        "may_see_held": user.has_perm("moderation.view_heldmessage"),
        "may_see_appeals": user.has_perm("moderation.view_appeal"),
        "time_zone": timezone.get_current_timezone_name(),
    }
