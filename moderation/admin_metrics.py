"""The moderation measures' dashboard, /admin/moderation/report/metrics/
(docs/moderation.md, "Les mesures de la modération"): the figures of
moderation/measures.py as tables with bars drawn in server-rendered SVG (no
script, no inline style: the admin's CSP forbids them). It names staff, never
a member, and quotes no text: it asks no reason and records no look."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from moderation import measures
from moderation.models import Severity

BAR_WIDTH = 240  # the SVG's width, in its own units


def duration_label(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": seconds % 60}
    hours = minutes // 60
    if hours < 48:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes % 60}
    return _("%(d)d j %(h)d h") % {"d": hours // 24, "h": hours % 24}


@dataclass
class Bar:
    label: str
    value_label: str
    width: int  # 0 to BAR_WIDTH


def _bar(label: str, value: float | None, largest: float, value_label: str) -> Bar:
    width = round(BAR_WIDTH * (value or 0) / largest) if largest else 0
    return Bar(label, value_label, max(width, 1) if value else 0)


def _duration_rows(durations: dict) -> list[dict]:
    largest = max(
        (v for entry in durations.values() for v in entry.quantiles.values() if v is not None),
        default=0,
    )
    rows = []
    for severity in Severity:
        entry = durations[severity.value]
        rows.append(
            {
                "severity": severity.label,
                "count": entry.count,
                "bars": [
                    _bar(f"p{round(q * 100)}", value, largest, duration_label(value))
                    for q, value in entry.quantiles.items()
                ],
            }
        )
    return rows


def metrics_view(request: HttpRequest, admin_site, opts) -> HttpResponse:
    if not request.user.has_perm("moderation.view_report"):
        raise PermissionDenied
    figures = measures.measures()
    largest_load = max((w.holding + w.decided for w in figures.workload), default=0)
    largest_hour = max((max(h.reports, h.moderators) for h in figures.coverage.hours), default=0)
    rate = figures.appeals.reversal_rate
    return TemplateResponse(
        request,
        "admin/moderation/metrics.html",
        {
            **admin_site.each_context(request),
            "opts": opts,
            "title": _("Mesures de la modération"),
            "figures": figures,
            "window_days": measures.WINDOW.days,
            "bar_width": BAR_WIDTH,
            "to_claim": _duration_rows(figures.to_claim),
            "to_decision": _duration_rows(figures.to_decision),
            "workload": [
                {
                    "load": load,
                    "holding": _bar("", load.holding, largest_load, str(load.holding)),
                    "decided": _bar("", load.decided, largest_load, str(load.decided)),
                }
                for load in figures.workload
            ],
            "reversal_percent": None if rate is None else round(rate * 100, 1),
            "hours": [
                {
                    "hour": hour,
                    "reports": _bar("", hour.reports, largest_hour, str(hour.reports)),
                    "moderators": _bar("", hour.moderators, largest_hour, str(hour.moderators)),
                }
                for hour in figures.coverage.hours
            ],
            "time_zone": timezone.get_current_timezone_name(),
        },
    )
