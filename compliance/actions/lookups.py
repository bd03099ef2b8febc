"""The reverse look-up: which account used an IP address (and source port) at a
given time. A look at personal data, so only compliance staff may make it, each
with its stated reason, and each look is one audit entry (who, why, what was
asked and which accounts came out), whatever it found."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.forms import MIN_REASON_LENGTH
from audit.refusals import records_staff_refusals
from audit.trail import record
from compliance import queries
from compliance.actions.common import _check_permission
from core.refusals import RefusalCode, Refused

LOOKUP_PERMISSION = "compliance.view_restrictedrecord"
LOOKUP_TARGET = "accounts.connectionrecord"
# A wider window would turn a look-up into a sweep.
MAX_LOOKUP_WINDOW = timedelta(hours=24)


@records_staff_refusals
def do_look_up_address(
    *,
    ip_address: str,
    port: int | None,
    when: datetime,
    window: timedelta = queries.DEFAULT_LOOKUP_WINDOW,
    reason: str,
    actor,
    actor_ip: str | None = None,
) -> list[dict]:
    """The evidence rows of `queries.reverse_lookup`, after the permission and
    the reason are checked; the look is audited in the same transaction."""
    if actor is None:
        raise Refused(RefusalCode.FORBIDDEN, _("Une recherche est le fait d'un agent nommé."))
    _check_permission(actor, LOOKUP_PERMISSION)
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise Refused(
            RefusalCode.INVALID,
            _("Indiquez le motif de la recherche (au moins %(min)d caractères).")
            % {"min": MIN_REASON_LENGTH},
        )
    try:
        ip_address = queries.normalised_ip(ip_address or "")
    except ValueError:
        raise Refused(RefusalCode.INVALID, _("Adresse IP invalide.")) from None
    if port is not None and not 0 < port < 65536:
        raise Refused(RefusalCode.INVALID, _("Port invalide."))
    if not timedelta(0) <= window <= MAX_LOOKUP_WINDOW:
        raise Refused(RefusalCode.INVALID, _("La fenêtre de recherche dépasse 24 heures."))
    with transaction.atomic(durable=True):
        rows = queries.reverse_lookup(ip_address, port, when, window)
        record(
            AuditEvent.VIEW_ADDRESS_LOOKUP,
            actor=actor,
            target_type=LOOKUP_TARGET,
            reason=reason[:500],
            ip_address=actor_ip,
            details={
                "when": when.isoformat(),
                "window_seconds": int(window.total_seconds()),
                "accounts": sorted({row["account_id"] for row in rows}),
                "rows": len(rows),
            },
            # The address looked up is personal data: sealed through the
            # erasable digest, not the hash (audit/trail.py).
            personal={"ip_address": ip_address, "port": port},
        )
    return rows
