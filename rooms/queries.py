"""Reads that need more than one line: visible rooms, pages of messages,
conversations with their unread counts, pending requests."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from rooms.models import (
    ContactRequest,
    ContactRequestStatus,
    InvitationStatus,
    Message,
    Room,
    RoomInvitation,
    RoomKind,
    RoomMembership,
)


def visible_messages(room: Room):
    return Message.objects.filter(room=room, deleted_at__isnull=True).select_related(
        "room", "author"
    )


def messages_page(
    room: Room, *, after: int | None = None, before: int | None = None, limit: int = 50
) -> list[Message]:
    """Up to `limit` messages, oldest first: the first ones after `after`, else
    the latest ones (before `before` if given)."""
    queryset = visible_messages(room)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    if after is not None:
        return list(queryset.filter(id__gt=after).order_by("id")[:limit])
    return list(reversed(queryset.order_by("-id")[:limit]))


def find_user(username: str):
    """An active account by pseudonym, whatever its letter case."""
    return (
        get_user_model()
        .objects.filter(username__iexact=username, is_active=True)
        .order_by("pk")
        .first()
    )


def public_rooms():
    return Room.objects.filter(kind=RoomKind.PUBLIC, is_archived=False).order_by("name")


@dataclass
class Conversation:
    room: Room
    unread: int
    partner: object | None  # the other user of a direct room

    @property
    def name(self) -> str:
        return self.partner.username if self.partner is not None else self.room.name


def conversations(user) -> list[Conversation]:
    """The user's private rooms and direct rooms (not those held behind a
    request they have not accepted), with unread counts, latest first."""
    held = ContactRequest.objects.filter(recipient=user).exclude(
        status=ContactRequestStatus.ACCEPTED
    )
    unread = (
        Message.objects.filter(
            room=OuterRef("room"),
            id__gt=OuterRef("last_read_message_id"),
            deleted_at__isnull=True,
        )
        .exclude(author=user)
        .order_by()
        .values("room")
        .annotate(total=Count("id"))
        .values("total")
    )
    memberships = (
        RoomMembership.objects.filter(user=user, room__is_archived=False)
        .exclude(room__kind=RoomKind.PUBLIC)
        .exclude(room__in=held.values("room"))
        .select_related("room")
        .annotate(
            unread=Coalesce(Subquery(unread), 0),
            latest=Subquery(
                Message.objects.filter(room=OuterRef("room")).order_by("-id").values("id")[:1]
            ),
            partner_id=Subquery(
                RoomMembership.objects.filter(room=OuterRef("room"), room__kind=RoomKind.DIRECT)
                .exclude(user=user)
                .values("user_id")[:1]
            ),
        )
        .order_by(F("latest").desc(nulls_last=True), "-room_id")
    )
    memberships = list(memberships)
    partners = get_user_model().objects.in_bulk(
        [m.partner_id for m in memberships if m.partner_id is not None]
    )
    return [
        Conversation(room=m.room, unread=m.unread, partner=partners.get(m.partner_id))
        for m in memberships
    ]


def pending_contact_requests(user) -> list[ContactRequest]:
    """Requests waiting for the user's answer that carry at least one message,
    each with its first message as `first_message`."""
    requests = list(
        ContactRequest.objects.filter(recipient=user, status=ContactRequestStatus.PENDING)
        .select_related("sender", "room")
        .order_by("-created_at")
    )
    result = []
    for request in requests:
        first = visible_messages(request.room).filter(author=request.sender_id).first()
        if first is not None:
            request.first_message = first
            result.append(request)
    return result


def pending_invitations(user):
    return RoomInvitation.objects.filter(
        invitee=user, status=InvitationStatus.PENDING, room__is_archived=False
    ).select_related("room", "invited_by")
