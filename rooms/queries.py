"""Reads that need more than one line: visible rooms, pages of messages,
conversations with their unread counts, pending requests."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.text import slugify

from rooms import policy
from rooms.models import (
    Block,
    ContactRequest,
    ContactRequestStatus,
    Ignore,
    InvitationStatus,
    Mention,
    Message,
    Notification,
    NotificationKind,
    Reaction,
    Room,
    RoomInvitation,
    RoomKind,
    RoomMembership,
    RoomPresence,
    direct_key,
)
from rooms.presence import presence_deadline
from rooms.text import ordered_counts

# What the message JSON reads besides the message: its room, its author, and
# the original it replies to (with that one's author).
MESSAGE_RELATED = ("room", "author", "reply_to", "reply_to__author")


def visible_messages(room: Room):
    return Message.objects.filter(room=room, deleted_at__isnull=True).select_related(
        *MESSAGE_RELATED
    )


def reaction_counts(message_ids) -> dict[int, dict[str, int]]:
    """{message id: {emoji: count}} for these messages, in one query."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Reaction.objects.filter(message_id__in=list(message_ids))
        .order_by()
        .values_list("message_id", "emoji")
        .annotate(total=Count("id"))
    )
    for message_id, emoji, total in rows:
        counts.setdefault(message_id, {})[emoji] = total
    return {message_id: ordered_counts(found) for message_id, found in counts.items()}


def with_conversation_fields(messages: list[Message]) -> list[Message]:
    """Sets each message's `reaction_counts` (one query for all), so that
    rooms.text.message_json serialises a page without a query per message."""
    counts = reaction_counts(m.id for m in messages) if messages else {}
    for message in messages:
        message.reaction_counts = counts.get(message.id, {})
    return messages


def messages_page(
    room: Room, *, after: int | None = None, before: int | None = None, limit: int = 50
) -> list[Message]:
    """Up to `limit` messages, oldest first: the first ones after `after`, else
    the latest ones (before `before` if given)."""
    queryset = visible_messages(room)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    if after is not None:
        return with_conversation_fields(list(queryset.filter(id__gt=after).order_by("id")[:limit]))
    return with_conversation_fields(list(reversed(queryset.order_by("-id")[:limit])))


def my_reactions(user, message_ids) -> dict[int, list[str]]:
    """{message id: [emoji, ...]} the user put on these messages."""
    mine: dict[int, list[str]] = {}
    rows = Reaction.objects.filter(user=user, message_id__in=list(message_ids)).values_list(
        "message_id", "emoji"
    )
    for message_id, emoji in rows:
        mine.setdefault(message_id, []).append(emoji)
    return {
        message_id: list(ordered_counts(dict.fromkeys(found, 1)))
        for message_id, found in mine.items()
    }


def reactors(message: Message) -> dict[str, list[str]]:
    """Who reacted with what, for the "who reacted" popover: {emoji: [username, ...]}."""
    found: dict[str, list[str]] = {}
    rows = (
        Reaction.objects.filter(message=message)
        .order_by("id")
        .values_list("emoji", "user__username")
    )
    for emoji, username in rows:
        found.setdefault(emoji, []).append(username)
    return {emoji: found[emoji] for emoji in ordered_counts({e: len(u) for e, u in found.items()})}


def existing_usernames(names: list[str]) -> list[str]:
    """The active accounts among these names (letter case ignored), as the
    accounts spell them, in the order given."""
    if not names:
        return []
    lowered = [name.lower() for name in names]
    found = {
        username.lower(): username
        for username in get_user_model()
        .objects.filter(is_active=True)
        .annotate(lowered=Lower("username"))
        .filter(lowered__in=lowered)
        .values_list("username", flat=True)
    }
    result = []
    for name in lowered:
        if name in found and found[name] not in result:
            result.append(found[name])
    return result


def hidden_from(user) -> set[int]:
    """The accounts whose typing and mentions do not reach `user`: blocked
    either way, or ignored by `user`."""
    return hidden_from_id(user.pk)


