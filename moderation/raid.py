"""Raid mode, as the rest of the site meets it (docs/moderation.md, "Mode raid").

While a raid mode is on (moderation.models.RaidMode, written only by
moderation/actions/raid_mode.py):

- sign-ups pause (site-wide only): accounts' sign-up pause (accounts/gates.py);
- a recent account's first messages are held for review (`hold_recent_accounts_first_messages`,
  a post check of its own, apart from the filters and from any trust rule);
- the rooms covered get at least RAID_SLOW_MODE_SECONDS of slow mode
  (rooms.policy.effective_slow_mode: the room's own setting is never overwritten);
- recent accounts may not start direct conversations (site-wide only).

The modes in force are read through a per-process copy (rooms/policy_cache.py)
dropped on every save of a RaidMode, here and, through the channel layer, in
every other process: a post reads no table for it, and a mode's end is a
comparison with the clock (nothing has to run when it expires).

The wave detector counts the rows the site writes anyway (accounts' users,
rooms' memberships and contact requests) over a sliding window, in the
database: the same on the embedded SQLite default, on PostgreSQL, in one
process or several. It runs after the commit of a sign-up, of a room's new
member or of a new direct conversation, and trips the mode through
`do_trip_raid_mode`.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from allauth.account.signals import user_signed_up
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts import gates
from core.refusals import RefusalCode
from core.staff import has_staff_powers
from moderation.app_settings import app_settings
from moderation.models import RAID_MODES_CACHE, RaidMode, RaidTrigger
from rooms import policy, policy_cache
from rooms.models import ContactRequest, Message, Room, RoomKind, RoomMembership

logger = logging.getLogger(__name__)

RAID_MODES = policy_cache.register(RAID_MODES_CACHE)
_ALL_MODES = "all"


@dataclass(frozen=True)
class ActiveRaid:
    id: int
    room_id: int | None  # None: the whole site
    ends_at: datetime

    @property
    def site_wide(self) -> bool:
        return self.room_id is None


def _load_active() -> tuple[ActiveRaid, ...]:
    return tuple(
        ActiveRaid(row["id"], row["room_id"], row["ends_at"])
        for row in RaidMode.objects.active().values("id", "room_id", "ends_at")
    )


def active_raids() -> list[ActiveRaid]:
    """The raid modes in force now (from this process's copy)."""
    now = timezone.now()
    return [raid for raid in RAID_MODES.get(_ALL_MODES, _load_active) if raid.ends_at > now]


def site_raid() -> ActiveRaid | None:
    return next((raid for raid in active_raids() if raid.site_wide), None)


def raid_covering(room: Room) -> ActiveRaid | None:
    """The raid mode that applies in this room (the site's first), if any;
    never in a direct conversation (new ones are frozen instead)."""
    if room.kind == RoomKind.DIRECT:
        return None
    raids = active_raids()
    if not raids:
        return None
    return next((raid for raid in raids if raid.site_wide), None) or next(
        (raid for raid in raids if raid.room_id == room.pk), None
    )


def is_recent_account(user) -> bool:
    joined = getattr(user, "date_joined", None)
    if joined is None:
        return False
    return joined > timezone.now() - timedelta(hours=app_settings.RAID_RECENT_ACCOUNT_HOURS)


def until_text(raid: ActiveRaid) -> str:
    return date_format(timezone.localtime(raid.ends_at), "DATETIME_FORMAT")


def _raid_modes_changed(sender, instance, **kwargs) -> None:
    # A bulk write drops the copy itself (moderation.models.PolicyCachedQuerySet).
    policy_cache.changed(RAID_MODES.name, _ALL_MODES)


# --- the effects -------------------------------------------------------------------------


def raised_slow_mode(room: Room) -> int:
    """rooms.policy slow mode source: RAID_SLOW_MODE_SECONDS at least while a
    raid mode covers the room."""
    if raid_covering(room) is None:
        return 0
    return app_settings.RAID_SLOW_MODE_SECONDS


def _hold(raid_id: int, user_id: int, room_id: int, body: str) -> None:
    """Keeps the held message; a failure here must not turn the sender's
    refusal into a server error (the message is refused either way)."""
    from moderation.actions import do_hold_message

    try:
        do_hold_message(None, user_id, room_id, body, raid_mode_id=raid_id)
    except Exception:
        logger.exception("could not keep a message held by raid mode")


def hold_recent_accounts_first_messages(user, room, body) -> policy.Verdict | None:
    """The raid mode's own post check: while a raid mode covers the room, a
    recent account's messages wait for a moderator until RAID_FIRST_MESSAGES_HELD
    of its messages have been published. Registered as a text screen (a
    moderator's release of the held text is not held again) about new messages
    only (an edit of a published message is not held)."""
    raid = raid_covering(room)
    if raid is None or not is_recent_account(user) or has_staff_powers(user):
        return None
    published = Message.objects.filter(author=user, deleted_at__isnull=True)
    if published[: app_settings.RAID_FIRST_MESSAGES_HELD].count() >= (
        app_settings.RAID_FIRST_MESSAGES_HELD
    ):
        return None
    if policy.is_room_staff(user, room):
        return None
    return policy.Verdict(
        False,
        code=str(RefusalCode.FILTERED),
        detail=_(
            "Mode raid : les premiers messages des nouveaux comptes sont relus par un "
            "modérateur avant d'être publiés. Le vôtre est retenu ; il paraîtra s'il est accepté."
        ),
        after_refusal=partial(_hold, raid.id, user.pk, room.pk, body),
    )


def freeze_recent_accounts_new_conversations(sender, recipient) -> policy.Verdict | None:
    """rooms.policy direct check (a new conversation): during a site-wide raid mode, a
    recent account starts no direct conversation (403)."""
    raid = site_raid()
    if raid is None or not is_recent_account(sender) or has_staff_powers(sender):
        return None
    return policy.refuse_post(
        RefusalCode.FORBIDDEN,
        _(
            "Mode raid : les comptes récents ne peuvent pas ouvrir de nouvelle "
            "conversation privée pour le moment (jusqu'au %(until)s). Vos conversations "
            "en cours restent ouvertes."
        )
        % {"until": until_text(raid)},
    )


def pause_signups() -> str:
    """accounts' sign-up pause: why sign-ups are paused, "" when they are not."""
    raid = site_raid()
    if raid is None:
        return ""
    return _(
        "Les inscriptions sont suspendues jusqu'au %(until)s : le site fait face à une "
        "vague de comptes créés pour nuire (mode raid). Revenez un peu plus tard."
    ) % {"until": until_text(raid)}


# --- the wave detector -----------------------------------------------------------------------


@dataclass(frozen=True)
class Wave:
    trigger: str
    count: int
    threshold: int
    window_seconds: int

    @property
    def tripped(self) -> bool:
        return self.threshold > 0 and self.count >= self.threshold

    def figures(self, **extra) -> dict:
        return {
            "count": self.count,
            "threshold": self.threshold,
            "window_seconds": self.window_seconds,
            **extra,
        }


def _since(seconds: int) -> datetime:
    return timezone.now() - timedelta(seconds=seconds)


def signup_wave() -> Wave:
    window = app_settings.RAID_SIGNUPS_WINDOW_SECONDS
    count = get_user_model().objects.filter(date_joined__gte=_since(window)).count()
    return Wave(RaidTrigger.SIGNUPS, count, app_settings.RAID_SIGNUPS_THRESHOLD, window)


def join_wave(room_id: int) -> Wave:
    window = app_settings.RAID_JOINS_WINDOW_SECONDS
    count = RoomMembership.objects.filter(room_id=room_id, joined_at__gte=_since(window)).count()
    return Wave(RaidTrigger.JOINS, count, app_settings.RAID_JOINS_THRESHOLD, window)


def conversation_wave() -> Wave:
    """New direct conversations opened by recent accounts within the window."""
    window = app_settings.RAID_DIRECT_CONVERSATIONS_WINDOW_SECONDS
    recent = timezone.now() - timedelta(hours=app_settings.RAID_RECENT_ACCOUNT_HOURS)
    count = ContactRequest.objects.filter(
        created_at__gte=_since(window), sender__date_joined__gte=recent
    ).count()
    return Wave(
        RaidTrigger.DIRECT_CONVERSATIONS,
        count,
        app_settings.RAID_DIRECT_CONVERSATIONS_THRESHOLD,
        window,
    )


def _trip(wave: Wave, room: Room | None = None) -> None:
    from moderation.actions.raid_mode import do_trip_raid_mode

    figures = wave.figures(**({"room": room.slug} if room is not None else {}))
    raid = do_trip_raid_mode(wave.trigger, figures, room=room)
    if raid is not None:
        logger.warning("raid mode tripped: %s %s", wave.trigger, figures)


def check_site_wave(measure) -> None:
    """After a sign-up or a new conversation: trips the site-wide mode on a wave."""
    try:
        if site_raid() is not None:
            return
        wave = measure()
        if wave.tripped:
            _trip(wave)
    except Exception:
        # The sign-up or the conversation has committed: the detector must not fail it.
        logger.exception("raid mode: the wave detector failed")


def check_join_wave(room_id: int) -> None:
    try:
        room = Room.objects.filter(pk=room_id).first()
        if room is None or room.kind == RoomKind.DIRECT or raid_covering(room) is not None:
            return
        wave = join_wave(room_id)
        if wave.tripped:
            _trip(wave, room)
    except Exception:
        logger.exception("raid mode: the wave detector failed")


def _signed_up(sender, request, user, **kwargs) -> None:
    transaction.on_commit(partial(check_site_wave, signup_wave))


def _member_joined(sender, instance, created, **kwargs) -> None:
    if created and not kwargs.get("raw"):
        transaction.on_commit(partial(check_join_wave, instance.room_id))


def _conversation_opened(sender, instance, created, **kwargs) -> None:
    if created and not kwargs.get("raw"):
        transaction.on_commit(partial(check_site_wave, conversation_wave))


def register() -> None:
    post_save.connect(_raid_modes_changed, sender=RaidMode, dispatch_uid="moderation.raid.cache")
    post_delete.connect(
        _raid_modes_changed, sender=RaidMode, dispatch_uid="moderation.raid.cache.delete"
    )
    user_signed_up.connect(_signed_up, dispatch_uid="moderation.raid.signups")
    post_save.connect(_member_joined, sender=RoomMembership, dispatch_uid="moderation.raid.joins")
    post_save.connect(
        _conversation_opened, sender=ContactRequest, dispatch_uid="moderation.raid.conversations"
    )
    gates.register_signup_pause(pause_signups)
    policy.register_slow_mode_source(raised_slow_mode)
    policy.register_direct_check(freeze_recent_accounts_new_conversations)
    # After moderation's own checks (a muted account is refused before it is held).
    policy.register_post_check(
        hold_recent_accounts_first_messages, screens_text=True, new_messages_only=True
    )
