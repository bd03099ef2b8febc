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
from moderation import actions, detection, queries
from moderation.models import (
    FILTER_RULES_CACHE,
    SANCTIONS_CACHE,
    FilterAction,
    FilterKind,
    FilterRule,
    ReportCategory,
    SafetySignal,
    SafetySignalKind,
    Sanction,
    SanctionKind,
    Severity,
    StatementOfReasons,
)
from rooms import policy, policy_cache
from rooms.models import ContactRequest, Message, RoomKind
from rooms.protocol import CloseCode

logger = logging.getLogger(__name__)

# An account that opens this many new direct conversations within the window.
MASS_DIRECT_MESSAGES_COUNT = 8
MASS_DIRECT_MESSAGES_WINDOW = timedelta(hours=1)
# The same signal about the same account is raised once per cool-down.
SIGNAL_COOLDOWN = timedelta(minutes=30)
# How long a minor's declaration makes a room's requests for images, contact or
# a meeting (and any sextortion there) a child-safety case: in a direct or
# private conversation the same two people go on talking for days; a public
# room's talk moves on within the hour.
MINOR_DECLARED_WINDOW_PRIVATE = timedelta(days=7)
MINOR_DECLARED_WINDOW_PUBLIC = timedelta(hours=1)
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
SANCTIONS = policy_cache.register(SANCTIONS_CACHE)
FILTER_RULES = policy_cache.register(FILTER_RULES_CACHE)


def _unexpired_sanctions(user_id: int) -> tuple[Sanction, ...]:
    """The user's sanctions not lifted and not yet over, in every room; which
    of them apply now is decided at each use (a timed one expires by itself)."""
    if not queries.may_have_active_sanction(user_id):
        return ()  # the common case, in one plain statement
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


# Strongest first: the measure a page shows when several apply.
RESTRICTION_ORDER = (SanctionKind.BAN, SanctionKind.KICK, SanctionKind.MUTE)


def _restriction_texts(kind: str, site_wide: bool) -> tuple[str, str]:
    """The measure and its scope, then what it means for the member."""
    if kind == SanctionKind.MUTE:
        if site_wide:
            return _("Mise en sourdine sur tout le site"), _("Vous pouvez lire, pas écrire.")
        return _("Mise en sourdine dans ce salon"), _("Vous pouvez le lire, pas y écrire.")
    if kind == SanctionKind.KICK:
        return _("Exclusion temporaire de ce salon"), _("Vous ne pouvez pas y entrer.")
    if site_wide:
        return _("Bannissement du site"), _("Vous ne pouvez plus entrer dans les salons.")
    return _("Bannissement de ce salon"), _("Vous ne pouvez plus y entrer.")