def hidden_from_id(user_id: int) -> set[int]:
    """hidden_from, by the user's id."""
    blocked = Block.objects.filter(Q(blocker_id=user_id) | Q(blocked_id=user_id)).values_list(
        "blocker_id", "blocked_id"
    )
    hidden = {other for pair in blocked for other in pair if other != user_id}
    hidden.update(Ignore.objects.filter(ignorer_id=user_id).values_list("ignored_id", flat=True))
    return hidden


def recent_mentions(user, *, limit: int = 20) -> list[Message]:
    """The latest messages that mentioned the user and that they may still
    read (not deleted, room still readable), newest first."""
    mentions = (
        Mention.objects.filter(user=user, message__deleted_at__isnull=True)
        .order_by("-id")
        .values_list("message_id", flat=True)[: limit * 2]
    )
    messages = Message.objects.filter(id__in=list(mentions)).select_related(*MESSAGE_RELATED)
    readable: dict[int, bool] = {}
    result = []
    for message in messages.order_by("-id"):
        if message.room_id not in readable:
            readable[message.room_id] = bool(policy.can_join(user, message.room))
        if readable[message.room_id]:
            result.append(message)
        if len(result) == limit:
            break
    return with_conversation_fields(result)


def find_user(username: str):
    """An active account by pseudonym, whatever its letter case."""
    return (
        get_user_model()
        .objects.filter(username__iexact=username, is_active=True)
        .order_by("pk")
        .first()
    )


def direct_room(user_a, user_b) -> Room | None:
    """The direct room between two users, if either ever started it."""
    return Room.objects.filter(direct_key=direct_key(user_a, user_b)).first()


def public_rooms():
    return Room.objects.filter(kind=RoomKind.PUBLIC, is_archived=False).order_by("name")


def _member_count():
    return Coalesce(
        Subquery(
            RoomMembership.objects.filter(room=OuterRef("pk"))
            .order_by()
            .values("room")
            .annotate(total=Count("id"))
            .values("total")
        ),
        0,
    )


def _online_count():
    # Distinct people, not sockets: two tabs are one person online.
    return Coalesce(
        Subquery(
            RoomPresence.objects.filter(room=OuterRef("pk"), seen_at__gte=presence_deadline())
            .order_by()
            .values("room")
            .annotate(total=Count("user", distinct=True))
            .values("total")
        ),
        0,
    )


def with_counts(rooms):
    """Rooms annotated with `member_count` and `online_count`, in the same query."""
    return rooms.annotate(member_count=_member_count(), online_count=_online_count())


# A room is "active now" with someone in it, or a message this recent: the
# person who wrote it is most likely still reading.
ACTIVE_NOW_SECONDS = 5 * 60


