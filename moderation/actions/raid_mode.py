"""Raid mode: switched on by staff (a reason) or by the wave detector (the
figures that tripped it), extended, switched off; it also ends by itself at
`ends_at` (docs/moderation.md, "Mode raid").

Every server process reads the raid modes in force through a per-process copy
(moderation/raid.py); saving a RaidMode drops it here at once and everywhere
else on commit (rooms/policy_cache.py), so no action here sends anything itself.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from moderation.actions.common import _require_text
from moderation.app_settings import app_settings
from moderation.models import REASON_MAX_LENGTH, RaidMode, RaidTrigger
from rooms.models import Room, RoomKind

RAID_TARGET = "moderation.raidmode"
# Staff may set a raid mode for up to a week at a time (then extend it).
MAX_DURATION_MINUTES = 7 * 24 * 60


def _duration(minutes) -> timedelta:
    if minutes is None:
        minutes = app_settings.RAID_MODE_DURATION_MINUTES
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise Refused(RefusalCode.INVALID, _("La durée doit être un nombre de minutes positif."))
    if minutes > MAX_DURATION_MINUTES:
        raise Refused(RefusalCode.INVALID, _("Une semaine au plus ; prolongez ensuite."))
    return timedelta(minutes=minutes)


def _covering(room: Room | None, now) -> RaidMode | None:
    """A raid mode in force over this scope already (the site's covers every room)."""
    active = RaidMode.objects.active(now)
    if room is None:
        return active.filter(room__isnull=True).first()
    return active.filter(room__isnull=True).first() or active.filter(room=room).first()


def _details(raid: RaidMode) -> dict:
    return {
        "room": raid.room_id,
        "trigger": raid.trigger,
        "starts_at": raid.started_at.isoformat(),
        "ends_at": raid.ends_at.isoformat(),
    }


def _check_room(room: Room | None) -> None:
    if room is not None and room.kind == RoomKind.DIRECT:
        raise Refused(
            RefusalCode.INVALID,
            _("Le mode raid s'applique au site ou à un salon, pas à une conversation privée."),
        )


@transaction.atomic(durable=True)
def do_start_raid_mode(
    *, actor, reason: str, room: Room | None = None, duration_minutes: int | None = None
) -> RaidMode:
    """A staff member switches raid mode on, for the site (`room` None) or one room."""
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    _check_room(room)
    now = timezone.now()
    if _covering(room, now) is not None:
        raise Refused(
            RefusalCode.CONFLICT, _("Un mode raid est déjà en cours ici : prolongez-le plutôt.")
        )
    raid = RaidMode.objects.create(
        room=room,
        trigger=RaidTrigger.MANUAL,
        reason=reason,
        started_at=now,
        ends_at=now + _duration(duration_minutes),
        started_by=actor,
    )
    record(
        AuditEvent.RAID_MODE_STARTED,
        actor=actor,
        target_type=RAID_TARGET,
        target_id=raid.pk,
        reason=reason,
        details=_details(raid),
    )
    return raid


@transaction.atomic(durable=True)
def do_trip_raid_mode(trigger: str, figures: dict, *, room: Room | None = None) -> RaidMode | None:
    """The wave detector switches raid mode on by itself, for the default
    duration, with what it counted. None when one already covers the scope
    (another process tripped it a moment before)."""
    if room is not None:
        # Two processes counting the same wave: the room's row orders them.
        room = Room.objects.select_for_update().get(pk=room.pk)
    now = timezone.now()
    if _covering(room, now) is not None:
        return None
    raid = RaidMode.objects.create(
        room=room,
        trigger=trigger,
        figures=figures,
        started_at=now,
        ends_at=now + _duration(None),
    )
    record(
        AuditEvent.RAID_MODE_TRIPPED,
        actor=None,
        target_type=RAID_TARGET,
        target_id=raid.pk,
        details={**_details(raid), "figures": figures},
    )
    return raid


def _locked_active(raid: RaidMode) -> RaidMode:
    raid = RaidMode.objects.select_for_update().get(pk=raid.pk)
    if not raid.is_active:
        raise Refused(RefusalCode.CONFLICT, _("Ce mode raid est déjà terminé."))
    return raid


@transaction.atomic(durable=True)
def do_extend_raid_mode(raid: RaidMode, *, actor, minutes: int, reason: str) -> RaidMode:
    """Pushes the end of a raid mode in force back by `minutes`."""
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    raid = _locked_active(raid)
    old_end = raid.ends_at
    raid.ends_at = old_end + _duration(minutes)
    raid.save(update_fields=["ends_at"])
    record(
        AuditEvent.RAID_MODE_EXTENDED,
        actor=actor,
        target_type=RAID_TARGET,
        target_id=raid.pk,
        reason=reason,
        details={**_details(raid), "old_ends_at": old_end.isoformat()},
    )
    return raid


@transaction.atomic(durable=True)
def do_end_raid_mode(raid: RaidMode, *, actor, reason: str) -> RaidMode:
    """A staff member switches a raid mode off before its end."""
    reason = _require_text(reason, "reason", REASON_MAX_LENGTH)
    raid = _locked_active(raid)
    raid.ended_at = timezone.now()
    raid.ended_by = actor
    raid.save(update_fields=["ended_at", "ended_by"])
    record(
        AuditEvent.RAID_MODE_ENDED,
        actor=actor,
        target_type=RAID_TARGET,
        target_id=raid.pk,
        reason=reason,
        details={**_details(raid), "ended_at": raid.ended_at.isoformat()},
    )
    return raid
