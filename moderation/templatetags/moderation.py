"""{% report_dialog %}: the report and alert dialogs of the room page, wired by
moderation/report.js (rooms' template includes it; rooms never imports moderation)."""

from django import template
from django.urls import reverse

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


@register.inclusion_tag("moderation/_report_dialog.html", takes_context=True)
def report_dialog(context, room=None, partner=None):
    return {
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