def start_of_today() -> datetime:
    """Midnight in the site's time zone (TIME_ZONE): the start of "today"."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _live_messages():
    # Served by the partial index rooms_message_room_live (room, created).
    return Message.objects.filter(room=OuterRef("pk"), deleted_at__isnull=True).order_by()


def with_activity(rooms):
    """`with_counts`, plus `last_message_at` (the latest visible message),
    `messages_today` (visible messages since midnight) and `active_now`
    (someone online, or a message in the last ACTIVE_NOW_SECONDS), in the same
    query whatever the number of rooms."""
    recently = timezone.now() - timedelta(seconds=ACTIVE_NOW_SECONDS)
    today = _live_messages().filter(created__gte=start_of_today())
    return with_counts(rooms).annotate(
        last_message_at=Subquery(_live_messages().order_by("-created").values("created")[:1]),
        messages_today=Coalesce(
            Subquery(today.values("room").annotate(total=Count("id")).values("total")), 0
        ),
        active_now=Case(
            When(Q(online_count__gt=0) | Q(last_message_at__gte=recently), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def busiest_first(rooms):
    """Rooms of `with_activity`: active now first, then by people online,
    messages today and the latest message; by name among quiet rooms."""
    return rooms.order_by(
        F("active_now").desc(),
        F("online_count").desc(),
        F("messages_today").desc(),
        F("last_message_at").desc(nulls_last=True),
        "name",
        "id",
    )


@dataclass
class SiteActivity:
    """What the home page tells anyone, signed in or not: figures only, never
    a person's name nor a message's text."""

    online_now: int  # distinct people with a live socket in a public room
    messages_today: int  # visible messages of the public rooms since midnight
    active_rooms: int  # public rooms with someone online or a message today
    rooms: list[Room]  # the busiest public rooms that show some life

    @property
    def quiet(self) -> bool:
        return not (self.online_now or self.messages_today)


def site_activity(*, limit: int = 3) -> SiteActivity:
    """The public rooms' life for the home page, in two queries."""
    rooms = list(busiest_first(with_activity(public_rooms())))
    online_now = (
        RoomPresence.objects.filter(
            room__kind=RoomKind.PUBLIC, room__is_archived=False, seen_at__gte=presence_deadline()
        )
        .values("user")
        .distinct()
        .count()
    )
    lively = [room for room in rooms if room.online_count or room.last_message_at]
    return SiteActivity(
        online_now=online_now,
        messages_today=sum(room.messages_today for room in rooms),
        active_rooms=sum(1 for room in rooms if room.online_count or room.messages_today),
        rooms=lively[:limit],
    )


def room_themes() -> list[str]:
    """The themes of the listed public rooms, for the rooms page's filter."""
    themes = public_rooms().exclude(theme="").order_by("theme")
    return list(themes.values_list("theme", flat=True).distinct())


def room_directory(user, *, search: str = "", theme: str = ""):
    """The public rooms page: rooms of a theme and/or matching a text, busiest
    first, each with its counts and activity (`with_activity`) and `has_news`
    (messages by others since the user last read it, for the rooms they
    joined), in one query whatever the number of rooms."""
    rooms = public_rooms()
    if theme:
        rooms = rooms.filter(theme__iexact=theme)
    search = search.strip()
    if search:
        matches = Q(name__icontains=search) | Q(description__icontains=search)
        matches |= Q(theme__icontains=search)
        # Slugs are unaccented: "cinema" finds "Cinéma" on any database.
        if slug := slugify(search):
            matches |= Q(slug__icontains=slug)
        rooms = rooms.filter(matches)
    last_read = RoomMembership.objects.filter(room=OuterRef("pk"), user=user).values(
        "last_read_message_id"
    )[:1]
    news = (
        Message.objects.filter(
            room=OuterRef("pk"), id__gt=OuterRef("last_read"), deleted_at__isnull=True
        )
        .exclude(author=user)
        .order_by()
    )
    muted = RoomMembership.objects.filter(room=OuterRef("pk"), user=user, muted=True)
    # A muted room shows no "new messages" badge (docs/ux.md, "Conversations").
    return busiest_first(
        with_activity(rooms).annotate(
            last_read=Subquery(last_read),
            has_news=Case(When(Exists(muted), then=Value(False)), default=Exists(news)),
        )
    )


@dataclass
class ProfileCard:
    """What a member may see of another: never the birth date nor the e-mail."""

    user: object
    is_self: bool
    blocked_by_viewer: bool
    can_message: bool

    def as_json(self) -> dict:
        return {
            "username": self.user.username,
            "member_since": timezone.localdate(self.user.date_joined).isoformat(),
            "account_age_days": (timezone.now() - self.user.date_joined).days,
            "age_verified": self.user.is_age_verified,
            "is_self": self.is_self,
            "blocked": self.blocked_by_viewer,
            "can_message": self.can_message,
        }


