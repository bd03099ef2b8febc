"""Each kind of authority order: its legal basis, its deadline and how short it is
(docs/compliance.md, "Orders from authorities").

The deadline runs from the receipt, the time the order reached us (not the time
it was registered): a removal order received at 09:00 and registered at 09:20 is
due at 10:00. Where the law fixes a deadline, the order cannot give us longer
but may give us less: the earlier of the two applies. Where the law says
"without undue delay" (preservation), the house target below applies, since an
officer needs a time to be paged against.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from compliance.models import OrderKind

# "Without undue delay": our own target for a preservation order to take effect.
PRESERVATION_TARGET = timedelta(hours=24)
# Reg. (EU) 2023/1543, art. 11(1): preserved for 60 days, unless the authority
# confirms that a production request follows; extendable once by 30 days.
EU_PRESERVATION_PERIOD = timedelta(days=60)
EU_PRESERVATION_EXTENSION = timedelta(days=30)
# CPP art. 60-2, al. 2: a national preservation lasts one year at most.
NATIONAL_PRESERVATION_MAX_DAYS = 365


@dataclass(frozen=True)
class KindRule:
    basis: str
    # Fixed by law from the receipt; None: the order's own deadline, required.
    deadline: timedelta | None
    emergency_deadline: timedelta | None = None
    # Pages the on-call officer at once (chatsite_authority_orders_open{urgency="short"}).
    short: bool = False
    # Flagged in the back office when this close to the deadline.
    warning: timedelta = timedelta(days=3)


RULES: dict[str, KindRule] = {
    OrderKind.DATA_REQUEST: KindRule(
        _("Code de procédure pénale, art. 60-1, 77-1-1, 99-3 ; DSA art. 10"), None
    ),
    OrderKind.PRESERVATION: KindRule(
        _("Code de procédure pénale, art. 60-2, al. 2 (un an au plus)"),
        PRESERVATION_TARGET,
        warning=timedelta(hours=6),
    ),
    OrderKind.REMOVAL_ART9: KindRule(
        _("DSA art. 9 : le délai fixé par l'injonction"), None, warning=timedelta(hours=12)
    ),
    OrderKind.REMOVAL_TERRORIST: KindRule(
        _("Règlement (UE) 2021/784, art. 3(3) : une heure après réception"),
        timedelta(hours=1),
        short=True,
        warning=timedelta(hours=1),
    ),
    OrderKind.REMOVAL_LCEN: KindRule(
        _("Loi n° 2004-575 (LCEN), art. 6-1 : vingt-quatre heures"),
        timedelta(hours=24),
        short=True,
        warning=timedelta(hours=6),
    ),
    OrderKind.EU_PRODUCTION: KindRule(
        _("Règlement (UE) 2023/1543, art. 10 : dix jours, huit heures en urgence"),
        timedelta(days=10),
        emergency_deadline=timedelta(hours=8),
        warning=timedelta(days=2),
    ),
    OrderKind.EU_PRESERVATION: KindRule(
        _("Règlement (UE) 2023/1543, art. 11 : sans retard injustifié, 60 jours"),
        PRESERVATION_TARGET,
        warning=timedelta(hours=6),
    ),
}

# LCEN art. 6-1 covers two offences only: provocation to or apology of
# terrorism, and child sexual abuse images.
LCEN_PROVISIONS = ("CP-421-2-5", "CP-227-23")
TERRORIST_DEFAULT_PROVISION = "CP-421-2-5"


def rule(kind: str) -> KindRule:
    return RULES[OrderKind(kind)]


def is_short(kind: str, *, emergency: bool = False) -> bool:
    """Deadlines counted in hours: the on-call officer is paged and mailed at once."""
    return rule(kind).short or (emergency and rule(kind).emergency_deadline is not None)


def warning_window(kind: str) -> timedelta:
    return rule(kind).warning


def compute_deadline(
    kind: str, received_at: datetime, *, emergency: bool = False, stated: datetime | None = None
) -> datetime:
    """The time by which the order must have taken effect.

    ValueError when the kind needs the order's own deadline and none is given,
    or when an emergency is claimed for a kind that has none.
    """
    kind_rule = rule(kind)
    if emergency and kind_rule.emergency_deadline is None:
        raise ValueError("no emergency deadline for this kind of order")
    legal = kind_rule.emergency_deadline if emergency else kind_rule.deadline
    if legal is None:
        if stated is None:
            raise ValueError("this kind of order carries its own deadline")
        return stated
    deadline = received_at + legal
    return min(deadline, stated) if stated is not None else deadline


def preservation_end(kind: str, received_at: datetime, preserve_days: int | None):
    """When a preservation order's holds end by themselves; None: until released."""
    if kind == OrderKind.EU_PRESERVATION:
        return received_at + EU_PRESERVATION_PERIOD
    if kind == OrderKind.PRESERVATION and preserve_days:
        return received_at + timedelta(days=preserve_days)
    return None
