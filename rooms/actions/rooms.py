"""Rooms: creation, archiving, invitations."""

import secrets
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import AuditEvent
from audit.trail import record
from core.refusals import RefusalCode, Refused
from rooms import notify, policy
from rooms.actions.notifications import notify_member
from rooms.models import (
    InvitationStatus,
    NotificationKind,
    Room,
    RoomInvitation,
    RoomKind,
    RoomMembership,
    RoomRole,
)
from rooms.protocol import CloseCode

# Paths under /rooms/ that are not rooms.
RESERVED_SLUGS = {"new"}


def unique_slug(prefix: str) -> str:
    while True:
        slug = f"{prefix}-{secrets.token_hex(6)}"
        if not Room.objects.filter(slug=slug).exists():
            return slug


# Not durable: the admin calls this inside its own transaction (audit/admin_hooks.py
# makes admin actions atomic), and the on-commit events then wait for that one.
@transaction.atomic
def do_create_room(
    *,
    actor,
    kind: str,
    slug: str,
    name: str,
    description: str = "",
    theme: str = "",
    rules: str = "",
    slow_mode_seconds: int = 0,
) -> Room:
    """Creates a public or private room; the creator owns a private one."""
    if kind not in (RoomKind.PUBLIC, RoomKind.PRIVATE):
        raise Refused(RefusalCode.INVALID, _("Type de salon inconnu."))
    if slug in RESERVED_SLUGS or Room.objects.filter(slug=slug).exists():
        raise Refused(RefusalCode.INVALID, _("Cet identifiant de salon est déjà pris."))
    room = Room.objects.create(
        kind=kind,
        slug=slug,
        name=name,
        description=description,
        theme=theme,
        rules=rules,
        slow_mode_seconds=slow_mode_seconds,
        created_by=actor,
    )
    if kind == RoomKind.PRIVATE and actor is not None:
        RoomMembership.objects.create(room=room, user=actor, role=RoomRole.OWNER)
    record(
        AuditEvent.ROOM_CREATED,
        actor=actor,
        target_type="rooms.room",
        target_id=room.pk,
        details={"slug": slug, "kind": kind},
    )
    return room


# Not durable: the admin calls this inside its own transaction (audit/admin_hooks.py
# makes admin actions atomic), and the on-commit events then wait for that one.
@transaction.atomic
def do_archive_room(room: Room, *, actor, reason: str = "") -> Room:
    """Archives a room: hidden, read-only, its open sockets closed."""
    if not policy.is_room_staff(actor, room):
        raise Refused(RefusalCode.FORBIDDEN, _("Vous ne pouvez pas archiver ce salon."))
    if not reason.strip():
        raise Refused(RefusalCode.INVALID, _("Indiquez le motif de l'archivage."))
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.is_archived:
        return room
    room.is_archived = True
    room.archived_at = timezone.now()
    room.save(update_fields=["is_archived", "archived_at"])
    record(
        AuditEvent.ROOM_ARCHIVED,
        actor=actor,
        target_type="rooms.room",
        target_id=room.pk,
        reason=reason,
        details={"slug": room.slug},
    )
    transaction.on_commit(partial(notify.close_room_sockets, room.id, int(CloseCode.NOT_FOUND)))
    return room


@transaction.atomic(durable=True)
def do_invite_to_room(room: Room, invitee, *, actor) -> RoomInvitation:
    if room.kind != RoomKind.PRIVATE:
        raise Refused(RefusalCode.INVALID, _("On n'invite que dans un salon privé."))
    if not policy.is_room_staff(actor, room):
        raise Refused(RefusalCode.FORBIDDEN, _("Seuls les responsables du salon peuvent inviter."))
    if RoomMembership.objects.filter(room=room, user=invitee).exists():
        raise Refused(RefusalCode.INVALID, _("Cette personne est déjà membre du salon."))
    if policy.is_blocked_between(actor, invitee):
        raise Refused(RefusalCode.BLOCKED, _("Vous ne pouvez pas inviter cette personne."))
    invitation, created = RoomInvitation.objects.get_or_create(
        room=room,
        invitee=invitee,
        status=InvitationStatus.PENDING,
        defaults={"invited_by": actor},
    )
    if created:
        notify_member(invitee.pk, NotificationKind.INVITATION, actor=actor, room=room)
    transaction.on_commit(partial(notify.conversation_changed, invitee.pk, room.slug))
    return invitation


@transaction.atomic(durable=True)
def do_answer_invitation(invitation: RoomInvitation, *, actor, accept: bool) -> RoomInvitation:
    invitation = RoomInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.invitee_id != actor.pk:
        raise Refused(RefusalCode.NOT_FOUND, _("Invitation introuvable."))
    if invitation.status != InvitationStatus.PENDING:
        return invitation
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    invitation.decided_at = timezone.now()
    invitation.save(update_fields=["status", "decided_at"])
    if accept:
        RoomMembership.objects.get_or_create(room_id=invitation.room_id, user=actor)
    return invitation