def profile_card(viewer, username: str) -> ProfileCard | None:
    """Another member's card, or None when there is no such active account.
    Someone who blocks the viewer shows the card of anyone who takes no direct
    messages from them: the blocked viewer is not told (docs/protocol.md, "Blocks")."""
    user = find_user(username)
    if user is None:
        return None
    if user.pk == viewer.pk:
        return ProfileCard(user, is_self=True, blocked_by_viewer=False, can_message=False)
    blocks = set(
        Block.objects.filter(
            blocker__in=(viewer.pk, user.pk), blocked__in=(viewer.pk, user.pk)
        ).values_list("blocker_id", flat=True)
    )
    low, high = sorted((viewer.pk, user.pk))
    room = Room.objects.filter(direct_key=f"{low}:{high}").first()
    can_message = not blocks and bool(policy.direct_message_verdict(viewer, user, room))
    return ProfileCard(
        user, is_self=False, blocked_by_viewer=viewer.pk in blocks, can_message=can_message
    )


@dataclass(frozen=True)
class Partner:
    """The other person of a direct conversation, as the list needs them."""

    pk: int
    username: str


@dataclass(frozen=True)
class LastMessage:
    """A conversation's latest visible message, as the list shows it."""

    id: int
    author: str
    excerpt: str
    created: datetime
    # From someone the reader blocks or ignores, outside a direct room: the
    # list names the author and hides the text, as the room page folds it.
    folded: bool

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "author": self.author,
            "excerpt": "" if self.folded else self.excerpt,
            "created": self.created.isoformat(),
            "folded": self.folded,
        }


@dataclass
class Conversation:
    room: Room
    unread: int
    partner: Partner | None  # the other user of a direct room
    muted: bool = False
    # The reader's own contact request, not answered yet (or ignored: the
    # sender is not told, docs/protocol.md).
    awaiting_answer: bool = False
    last_message: LastMessage | None = None

    @property
    def name(self) -> str:
        return self.partner.username if self.partner is not None else self.room.name


# The start of the latest message shown in the conversations list.
EXCERPT_LENGTH = 120


def excerpt(body: str, length: int = EXCERPT_LENGTH) -> str:
    """The start of a text on one line."""
    line = " ".join(body.split())
    return line if len(line) <= length else line[: length - 1] + "…"


def hidden_authors(user) -> set[int]:
    """Whose messages the reader's lists fold: people they block or ignore (one query)."""
    blocked = Block.objects.filter(blocker=user).values_list("blocked_id", flat=True)
    ignored = Ignore.objects.filter(ignorer=user).values_list("ignored_id", flat=True)
    return set(blocked.union(ignored))


def _conversation_memberships(user):
    """The user's private and direct memberships that the conversations list
    shows (not those held behind a request they have not accepted), each with
    its unread count, partner and latest visible message, in one query."""
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
    partner = RoomMembership.objects.filter(
        room=OuterRef("room"), room__kind=RoomKind.DIRECT
    ).exclude(user=user)
    return (
        RoomMembership.objects.filter(user=user, room__is_archived=False)
        .exclude(room__kind=RoomKind.PUBLIC)
        .exclude(room__in=held.values("room"))
        .annotate(
            unread=Case(When(muted=True, then=Value(0)), default=Coalesce(Subquery(unread), 0)),
            partner_id=Subquery(partner.values("user_id")[:1]),
            partner_name=Subquery(partner.values("user__username")[:1]),
        )
    )


