"""Trust levels: what a member may do, from what the platform knows of them.

A level (0 nouveau, 1 membre, 2 habitué, 3 confirmé) is computed from four
inputs: the account's age, the route by which its age was verified, the
sanctions that stand against it (not lifted, within the window) and how
accurate its own reports were (upheld against rejected). The thresholds are
settings (moderation/app_settings.py, docs/configuration.md); the level is the
highest whose requirements, and those of every level below, are all met.

The level gates (docs/moderation.md, "Niveaux de confiance"): new direct
conversations per hour, links, contact details, and the first messages in a
busy public room, held for a moderator. Each gate is its own named check,
registered in rooms/policy.py.

The post path must stay cheap (docs/performance.md, "Trust levels"): each
member's level is kept per process (rooms/policy_cache.py), dropped when one of
their sanctions or reports changes, and after the cache's expiry (which is how a
level that the account's age alone raises is seen); the account's age and
verification route are on the user row the socket already holds. A member at or
above every gate's level costs a few cached look-ups per post, no query. The
member's page and the admin read the counts afresh (`standing`).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from functools import partial

from django.db.models import Count, Max, Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import AgeVerificationMethod
from core.refusals import RefusalCode
from core.staff import has_staff_powers
from moderation import actions, detection
from moderation.app_settings import app_settings
from moderation.models import TRUST_LEVELS_CACHE, Report, ReportSource, ReportStatus, Sanction
from rooms import policy, policy_cache
from rooms.models import ContactRequest, Message, RoomKind

logger = logging.getLogger(__name__)


class TrustLevel(IntEnum):
    NEW = 0
    MEMBER = 1
    REGULAR = 2
    CONFIRMED = 3


LEVEL_NAMES = {
    TrustLevel.NEW: gettext_lazy("nouveau"),
    TrustLevel.MEMBER: gettext_lazy("membre"),
    TrustLevel.REGULAR: gettext_lazy("habitué"),
    TrustLevel.CONFIRMED: gettext_lazy("confirmé"),
}
HIGHEST = TrustLevel.CONFIRMED


def level_name(level: int) -> str:
    return str(LEVEL_NAMES[TrustLevel(level)])


@dataclass(frozen=True)
class TrustRecord:
    """What the level needs from the database, read in two queries."""

    upheld_sanctions: int
    # The latest sanction counted: when it leaves the window, the count drops.
    last_sanction_at: datetime | None
    reports_upheld: int
    reports_rejected: int

    @property
    def reports_decided(self) -> int:
        return self.reports_upheld + self.reports_rejected

    @property
    def report_accuracy(self) -> int | None:
        """The percentage of decided reports upheld (None: none decided)."""
        if not self.reports_decided:
            return None
        return round(100 * self.reports_upheld / self.reports_decided)


@dataclass(frozen=True)
class Requirement:
    """One condition of a level, as the member's page and the admin show it."""

    met: bool
    text: str
    # What the member has now, or when the condition will be met.
    status: str = ""


@dataclass(frozen=True)
class Standing:
    """A member's level, and for each level the conditions and whether they hold."""

    level: int
    requirements: dict[int, list[Requirement]]

    @property
    def name(self) -> str:
        return level_name(self.level)

    @property
    def next_level(self) -> int | None:
        return self.level + 1 if self.level < HIGHEST else None

    @property
    def next_requirements(self) -> list[Requirement]:
        return self.requirements.get(self.next_level, []) if self.next_level else []


# Per process, each member's level, dropped on every change of their sanctions or
# reports; a level that time alone raises (the account's age) is seen within the
# cache's expiry (rooms/policy_cache.py, TTL_SECONDS).
# A bulk write of sanctions drops it too (moderation/models.py, `also_drops`); reports
# change only through save(), one by one (their decisions), which the signals follow.
LEVELS = policy_cache.register(TRUST_LEVELS_CACHE)
# A room's recent message count, to tell a busy room: not invalidated, only
# expired (being busy is a matter of minutes; nothing is refused by it alone).
ROOM_ACTIVITY = policy_cache.register("moderation.trust.room_activity", ttl=30.0)


