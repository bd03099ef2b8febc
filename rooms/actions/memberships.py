"""A member's own side of a room: muting it, leaving it, handing it over;
the owner's: naming its moderators."""

from functools import partial

from django.db import transaction
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from rooms import notify
from rooms.actions.notifications import notify_member
from rooms.actions.rooms import do_archive_room
from rooms.models import NotificationKind, Room, RoomKind, RoomMembership, RoomRole
from rooms.protocol import CloseCode

# The archive reason when the last member of a private room, its owner, leaves.
LAST_OWNER_LEFT_REASON = "last owner left"


def _own_membership(room: Room, actor) -> RoomMembership:
    membership = RoomMembership.objects.select_for_update().filter(room=room, user=actor).first()
    if membership is None:
        raise Refused(RefusalCode.NOT_FOUND, _("Vous n'êtes pas membre de ce salon."))
    return membership


@transaction.atomic(durable=True)
def do_set_room_muted(room: Room, muted: bool, *, actor) -> RoomMembership:
    """Mutes or unmutes a room for its member: while muted it shows no unread
    count and sends them no notification; its messages stay readable."""
    membership = _own_membership(room, actor)
    if membership.muted != muted:
        membership.muted = muted
        membership.save(update_fields=["muted"])
        transaction.on_commit(partial(notify.conversation_changed, actor.pk, room.slug))
    return membership


@transaction.atomic(durable=True)
def do_transfer_room_ownership(room: Room, successor, *, actor) -> RoomMembership:
    """The owner of a private room hands it to another member, who becomes its
    owner (the former owner stays, as a room moderator)."""
    return _transfer(room, successor, actor=actor)


def _transfer(room: Room, successor, *, actor) -> RoomMembership:
    mine = _own_membership(room, actor)
    if mine.role != RoomRole.OWNER:
        raise Refused(RefusalCode.FORBIDDEN, _("Seul le propriétaire transmet le salon."))
    theirs = RoomMembership.objects.select_for_update().filter(room=room, user=successor).first()
    if theirs is None or successor.pk == actor.pk or not successor.is_active:
        raise Refused(RefusalCode.INVALID, _("Choisissez un autre membre du salon."))
    theirs.role = RoomRole.OWNER
    theirs.save(update_fields=["role"])
    mine.role = RoomRole.MODERATOR
    mine.save(update_fields=["role"])
    record(
        AuditEvent.ROOM_OWNERSHIP_TRANSFERRED,
        actor=actor,
        target_type="rooms.room",
        target_id=room.pk,
        details={"slug": room.slug, "from": actor.pk, "to": successor.pk},
    )
    return theirs


@transaction.atomic(durable=True)
def do_leave_membership(room: Room, *, actor, successor=None) -> str:
    """The member leaves a public or private room (not a direct one: blocking
    closes those). Their open sockets in it close (4403) on commit.

    The owner of a private room hands it over first (`successor`, a member,
    in the same transaction); an owner left alone archives it by leaving.
    Returns "left", "handed_over" or "archived". (Closing one socket is
    presence.do_leave_room, not this.)"""
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.kind == RoomKind.DIRECT:
        raise Refused(
            RefusalCode.INVALID,
            _("Une conversation privée ne se quitte pas : bloquez la personne si besoin."),
        )
    membership = _own_membership(room, actor)
    outcome = "left"
    if membership.role == RoomRole.OWNER and room.kind == RoomKind.PRIVATE:
        others = RoomMembership.objects.filter(room=room).exclude(user=actor)
        if successor is not None:
            _transfer(room, successor, actor=actor)
            outcome = "handed_over"
        elif others.exists():
            raise Refused(
                RefusalCode.INVALID,
                _("Transmettez d'abord le salon à un autre membre, ou archivez-le."),
            )
        else:
            do_archive_room(room, actor=actor, reason=LAST_OWNER_LEFT_REASON)
            outcome = "archived"
    RoomMembership.objects.filter(pk=membership.pk).delete()
    transaction.on_commit(
        partial(notify.close_user_sockets, actor.pk, int(CloseCode.FORBIDDEN), room.id)
    )
    transaction.on_commit(partial(notify.conversation_changed, actor.pk, room.slug))
    return outcome


@transaction.atomic(durable=True)
def do_set_room_moderator(room: Room, member, is_moderator: bool, *, actor) -> RoomMembership:
    """The owner of a room names one of its members a moderator of it, or
    takes the role back (docs/moderation.md, "Modérateurs de salon"). Not in a
    direct conversation; the owner's own role does not change this way (a
    transfer does). The member is notified when named; their open sockets are
    not told: the role is read afresh by each moderator's action."""
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.kind == RoomKind.DIRECT:
        raise Refused(
            RefusalCode.INVALID, _("Une conversation privée n'a pas de modérateurs de salon.")
        )
    mine = _own_membership(room, actor)
    if mine.role != RoomRole.OWNER:
        raise Refused(
            RefusalCode.FORBIDDEN, _("Seul le propriétaire nomme les modérateurs du salon.")
        )
    theirs = (
        RoomMembership.objects.select_for_update().filter(room=room, user=member).first()
        if member is not None
        else None
    )
    if theirs is None or member.pk == actor.pk or theirs.role == RoomRole.OWNER:
        raise Refused(RefusalCode.INVALID, _("Choisissez un autre membre du salon."))
    if is_moderator and not member.is_active:
        raise Refused(RefusalCode.INVALID, _("Ce compte n'est plus actif."))
    role = RoomRole.MODERATOR if is_moderator else RoomRole.MEMBER
    if theirs.role == role:
        return theirs
    theirs.role = role
    theirs.save(update_fields=["role"])
    record(
        AuditEvent.ROOM_MODERATOR_SET,
        actor=actor,
        target_type="rooms.room",
        target_id=room.pk,
        details={"slug": room.slug, "member": member.pk, "moderator": is_moderator},
    )
    if is_moderator:
        notify_member(member.pk, NotificationKind.ROOM_MODERATOR, actor=actor, room=room)
        transaction.on_commit(partial(notify.conversation_changed, member.pk, room.slug))
    return theirs