def conversations(user) -> list[Conversation]:
    """The user's private rooms and direct rooms, most recent activity first,
    each with its unread count (none while muted) and latest visible message
    (deleted ones never): two queries whatever their number."""
    latest = Message.objects.filter(room=OuterRef("room"), deleted_at__isnull=True).order_by("-id")
    awaiting = ContactRequest.objects.filter(
        room=OuterRef("room"), sender=user, status__in=PENDING_FOR_SENDER
    )
    memberships = (
        _conversation_memberships(user)
        .select_related("room")
        .annotate(
            last_id=Subquery(latest.values("id")[:1]),
            last_body=Subquery(latest.values("body")[:1]),
            last_author_id=Subquery(latest.values("author_id")[:1]),
            last_author=Subquery(latest.values("author__username")[:1]),
            last_created=Subquery(latest.values("created")[:1]),
            awaiting=Exists(awaiting),
            activity=Coalesce(Subquery(latest.values("created")[:1]), F("joined_at")),
        )
        .order_by(F("activity").desc(), "-room_id")
    )
    memberships = list(memberships)
    hidden = hidden_authors(user) if memberships else set()
    result = []
    for m in memberships:
        last = None
        if m.last_id is not None:
            last = LastMessage(
                id=m.last_id,
                author=m.last_author,
                excerpt=excerpt(m.last_body),
                created=m.last_created,
                folded=m.room.kind != RoomKind.DIRECT and m.last_author_id in hidden,
            )
        partner = Partner(m.partner_id, m.partner_name) if m.partner_id is not None else None
        result.append(
            Conversation(
                room=m.room,
                unread=m.unread,
                partner=partner,
                muted=m.muted,
                awaiting_answer=m.awaiting,
                last_message=last,
            )
        )
    return result


# A sender's request looks pending to them until it is accepted: an ignore is
# not told (docs/protocol.md, "Direct messages and first contact").
PENDING_FOR_SENDER = (ContactRequestStatus.PENDING, ContactRequestStatus.IGNORED)


@dataclass(frozen=True)
class InboxCounts:
    """What the navigation's badges count (GET /api/inbox/)."""

    unread: int  # messages not read in conversations that are not muted
    unread_direct: dict[str, int]  # per partner, direct conversations with unread messages
    requests: int  # contact requests waiting for an answer (with a first message)
    invitations: int  # private room invitations waiting for an answer
    notifications: int  # unread notifications

    @property
    def conversations(self) -> int:
        """The "Conversations" link's count."""
        return self.unread + self.requests + self.invitations

    def as_json(self) -> dict:
        return {
            "conversations": self.conversations,
            "unread": self.unread,
            "unread_direct": self.unread_direct,
            "requests": self.requests,
            "invitations": self.invitations,
            "notifications": self.notifications,
        }


def inbox_counts(user) -> InboxCounts:
    """The navigation's counts, in two queries (this runs on every page)."""
    rows = (
        _conversation_memberships(user).filter(unread__gt=0).values_list("unread", "partner_name")
    )
    unread = 0
    unread_direct = {}
    for count, partner_name in rows:
        unread += count
        if partner_name is not None:
            unread_direct[partner_name] = count
    requests = ContactRequest.objects.filter(
        recipient=OuterRef("pk"), status=ContactRequestStatus.PENDING
    ).filter(
        # As pending_contact_requests: a request shows once it carries a message.
        Exists(
            Message.objects.filter(
                room=OuterRef("room"), author=OuterRef("sender"), deleted_at__isnull=True
            )
        )
    )
    invitations = RoomInvitation.objects.filter(
        invitee=OuterRef("pk"), status=InvitationStatus.PENDING, room__is_archived=False
    )
    # As `notifications` lists them: none from a blocked or ignored person, none
    # of a deleted message.
    notifications = (
        Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
        .exclude(message__deleted_at__isnull=False)
        .exclude(Exists(Block.objects.filter(blocker=OuterRef("user"), blocked=OuterRef("actor"))))
        .exclude(Exists(Block.objects.filter(blocker=OuterRef("actor"), blocked=OuterRef("user"))))
        .exclude(Exists(Ignore.objects.filter(ignorer=OuterRef("user"), ignored=OuterRef("actor"))))
    )
    counts = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            # Names of their own: "notifications" is the reverse relation's.
            n_requests=_count_by(requests, "recipient"),
            n_invitations=_count_by(invitations, "invitee"),
            n_notifications=_count_by(notifications, "user"),
        )
        .values_list("n_requests", "n_invitations", "n_notifications")
        .first()
    ) or (0, 0, 0)
    return InboxCounts(
        unread=unread,
        unread_direct=unread_direct,
        requests=counts[0],
        invitations=counts[1],
        notifications=counts[2],
    )


