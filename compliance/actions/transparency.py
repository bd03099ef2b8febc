"""Publishing a transparency report: a compliance officer freezes a closed period's
figures for /transparency/ (DSA Art. 15 and 24; docs/compliance.md)."""

import json
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from compliance import transparency
from compliance.models import PublishedTransparencyReport
from core.refusals import RefusalCode, Refused

PUBLISHED_TARGET = "compliance.publishedtransparencyreport"


@transaction.atomic(durable=True)
def do_publish_transparency_report(start: date, end: date, *, actor) -> PublishedTransparencyReport:
    """Publishes the figures of a closed period: its last day is over (site's time
    zone), so the figures are final. One publication per period; its figures never
    change afterwards."""
    try:
        period = transparency.Period(start, end)
    except ValueError:
        raise Refused(RefusalCode.INVALID, _("La période se termine avant de commencer.")) from None
    if end >= timezone.localdate():
        raise Refused(
            RefusalCode.CONFLICT,
            _("Seule une période close se publie : son dernier jour doit être passé."),
        )
    if PublishedTransparencyReport.objects.filter(period_start=start, period_end=end).exists():
        raise Refused(RefusalCode.CONFLICT, _("Le rapport de cette période est déjà publié."))
    published = PublishedTransparencyReport.objects.create(
        period_start=start,
        period_end=end,
        figures_json=json.dumps(transparency.build_report(period), ensure_ascii=False),
        published_by=actor,
    )
    record(
        AuditEvent.TRANSPARENCY_REPORT_PUBLISHED,
        actor=actor,
        target_type=PUBLISHED_TARGET,
        target_id=published.pk,
        details={"start": start.isoformat(), "end": end.isoformat()},
    )
    return published