def load_record(user_id: int) -> TrustRecord:
    now = timezone.now()
    since = now - timedelta(days=app_settings.TRUST_SANCTION_WINDOW_DAYS)
    sanctions = Sanction.objects.filter(
        user_id=user_id, automated=False, lifted_at__isnull=True, created__gte=since
    ).aggregate(count=Count("id"), last=Max("created"))
    reports = Report.objects.filter(reporter_id=user_id, source=ReportSource.USER).aggregate(
        upheld=Count("id", filter=Q(status=ReportStatus.ACTIONED)),
        rejected=Count("id", filter=Q(status=ReportStatus.DISMISSED)),
    )
    return TrustRecord(
        upheld_sanctions=sanctions["count"],
        last_sanction_at=sanctions["last"],
        reports_upheld=reports["upheld"],
        reports_rejected=reports["rejected"],
    )


def record_of(user) -> TrustRecord:
    """Read now, for the member's page and the admin (not cached)."""
    return load_record(user.pk)


def _method_names(methods) -> str:
    labels = dict(AgeVerificationMethod.choices)
    return ", ".join(str(labels.get(method, method)) for method in methods)


def _requirements(user, record: TrustRecord, thresholds: dict, now) -> list[Requirement]:
    window = app_settings.TRUST_SANCTION_WINDOW_DAYS
    days = thresholds["account_age_days"]
    ready_at = user.date_joined + timedelta(days=days)
    age_met = now >= ready_at
    methods = thresholds["verification_methods"]
    method_met = user.age_verification_method in methods
    current_method = (
        user.get_age_verification_method_display() if user.age_verification_method else _("aucune")
    )
    allowed = thresholds["max_upheld_sanctions"]
    sanctions_met = record.upheld_sanctions <= allowed
    sanctions_status = ngettext(
        "%(count)d sanction maintenue", "%(count)d sanctions maintenues", record.upheld_sanctions
    ) % {"count": record.upheld_sanctions}
    if not sanctions_met and record.last_sanction_at is not None:
        counts_until = timezone.localtime(record.last_sanction_at + timedelta(days=window))
        sanctions_status += " ; " + _("la plus récente compte jusqu'au %(date)s") % {
            "date": date_format(counts_until, "DATE_FORMAT")
        }
    accuracy = record.report_accuracy
    least = thresholds["min_decided_reports"]
    wanted = thresholds["min_report_accuracy"]
    reports_met = record.reports_decided < least or (accuracy or 0) >= wanted
    if accuracy is None:
        reports_status = _("aucun signalement décidé")
    else:
        reports_status = _("%(percent)d %% retenus sur %(count)d décidés") % {
            "percent": accuracy,
            "count": record.reports_decided,
        }
    requirements = [
        Requirement(
            age_met,
            ngettext(
                "Compte créé depuis au moins %(days)d jour",
                "Compte créé depuis au moins %(days)d jours",
                days,
            )
            % {"days": days},
            "" if age_met else _("encore %(delay)s") % {"delay": timeuntil(ready_at, now)},
        ),
        Requirement(
            method_met,
            _("Âge vérifié par : %(methods)s") % {"methods": _method_names(methods)},
            _("vous : %(method)s") % {"method": current_method},
        ),
        Requirement(
            sanctions_met,
            (
                _("Aucune sanction maintenue sur les %(days)d derniers jours")
                if allowed == 0
                else _("Au plus %(count)d sanction(s) maintenue(s) sur les %(days)d derniers jours")
            )
            % {"count": allowed, "days": window},
            sanctions_status,
        ),
    ]
    if wanted:
        requirements.append(
            Requirement(
                reports_met,
                _(
                    "Signalements fiables : au moins %(percent)d %% retenus, "
                    "dès %(count)d signalements décidés"
                )
                % {"percent": wanted, "count": least},
                reports_status,
            )
        )
    return requirements


def standing(user, record: TrustRecord | None = None, *, now=None) -> Standing:
    """The member's level and, for each level, its conditions (the page and the admin)."""
    record = record if record is not None else record_of(user)
    now = now or timezone.now()
    requirements = {}
    level = TrustLevel.NEW
    reached = True
    for number, thresholds in enumerate(app_settings.TRUST_LEVELS, start=1):
        requirements[number] = _requirements(user, record, thresholds, now)
        reached = reached and all(requirement.met for requirement in requirements[number])
        if reached:
            level = number
    return Standing(level=level, requirements=requirements)


