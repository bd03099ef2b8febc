"""{% report_dialog %}: the report and alert dialogs of the room page, wired by
moderation/report.js (rooms' template includes it; rooms never imports moderation)."""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import ngettext

from moderation.actions.room_moderators import duration_choices, room_role
from moderation.models import Ground, ReportCategory, SanctionKind, clause_choices
from rooms.models import Room

register = template.Library()


def may_moderate(user) -> bool:
    """OTP-verified staff who may sanction: they get the in-room controls."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_staff
        and getattr(user, "is_verified", lambda: False)()
        and user.has_perm("moderation.add_sanction")
    )


def _room_moderation(user, room) -> dict | None:
    """The room moderator's menu (moderation/room-moderate.js), for the room's
    owner and moderators only: nothing at all on other members' pages."""
    if room is None or room_role(user, room) is None:
        return None
    return {
        "api": reverse("moderation:api_room_moderation", args=[room.slug]),
        "script": "moderation/room-moderate.js",
        "durations": [(minutes, _duration_label(minutes)) for minutes in duration_choices()],
        "otp_url": reverse("accounts_member_otp") + "?" + urlencode({"next": room_path(room)}),
    }


def _duration_label(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d heure", "%(count)d heures", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def room_path(room) -> str:
    return reverse("rooms:room", args=[room.slug])


@register.inclusion_tag("moderation/_report_dialog.html", takes_context=True)
def report_dialog(context, room=None, partner=None):
    user = context.get("user")
    return {
        "room_moderation": None if partner else _room_moderation(user, room),
        "categories": ReportCategory.choices,
        "reports_url": reverse("moderation:api_reports"),
        "alert_url": reverse("moderation:api_alert"),
        "room": room,
        "partner": partner,
        "moderator": may_moderate(context.get("user")),
        "sanction_kinds": SanctionKind.choices,
        "grounds": Ground.choices,
        "clauses": clause_choices(),
        "sanctions_url": reverse("moderation:api_sanctions"),
        # The message id is appended by the script.
        "messages_url": reverse("moderation:api_remove_message", args=[0]).removesuffix("0/"),
    }


@register.inclusion_tag("moderation/_raid_banner.html")
def raid_banner(room=None):
    """Raid mode's banner for members and visitors: the site-wide one on every
    page (base.html), the one covering a room on its page (the site's first)."""
    from moderation import raid

    found = raid.raid_covering(room) if room is not None else raid.site_raid()
    return {"raid": found, "room": room}


@register.inclusion_tag("moderation/_raid_staff_banner.html", takes_context=True)
def raid_staff_banner(context):
    """Every raid mode in force, atop each back-office page, with the way to manage them."""
    from moderation import raid

    user = context.get("user")
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"raids": []}
    raids = raid.active_raids()
    if not raids:
        return {"raids": []}
    rooms = {room.pk: room for room in Room.objects.filter(pk__in=[r.room_id for r in raids])}
    try:
        manage_url = reverse("admin:moderation_raidmode_changelist") + "?en_cours=1"
    except NoReverseMatch:  # an admin site without the raid modes: the banner, no link
        manage_url = None
    return {
        "raids": [(found, rooms.get(found.room_id)) for found in raids],
        "manage_url": manage_url,
    }
