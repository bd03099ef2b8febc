"""Moderation's answers to rooms' questions (rooms/policy.py), registered at start-up.

- join: an active ban or kick, in the room or site-wide, refuses with 4403;
- post: a mute (or a ban) refuses with `muted`; the automatic filters block
  (`filtered`), hold (`filtered`, kept for review), flag or mute; the safety
  signals never refuse, they only raise the matter to the queue.

The post checks run inside rooms' post transaction: what they write commits
with the message, or rolls back with a refusal (hence `after_refusal` for a hold).
"""

import logging
from datetime import timedelta
from functools import partial

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core import metrics
from core.refusals import RefusalCode
from core.staff import has_staff_powers
from moderation import actions, detection
from moderation.models import (
    FilterAction,
    FilterKind,
    FilterRule,
    SafetySignal,
    SafetySignalKind,
    Sanction,
    SanctionKind,
)
from rooms import policy, policy_cache
from rooms.models import ContactRequest, Message
from rooms.protocol import CloseCode

logger = logging.getLogger(__name__)

# An account that opens this many new direct conversations within the window.
MASS_DIRECT_MESSAGES_COUNT = 8
MASS_DIRECT_MESSAGES_WINDOW = timedelta(hours=1)
# The same signal about the same account is raised once per cool-down.
SIGNAL_COOLDOWN = timedelta(minutes=30)
# Strongest first: the first matching rule in this order decides.
ACTION_ORDER = [FilterAction.BLOCK, FilterAction.HOLD, FilterAction.MUTE, FilterAction.FLAG]


def _until(sanction) -> str:
    if sanction.ends_at is None:
        return _("définitivement")
    return _("jusqu'au %(date)s") % {
        "date": date_format(timezone.localtime(sanction.ends_at), "DATETIME_FORMAT")
    }


# Per process, dropped on every change (rooms/policy_cache.py): a post reads
# neither the author's sanctions nor the filter rules from the database.
SANCTIONS = policy_cache.register("moderation.sanctions")
FILTER_RULES = policy_cache.register("moderation.filter_rules")