def compute_level(user, record: TrustRecord, now) -> int:
    """As `standing(...).level`, without the texts: what the gates ask."""
    level = TrustLevel.NEW
    for number, thresholds in enumerate(app_settings.TRUST_LEVELS, start=1):
        if (
            now < user.date_joined + timedelta(days=thresholds["account_age_days"])
            or user.age_verification_method not in thresholds["verification_methods"]
            or record.upheld_sanctions > thresholds["max_upheld_sanctions"]
            or (
                record.reports_decided >= thresholds["min_decided_reports"]
                and (record.report_accuracy or 0) < thresholds["min_report_accuracy"]
            )
        ):
            break
        level = number
    return level


def _load_level(user) -> int:
    return compute_level(user, load_record(user.pk), timezone.now())


def level_of(user) -> int:
    """The member's level now (the gates): one cached look-up, no query when warm."""
    return LEVELS.get(user.pk, partial(_load_level, user))


def _record_changed(user_id: int | None) -> None:
    if user_id is not None:
        policy_cache.changed(LEVELS.name, user_id)


def _sanction_changed(sender, instance, **kwargs) -> None:
    _record_changed(instance.user_id)


def _report_changed(sender, instance, **kwargs) -> None:
    _record_changed(instance.reporter_id)


# --- what each level unlocks --------------------------------------------------------------


def unlock_hint(needed: int) -> str:
    """What a refusal tells the member: the level it needs, and where to see the way there."""
    return _(
        "Il faut le niveau de confiance « %(name)s » (%(level)d) : voyez ce qui le débloque "
        "dans « Mon compte », rubrique « Niveau de confiance »."
    ) % {"name": level_name(needed), "level": needed}


def gates_by_level() -> list[dict]:
    """For the member's page: what each level may do."""
    per_hour = app_settings.TRUST_DIRECT_CONVERSATIONS_PER_HOUR
    rows = []
    for level in TrustLevel:
        rows.append(
            {
                "level": int(level),
                "name": level_name(level),
                "direct_per_hour": per_hour[level],
                "links": level >= app_settings.TRUST_LINKS_MIN_LEVEL,
                "contact_details": level >= app_settings.TRUST_CONTACT_DETAILS_MIN_LEVEL,
                "busy_rooms": level >= app_settings.TRUST_BUSY_ROOM_MIN_LEVEL,
            }
        )
    return rows


# --- the gates (rooms/policy.py checks) ---------------------------------------------------


def _exempt(user) -> bool:
    return not app_settings.TRUST_GATES or has_staff_powers(user)


def limit_direct_conversations(sender, recipient) -> policy.Verdict | None:
    """New direct conversations per hour, by level: `rate_limited`."""
    if _exempt(sender):
        return None
    level = level_of(sender)
    per_hour = app_settings.TRUST_DIRECT_CONVERSATIONS_PER_HOUR
    limit = per_hour[level]
    since = timezone.now() - timedelta(hours=1)
    opened = ContactRequest.objects.filter(sender=sender, created_at__gte=since)
    if opened.count() < limit:
        return None
    oldest = opened.order_by("created_at").values_list("created_at", flat=True).first()
    detail = ngettext(
        "Vous avez ouvert %(count)d nouvelle conversation dans l'heure, le maximum au "
        "niveau de confiance « %(name)s ». Réessayez dans %(delay)s.",
        "Vous avez ouvert %(count)d nouvelles conversations dans l'heure, le maximum au "
        "niveau de confiance « %(name)s ». Réessayez dans %(delay)s.",
        limit,
    ) % {
        "count": limit,
        "name": level_name(level),
        "delay": timeuntil(oldest + timedelta(hours=1)),
    }
    if level < HIGHEST and per_hour[level + 1] > limit:
        detail += " " + _("Au niveau « %(name)s », la limite passe à %(count)d par heure.") % {
            "name": level_name(level + 1),
            "count": per_hour[level + 1],
        }
    return policy.refuse_post(RefusalCode.RATE_LIMITED, detail)