def _count_by(queryset, field: str):
    """The number of rows of `queryset` (filtered on OuterRef("pk") by `field`)."""
    return Coalesce(
        Subquery(queryset.order_by().values(field).annotate(total=Count("id")).values("total")[:1]),
        0,
    )


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


def room_by_slug(slug: str) -> Room | None:
    """The room with this slug, or None: a plain statement (a socket asks on
    every open and full re-check; the ORM's query building cost more than the
    round trip)."""
    sql = f"SELECT * FROM {Room._meta.db_table} WHERE slug = %s"  # noqa: S608 - the model's table
    return next(iter(Room.objects.raw(sql, [slug])), None)


def member_count(room: Room) -> int:
    """As `with_counts` counts them, so that the page's live counts agree with it."""
    return RoomMembership.objects.filter(room=room).count()


def online_usernames(room: Room) -> list[str]:
    """Who has a live socket in the room now (sockets of a dead process expire)."""
    live = RoomPresence.objects.filter(room=room, seen_at__gte=presence_deadline())
    return sorted(set(live.values_list("user__username", flat=True)))


def notifications(user, *, limit: int = 50) -> list[Notification]:
    """The member's latest notifications, newest first, as they may still see
    them: none from someone they block or ignore (or who blocks them), none
    of a deleted message or of a room they may no longer read."""
    hidden = hidden_from(user)
    rows = (
        Notification.objects.filter(user=user)
        .exclude(actor__in=hidden)
        .exclude(message__deleted_at__isnull=False)
        .select_related("actor", "room", "message")
        .order_by("-id")[: limit * 2]
    )
    readable: dict[int, bool] = {}
    result = []
    for notification in rows:
        room = notification.room
        # A mention is for as long as its room may be read; a contact request's
        # first message is shown before its room opens.
        if room is not None and notification.kind == NotificationKind.MENTION:
            if room.pk not in readable:
                readable[room.pk] = bool(policy.can_join(user, room))
            if not readable[room.pk]:
                continue
        result.append(notification)
        if len(result) == limit:
            break
    return result


def access_fingerprint(user_id: int, session_key: str | None, slug: str) -> tuple | None:
    """Everything a room socket's access check reads (rooms/consumers.py,
    `_check_access`), in one statement: the account's row (its password makes
    the session's auth hash; active; age; staff flags), its verified addresses,
    the session's stored data while unexpired, the room, the membership. Equal
    fingerprints mean the check would read the same rows, so its verdict stands.
    None where the check reads more than this covers (sessions not in the
    database, a direct room's blocks and contact request, staff's second factor):
    such a socket checks in full every time."""
    if not session_key or settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return None
    user_model = get_user_model()
    user, room = user_model._meta, Room._meta
    sql = f"""
        SELECT u.{user.get_field("password").column}, u.{user.get_field("is_active").column},
               u.{user.get_field("age_verified_at").column}, u.{user.get_field("is_staff").column},
               u.{user.get_field("is_superuser").column},
               (SELECT COUNT(*) FROM {EmailAddress._meta.db_table} e
                 WHERE e.user_id = u.{user.pk.column} AND e.verified = %s),
               (SELECT s.session_data FROM {Session._meta.db_table} s
                 WHERE s.session_key = %s AND s.expire_date > %s),
               r.{room.pk.column}, r.{room.get_field("kind").column},
               r.{room.get_field("is_archived").column},
               (SELECT COUNT(*) FROM {RoomMembership._meta.db_table} m
                 WHERE m.room_id = r.{room.pk.column} AND m.user_id = u.{user.pk.column})
          FROM {user.db_table} u, {room.db_table} r
         WHERE u.{user.pk.column} = %s AND r.{room.get_field("slug").column} = %s
    """  # noqa: S608 - names from the models' own metadata, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, session_key, timezone.now(), user_id, slug])
        row = cursor.fetchone()
    if row is None or row[3] or row[4] or row[8] == RoomKind.DIRECT:
        return None
    return tuple(row)
