"""Notices of illegal content from anyone, with or without an account (DSA Art. 16)."""

from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation import queries
from moderation.actions.common import NOTICE_TARGET, _mail, _optional_text, _require_text
from moderation.actions.reports import _file_report
from moderation.models import (
    DETAILS_MAX_LENGTH,
    Notice,
    ReportCategory,
    ReportSource,
)


@transaction.atomic(durable=True)
def do_file_notice(
    *,
    category,
    explanation,
    location,
    good_faith,
    name="",
    email="",
    actor=None,
) -> Notice:
    """A notice of illegal content from anyone (DSA Art. 16), acknowledged by e-mail."""
    if category not in ReportCategory.values:
        raise Refused(RefusalCode.INVALID, _("Catégorie inconnue."))
    if good_faith is not True:
        raise Refused(
            RefusalCode.INVALID, _("La déclaration de bonne foi est requise pour une notification.")
        )
    location = _require_text(location, "location", 500)
    email = _optional_text(email, "email", 254)
    try:
        URLValidator(schemes=["http", "https"])(location)
        if email:
            validate_email(email)
    except ValidationError:
        raise Refused(
            RefusalCode.INVALID, _("Indiquez une adresse web (URL) et une adresse e-mail valides.")
        ) from None
    notice = Notice.objects.create(
        category=category,
        explanation=_require_text(explanation, "explanation", DETAILS_MAX_LENGTH),
        location=location,
        name=_optional_text(name, "name", 200),
        email=email,
        good_faith=True,
        acknowledged_at=timezone.now() if email else None,
    )
    message = queries.message_at(notice.location)
    report = _file_report(
        category=category,
        source=ReportSource.NOTICE,
        details=notice.explanation,
        message=message,
        context=queries.context_around(message) if message is not None else [],
        notice=notice,
    )
    record(
        AuditEvent.NOTICE_FILED,
        actor=actor,
        target_type=NOTICE_TARGET,
        target_id=notice.pk,
        details={"category": category, "report": report.pk, "message": report.target_message_id},
    )
    if notice.email:
        transaction.on_commit(
            partial(
                _mail,
                notice.email,
                _("Chatsite : nous avons bien reçu votre notification"),
                "moderation/email/notice_received.txt",
                {"notice": notice},
            )
        )
    return notice