def refuse_links_below_level(user, room, body) -> policy.Verdict | None:
    """Links need TRUST_LINKS_MIN_LEVEL: `forbidden`."""
    needed = app_settings.TRUST_LINKS_MIN_LEVEL
    if not needed or _exempt(user) or not detection.LINK.search(body):
        return None
    if level_of(user) >= needed:
        return None
    return policy.refuse_post(
        RefusalCode.FORBIDDEN,
        _("Les liens ne sont pas encore permis à votre compte.") + " " + unlock_hint(needed),
    )


def refuse_contact_details_below_level(user, room, body) -> policy.Verdict | None:
    """Phone numbers, e-mail addresses and messaging handles need
    TRUST_CONTACT_DETAILS_MIN_LEVEL: `forbidden`. A bare @name is a mention here,
    not a handle: only handles named with their app count."""
    needed = app_settings.TRUST_CONTACT_DETAILS_MIN_LEVEL
    if not needed or _exempt(user) or level_of(user) >= needed:
        return None
    if not detection.contact_details(body, bare_handles=False):
        return None
    return policy.refuse_post(
        RefusalCode.FORBIDDEN,
        _(
            "Les coordonnées (téléphone, e-mail, pseudo d'une autre messagerie) ne sont pas "
            "encore permises à votre compte."
        )
        + " "
        + unlock_hint(needed),
    )


def _recent_messages(room_id: int) -> int:
    since = timezone.now() - timedelta(minutes=app_settings.TRUST_BUSY_ROOM_WINDOW_MINUTES)
    return Message.objects.filter(room_id=room_id, created__gte=since).count()


def is_busy(room) -> bool:
    count = ROOM_ACTIVITY.get(room.pk, partial(_recent_messages, room.pk))
    return count >= app_settings.TRUST_BUSY_ROOM_MESSAGES


def _hold(user_id: int, room_id: int, body: str, level: int) -> None:
    """Keeps the held message; a failure here must not turn the sender's
    refusal into a server error (the message is refused either way)."""
    try:
        actions.do_hold_first_message(user_id, room_id, body, level=level)
    except Exception:
        logger.exception("could not keep a first message held for review")


def hold_first_messages_in_busy_room(user, room, body) -> policy.Verdict | None:
    """Below TRUST_BUSY_ROOM_MIN_LEVEL, a member's first messages in a busy
    public room wait for a moderator (`filtered`, kept as a held message).
    Raid mode (another check) holds recent accounts' messages on its own terms."""
    needed = app_settings.TRUST_BUSY_ROOM_MIN_LEVEL
    if not needed or room.kind != RoomKind.PUBLIC or _exempt(user):
        return None
    level = level_of(user)
    if level >= needed:
        return None
    if not is_busy(room):
        return None
    first = app_settings.TRUST_BUSY_ROOM_FIRST_MESSAGES
    published = Message.objects.filter(room=room, author=user)[:first].count()
    if published >= first or policy.is_room_staff(user, room):
        return None
    return policy.Verdict(
        False,
        code=str(RefusalCode.FILTERED),
        detail=_(
            "Ce salon est très actif : vos premiers messages ici sont relus par un modérateur "
            "avant d'être publiés."
        )
        + " "
        + unlock_hint(needed),
        after_refusal=partial(_hold, user.pk, room.pk, body, level),
    )


def register() -> None:
    """Moderation's AppConfig.ready (through policy_hooks.register, for the order)."""
    post_save.connect(_sanction_changed, sender=Sanction, dispatch_uid="moderation.trust.sanction")
    post_delete.connect(
        _sanction_changed, sender=Sanction, dispatch_uid="moderation.trust.sanction.delete"
    )
    post_save.connect(_report_changed, sender=Report, dispatch_uid="moderation.trust.report")
    post_delete.connect(
        _report_changed, sender=Report, dispatch_uid="moderation.trust.report.delete"
    )
    policy.register_direct_check(limit_direct_conversations)
    # They judge the text: a held message a moderator released is not judged again.
    policy.register_post_check(refuse_links_below_level, screens_text=True)
    policy.register_post_check(refuse_contact_details_below_level, screens_text=True)
    policy.register_post_check(hold_first_messages_in_busy_room, screens_text=True)