def current_restriction(user, room) -> policy.Restriction | None:
    """The strongest active mute, kick or ban that applies in `room` (the
    latest-ending of that kind), with its statement of reasons: what the room
    page and the socket's `restriction` frame show. Read from the database,
    not the per-process cache: it is asked just after a change, which another
    process's cache may not have heard of yet, and rarely (a page, a socket
    opening, a measure)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not queries.may_have_active_sanction(user.pk):
        return None
    sanctions = list(queries.active_sanctions(user, room, RESTRICTION_ORDER))
    if not sanctions:
        return None
    strongest = min(RESTRICTION_ORDER.index(sanction.kind) for sanction in sanctions)
    kind = RESTRICTION_ORDER[strongest]
    of_kind = [sanction for sanction in sanctions if sanction.kind == kind]
    # Permanent first, else the one that ends last: the end the member must wait for.
    sanction = max(of_kind, key=lambda each: (each.ends_at is None, each.ends_at or each.created))
    statement = StatementOfReasons.objects.filter(sanction=sanction).first()
    site_wide = sanction.room_id is None
    label, detail = _restriction_texts(sanction.kind, site_wide)
    return policy.Restriction(
        measure=sanction.kind,
        site_wide=site_wide,
        until=sanction.ends_at,
        label=label,
        detail=detail,
        statement_url=statement.get_absolute_url() if statement else "",
        can_appeal=bool(statement and statement.can_appeal),
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


def _recently_raised(kind: str, user, room=None) -> bool:
    since = timezone.now() - SIGNAL_COOLDOWN
    raised = SafetySignal.objects.filter(kind=kind, user=user, created__gte=since)
    if room is not None:
        raised = raised.filter(room=room)
    return raised.exists()


def _minor_declared_here(room, user) -> int | None:
    """The member who said they were a minor in this room lately, other than `user`.
    Asked only when a message matched a request or sextortion pattern."""
    public = room.kind == RoomKind.PUBLIC
    window = MINOR_DECLARED_WINDOW_PUBLIC if public else MINOR_DECLARED_WINDOW_PRIVATE
    return (
        SafetySignal.objects.filter(
            kind=SafetySignalKind.SELF_DECLARED_MINOR,
            room=room,
            created__gte=timezone.now() - window,
        )
        .exclude(user=user)
        .order_by("-created")
        .values_list("user_id", flat=True)
        .first()
    )


def detect_child_safety(user, room, body: str, *, folded: str, meetup: bool, moves: bool) -> None:
    """A member who says they are a minor; what others then ask of them; sextortion.

    Each raises an urgent report with the conversation attached, and none refuses
    or changes the message: a minor's own words are delivered like any other, and
    neither they nor the other party learn that a moderator was called. One fold
    and compiled patterns per message; the database is asked only on a match."""
    minor = None
    if detection.declared_minor(folded, year=timezone.localdate().year):
        kind = SafetySignalKind.SELF_DECLARED_MINOR
        # Per room: a later request in another conversation must find this one.
        if not _recently_raised(kind, user, room):
            partner = policy.direct_partner(room, user) if room.is_direct else None
            actions.raise_safety_signal(
                kind,
                user,
                room,
                excerpt=body,
                details={
                    "room_kind": room.kind,
                    "with_member": partner.pk if partner is not None else None,
                },
                category=ReportCategory.CHILD_SAFETY,
                severity=Severity.URGENT,
            )
    elif detection.asks_minor_for_contact(folded, body, meetup=meetup, moves=moves):
        minor = _minor_declared_here(room, user)
        kind = SafetySignalKind.MINOR_CONTACT_REQUEST
        if minor is not None and not _recently_raised(kind, user, room):
            actions.raise_safety_signal(
                kind,
                user,
                room,
                excerpt=body,
                details={"minor": minor, "room_kind": room.kind},
                category=ReportCategory.CHILD_SAFETY,
                severity=Severity.URGENT,
            )
    if detection.sextortion(folded) and not _recently_raised(
        SafetySignalKind.SEXTORTION, user, room
    ):
        minor = minor or _minor_declared_here(room, user)
        actions.raise_safety_signal(
            SafetySignalKind.SEXTORTION,
            user,
            room,
            excerpt=body,
            details={"minor": minor, "room_kind": room.kind},
            # Sextortion is blackmail (R8, CP 312-10): urgent, and a child-safety
            # case when a minor has spoken in the room.
            category=ReportCategory.CHILD_SAFETY
            if minor is not None
            else ReportCategory.SEXUAL_CONTENT,
            severity=Severity.URGENT,
        )


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
    # One fold for every text signal of this message.
    folded = detection.chat_fold(body)
    meetup = detection.MEETUP.search(folded) is not None
    moves = detection.asks_to_move_to_other_app(body, folded)
    checks = (
        (
            SafetySignalKind.MEETUP_WITH_CONTACT,
            meetup and detection.has_address_or_phone(body, folded),
        ),
        (SafetySignalKind.MOVE_TO_OTHER_APP, moves),
    )
    for kind, found in checks:
        if found and not _recently_raised(kind, user):
            actions.raise_safety_signal(kind, user, room, excerpt=body)
    detect_child_safety(user, room, body, folded=folded, meetup=meetup, moves=moves)
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
    policy.register_restriction_source(current_restriction)
    # Order matters: a muted user's text is neither filtered nor scanned.
    policy.register_post_check(refuse_muted)
    # The trust levels' gates (moderation/trust.py), before the filters: a newcomer's
    # link is refused for what would unlock it, not scanned.
    from moderation import trust

    trust.register()
    policy.register_post_check(apply_filters, screens_text=True)
    policy.register_post_check(detect_safety_signals, screens_text=True)
