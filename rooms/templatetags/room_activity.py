"""How long ago a room last spoke, in a few words: "il y a 5 min"."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """A short, translated "how long ago" for a card (the exact date goes in
    the <time> element's datetime attribute)."""
    if value is None:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    if seconds < 60:
        return _("à l'instant")
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("il y a %(count)d min", "il y a %(count)d min", minutes) % {
            "count": minutes
        }
    hours = minutes // 60
    if hours < 24:
        return ngettext("il y a %(count)d h", "il y a %(count)d h", hours) % {"count": hours}
    days = hours // 24
    return ngettext("il y a %(count)d jour", "il y a %(count)d jours", days) % {"count": days}