def _unexpired_sanctions(user_id: int) -> tuple[Sanction, ...]:
    """The user's sanctions not lifted and not yet over, in every room; which
    of them apply now is decided at each use (a timed one expires by itself)."""
    now = timezone.now()
    return tuple(
        Sanction.objects.filter(user_id=user_id, lifted_at__isnull=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .only("id", "kind", "room_id", "starts_at", "ends_at")
    )


def _active_sanction(user, room, kinds) -> Sanction | None:
    """As `queries.active_sanctions(...).order_by("ends_at").last()`: the
    longest active one (a permanent one first), here or site-wide."""
    sanctions = SANCTIONS.get(user.pk, partial(_unexpired_sanctions, user.pk))
    now = timezone.now()
    applying = [
        sanction
        for sanction in sanctions
        if sanction.kind in kinds
        and sanction.room_id in (None, room.pk)
        and sanction.starts_at <= now
        and (sanction.ends_at is None or sanction.ends_at > now)
    ]
    if not applying:
        return None
    return max(applying, key=lambda s: (s.ends_at is None, s.ends_at or now, s.pk))


def _sanction_changed(sender, instance, **kwargs) -> None:
    policy_cache.changed(SANCTIONS.name, instance.user_id)


def _filter_rule_changed(sender, instance, **kwargs) -> None:
    policy_cache.changed(FILTER_RULES.name)


def refuse_banned(user, room) -> policy.Verdict | None:
    """Banned or kicked, here or site-wide: 4403."""
    sanction = _active_sanction(user, room, (SanctionKind.BAN, SanctionKind.KICK))
    if sanction is None:
        return None
    if sanction.kind == SanctionKind.BAN:
        detail = _("Vous êtes banni %(until)s.") % {"until": _until(sanction)}
    else:
        detail = _("Vous êtes exclu de ce salon %(until)s.") % {"until": _until(sanction)}
    return policy.refuse_join(CloseCode.FORBIDDEN, detail)


def refuse_muted(user, room, body) -> policy.Verdict | None:
    """Muted (or banned, kicked), here or site-wide: `muted` error frames."""
    sanction = _active_sanction(
        user, room, (SanctionKind.MUTE, SanctionKind.BAN, SanctionKind.KICK)
    )
    if sanction is None:
        return None
    return policy.refuse_post(
        RefusalCode.MUTED,
        _(
            "Vous ne pouvez pas écrire ici %(until)s "
            "(décision de modération : voir « Mes décisions »)."
        )
        % {"until": _until(sanction)},
    )


# --- automatic filters -------------------------------------------------------------------------


def rule_matches(rule: FilterRule, user, room, body: str) -> list[str]:
    """What in the message the rule objects to (empty: nothing)."""
    if rule.kind == FilterKind.WORDS:
        return detection.words_found(body, rule.pattern)
    if rule.kind == FilterKind.REGEX:
        return detection.regex_found(body, rule.pattern)
    if rule.kind == FilterKind.LINKS:
        return detection.disallowed_links(body, rule.pattern)
    if rule.kind == FilterKind.CONTACT:
        return detection.contact_details(body)
    if rule.kind == FilterKind.FLOOD:
        since = timezone.now() - timedelta(seconds=rule.flood_seconds)
        recent = Message.objects.filter(room=room, author=user, created__gte=since).count()
        # This message would be one more than the rule allows.
        if recent + 1 > rule.flood_count:
            return [
                _("%(count)d messages en %(seconds)d s")
                % {"count": recent + 1, "seconds": rule.flood_seconds}
            ]
    return []


def _active_filter_rules() -> tuple[FilterRule, ...]:
    return tuple(FilterRule.objects.filter(is_active=True))


def _hold(rule_id: int, user_id: int, room_id: int, body: str) -> None:
    """Keeps the held message; a failure here must not turn the sender's
    refusal into a server error (the message is refused either way)."""
    try:
        actions.do_hold_message(rule_id, user_id, room_id, body)
    except Exception:
        logger.exception("could not keep a held message for review")


def _record_block(rule_id: int, user_id: int, room_id: int, body: str) -> None:
    """The blocked message's statement of reasons; like a hold, a failure here
    must not turn the refusal into a server error."""
    try:
        actions.do_record_filter_block(rule_id, user_id, room_id, body)
    except Exception:
        logger.exception("could not write the statement of reasons of a blocked message")


def apply_filters(user, room, body) -> policy.Verdict | None:
    if has_staff_powers(user):
        return None  # moderators quote what they moderate
    rules = FILTER_RULES.get(None, _active_filter_rules)
    matched = [
        (rule, found)
        for rule in rules
        if rule.room_id in (None, room.pk) and (found := rule_matches(rule, user, room, body))
    ]
    if not matched:
        return None
    matched.sort(key=lambda pair: (ACTION_ORDER.index(pair[0].action), pair[0].pk))
    rule, found = matched[0]
    metrics.filter_hit(rule.action)
    if rule.action == FilterAction.BLOCK:
        verdict = policy.refuse_post(
            RefusalCode.FILTERED,
            _("Ce message n'est pas autorisé ici (filtre « %(rule)s »).") % {"rule": rule.name},
        )
        return policy.Verdict(
            False,
            code=verdict.code,
            detail=verdict.detail,
            after_refusal=partial(_record_block, rule.pk, user.pk, room.pk, body),
        )
    if rule.action == FilterAction.HOLD:
        verdict = policy.refuse_post(
            RefusalCode.FILTERED,
            _("Votre message est retenu : un modérateur le relira avant de le publier."),
        )
        return policy.Verdict(
            False,
            code=verdict.code,
            detail=verdict.detail,
            after_refusal=partial(_hold, rule.pk, user.pk, room.pk, body),
        )
    # Flag and mute let the message through; every other matching flag or
    # mute rule acts too.
    for rule, found in matched:
        if rule.action == FilterAction.MUTE:
            actions.mute_by_filter(rule, user, room, found)
        elif rule.action == FilterAction.FLAG:
            actions.flag_message(rule, user, room, body, found)
    return None


# --- safety signals ------------------------------------------------------------------------------


def _recently_raised(kind: str, user) -> bool:
    since = timezone.now() - SIGNAL_COOLDOWN
    return SafetySignal.objects.filter(kind=kind, user=user, created__gte=since).exists()


def detect_safety_signals(user, room, body) -> None:
    """Raises the signals coco's story calls for; never refuses the message."""
    if has_staff_powers(user):
        return None
    if room.is_direct:
        since = timezone.now() - MASS_DIRECT_MESSAGES_WINDOW
        opened = ContactRequest.objects.filter(sender=user, created_at__gte=since).count()
        kind = SafetySignalKind.MASS_DIRECT_MESSAGES
        if opened >= MASS_DIRECT_MESSAGES_COUNT and not _recently_raised(kind, user):
            actions.raise_safety_signal(
                kind,
                user,
                room,
                excerpt=body,
                details={"conversations_opened": opened, "window_minutes": 60},
            )
    checks = (
        (SafetySignalKind.MEETUP_WITH_CONTACT, detection.asks_to_meet_with_contact),
        (SafetySignalKind.MOVE_TO_OTHER_APP, detection.asks_to_move_to_other_app),
    )
    for kind, detect in checks:
        if detect(body) and not _recently_raised(kind, user):
            actions.raise_safety_signal(kind, user, room, excerpt=body)
    return None


def register() -> None:
    post_save.connect(_sanction_changed, sender=Sanction, dispatch_uid="moderation.sanction.cache")
    post_delete.connect(
        _sanction_changed, sender=Sanction, dispatch_uid="moderation.sanction.cache.delete"
    )
    post_save.connect(
        _filter_rule_changed, sender=FilterRule, dispatch_uid="moderation.filterrule.cache"
    )
    post_delete.connect(
        _filter_rule_changed, sender=FilterRule, dispatch_uid="moderation.filterrule.cache.delete"
    )
    policy.register_join_check(refuse_banned)
    # Order matters: a muted user's text is neither filtered nor scanned.
    policy.register_post_check(refuse_muted)
    policy.register_post_check(apply_filters, screens_text=True)
    policy.register_post_check(detect_safety_signals, screens_text=True)
