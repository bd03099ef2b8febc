"""What templates/base.html asks of rooms: the navigation's counts (contact
requests, invitations, unread messages, notifications), rendered with the page
and then kept live by static/js/inbox.js."""

from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rooms import policy, queries

# The words of each count, for the links' accessible names (here and in inbox.js).
COUNT_TEXTS = {
    "unread": lambda n: ngettext("%(count)d message non lu", "%(count)d messages non lus", n),
    "requests": lambda n: ngettext(
        "%(count)d demande de contact", "%(count)d demandes de contact", n
    ),
    "invitations": lambda n: ngettext("%(count)d invitation", "%(count)d invitations", n),
    "notifications": lambda n: ngettext(
        "%(count)d notification non lue", "%(count)d notifications non lues", n
    ),
}


def _label(counts: dict, parts: tuple[str, ...]) -> str:
    said = [
        COUNT_TEXTS[part](counts[part]) % {"count": counts[part]} for part in parts if counts[part]
    ]
    return f" ({', '.join(said)})" if said else ""


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def inbox() -> dict | None:
        # A callable: evaluated only where base.html asks, once (two queries).
        if not policy.account_verdict(user):
            return None
        counts = queries.inbox_counts(user).as_json()
        return {
            **counts,
            "conversations_label": _label(counts, ("unread", "requests", "invitations")),
            "notifications_label": _label(counts, ("notifications",)),
            "strings": {
                "url": reverse("rooms:api_inbox"),
                **{part: {"one": text(1), "other": text(2)} for part, text in COUNT_TEXTS.items()},
                "dm_title": _("Nouveau message privé de %(name)s"),
                "accepted": _("Votre demande de contact est acceptée : vos messages sont remis."),
                "icon": static("icons/icon-192.png"),
            },
        }

    return {"nav_inbox": inbox}
