"""{% report_dialog %}: the report and alert dialogs of the room page, wired by
moderation/report.js (rooms' template includes it; rooms never imports moderation)."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import ngettext

from moderation.actions.room_moderators import duration_choices, room_role
from moderation.models import Ground, ReportCategory, SanctionKind, clause_choices

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
