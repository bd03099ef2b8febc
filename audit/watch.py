"""Who watches the watchers: an alert when one staff member looks at too many
private conversations or identity files in too short a time.

Checked inside the transaction of each look (audit/actions.py
`do_record_staff_access`): the count comes from the trail itself, so it holds
across processes. Over the threshold, one STAFF_LOOK_RATE_EXCEEDED entry per
staff member and window, and on commit the Prometheus counter
(`chatsite_staff_look_alerts_total`, alert ChatsiteStaffLookRate) and a mail
to AUDIT_LOOK_ALERT_EMAIL. The looks themselves are never refused: the
alert asks a person to review them (docs/audit.md).
"""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.app_settings import app_settings
from audit.events import AuditEvent
from audit.models import AuditEntry
from audit.trail import record, user_model_label
from core import metrics

logger = logging.getLogger(__name__)

# Looks at what members said or showed in private: the ones the rate alert counts.
WATCHED_LOOKS = (
    AuditEvent.VIEW_DIRECT_CONVERSATION,
    AuditEvent.VIEW_PRIVATE_ROOM_MESSAGES,
    AuditEvent.VIEW_IDENTITY_DOCUMENT,
)


def check_look_rate(entry: AuditEntry, *, actor) -> AuditEntry | None:
    """In the look's transaction: the alert entry when this look crosses the threshold."""
    if entry.event not in WATCHED_LOOKS or entry.actor_id is None:
        return None
    threshold = app_settings.AUDIT_LOOK_ALERT_THRESHOLD
    window = app_settings.AUDIT_LOOK_ALERT_WINDOW_SECONDS
    since = timezone.now() - timedelta(seconds=window)
    looks = AuditEntry.objects.filter(
        actor_id=entry.actor_id, event__in=WATCHED_LOOKS, created__gte=since
    ).count()
    if looks <= threshold:
        return None
    staff_type = user_model_label()
    already = AuditEntry.objects.filter(
        event=AuditEvent.STAFF_LOOK_RATE_EXCEEDED,
        target_type=staff_type,
        target_id=str(entry.actor_id),
        created__gte=since,
    ).exists()
    if already:
        return None
    alert = record(
        AuditEvent.STAFF_LOOK_RATE_EXCEEDED,
        actor=None,
        target_type=staff_type,
        target_id=entry.actor_id,
        details={"looks": looks, "threshold": threshold, "window_seconds": window},
    )
    username = actor.get_username()
    transaction.on_commit(lambda: _alert(username, entry.actor_id, looks, threshold, window))
    return alert


def _alert(username: str, staff_id: int, looks: int, threshold: int, window: int) -> None:
    metrics.staff_look_alert()
    recipient = app_settings.AUDIT_LOOK_ALERT_EMAIL
    if not recipient:
        return
    subject = _("[Chatsite] Consultations inhabituelles : %(user)s") % {"user": username}
    body = _(
        "%(user)s (compte n° %(id)s) a consulté %(looks)d conversations privées ou "
        "documents d'identité en %(minutes)d minutes (seuil : %(threshold)d).\n\n"
        "Les consultations et leurs motifs sont dans l'administration : "
        "Journal d'audit > Consultations du personnel, filtre « auteur (id) » = %(id)s."
    ) % {
        "user": username,
        "id": staff_id,
        "looks": looks,
        "minutes": window // 60,
        "threshold": threshold,
    }
    try:
        send_mail(subject, body, None, [recipient])
    except Exception:
        # The alert entry and the metric stand without the mail.
        logger.exception("could not send the staff look alert for staff %s", staff_id)
