"""Rooms, their members and messages, blocks between users.

The database is the source of truth: the channel layer only tells connected
sockets that something changed, and a client that reconnects with the last id
it saw reads the rest from here.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SLUG_MAX_LENGTH = 80
CLIENT_ID_MAX_LENGTH = 64


class RoomKind(models.TextChoices):
    PUBLIC = "public", _("public")
    PRIVATE = "private", _("privé")
    DIRECT = "direct", _("message privé")


def direct_key(user_a, user_b) -> str:
    """The one key of the direct room between two users, whoever opens it."""
    low, high = sorted((user_a.pk, user_b.pk))
    return f"{low}:{high}"


class Room(models.Model):
    """A place where messages are posted: public, private (by invitation) or direct."""

    kind = models.CharField(_("type"), max_length=10, choices=RoomKind.choices)
    slug = models.SlugField(_("identifiant"), max_length=SLUG_MAX_LENGTH, unique=True)
    name = models.CharField(_("nom"), max_length=80, blank=True)
    description = models.TextField(_("description"), max_length=500, blank=True)
    theme = models.CharField(_("thème"), max_length=40, blank=True)
    # The room's own rules, shown in its header under the site-wide rules.
    rules = models.TextField(_("règles du salon"), max_length=1000, blank=True)
    slow_mode_seconds = models.PositiveIntegerField(
        _("mode lent (secondes entre deux messages)"), default=0
    )
    is_archived = models.BooleanField(_("archivé"), default=False)
    archived_at = models.DateTimeField(_("archivé le"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    # "<smaller user id>:<larger user id>" for direct rooms: one room per pair.
    direct_key = models.CharField(
        max_length=41,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("clé de la conversation privée"),
    )

    class Meta:
        verbose_name = _("salon")
        verbose_name_plural = _("salons")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=RoomKind.DIRECT, direct_key__isnull=False)
                | (~Q(kind=RoomKind.DIRECT) & Q(direct_key__isnull=True)),
                name="rooms_room_direct_key_iff_direct",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.slug

    def get_absolute_url(self) -> str:
        return reverse("rooms:room", kwargs={"slug": self.slug})

    @property
    def group_name(self) -> str:
        return room_group(self.id)

    @property
    def is_direct(self) -> bool:
        return self.kind == RoomKind.DIRECT


class DirectConversationManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=RoomKind.DIRECT)


class DirectConversation(Room):
    """Direct rooms, for the admin: reading one is a staff view of personal
    data, behind a stated reason (audit/access.py)."""

    objects = DirectConversationManager()

    class Meta:
        proxy = True
        verbose_name = _("conversation privée")
        verbose_name_plural = _("conversations privées")


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    """The sockets opened by one session (closed when it signs out). A digest,
    not the key itself: the key is a credential and group names travel
    through Redis."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


class RoomRole(models.TextChoices):
    OWNER = "owner", _("propriétaire")
    MODERATOR = "moderator", _("modérateur du salon")
    MEMBER = "member", _("membre")


class RoomMembership(models.Model):
    """Who belongs to a private or direct room (public rooms need none), and
    how far they have read, so that unread counts survive reconnects."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    role = models.CharField(
        _("rôle"), max_length=10, choices=RoomRole.choices, default=RoomRole.MEMBER
    )
    joined_at = models.DateTimeField(_("membre depuis"), default=timezone.now)
    last_read_message_id = models.PositiveBigIntegerField(_("dernier message lu"), default=0)
    # Muted by the member: no unread count and no notification for this room
    # (docs/ux.md, "Conversations"); the messages are still there to read.
    muted = models.BooleanField(_("en sourdine"), default=False)

    class Meta:
        verbose_name = _("appartenance à un salon")
        verbose_name_plural = _("appartenances aux salons")
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="rooms_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.room} ({self.role})"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("en attente")
    ACCEPTED = "accepted", _("acceptée")
    DECLINED = "declined", _("refusée")


class RoomInvitation(models.Model):
    """An invitation into a private room, answered by the invitee."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("salon")
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="room_invitations",
        verbose_name=_("invité"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invité par"),
    )
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PENDING,
    )
    created_at = models.DateTimeField(_("envoyée le"), default=timezone.now)
    decided_at = models.DateTimeField(_("répondue le"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["room", "invitee"],
                condition=Q(status="pending"),
                name="rooms_invitation_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invitee} → {self.room} ({self.status})"


class Message(models.Model):
    """A message as posted: the body is plain text, never HTML.

    Messages are never deleted by users, only hidden (soft-deleted, with who and
    why), so that moderation and judicial requisitions can still see them.
    """

    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="messages", verbose_name=_("salon")
    )
    # PROTECT: erasing an author is the compliance app's job (anonymisation).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("auteur"),
    )
    body = models.TextField(_("texte"))
    created = models.DateTimeField(_("envoyé le"), default=timezone.now)
    # NULL, not "": the contract's "client_id": null, outside the unique constraint.
    client_id = models.CharField(  # noqa: DJ001
        _("identifiant d'envoi du client"),
        max_length=CLIENT_ID_MAX_LENGTH,
        null=True,
        blank=True,
    )
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supprimé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    deletion_reason = models.TextField(_("motif de la suppression"), blank=True)
    # SET_NULL: a reply outlives its original once retention purges the original.
    reply_to = models.ForeignKey(
        "self",
        verbose_name=_("en réponse à"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
    )
    # When the body was last changed by its author; its earlier bodies are MessageVersions.
    edited = models.DateTimeField(_("modifié le"), null=True, blank=True)
    # The existing usernames named with @name, in order, computed when the body
    # is stored: the message JSON needs them on every delivery, a query each otherwise.
    mentions = models.JSONField(_("mentions"), default=list, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "author", "client_id"],
                condition=Q(client_id__isnull=False),
                name="rooms_message_client_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["room", "id"], name="rooms_message_room_id"),
            # A room's latest message and its messages today (the rooms list
            # and the home page, rooms/queries.py: with_activity).
            models.Index(
                fields=["room", "created"],
                condition=Q(deleted_at__isnull=True),
                name="rooms_message_room_live",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.author} @ {self.room}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def deleted_by_author(self) -> bool:
        return self.deleted_at is not None and self.deleted_by_id == self.author_id

    def body_at_version(self, number: int) -> str:
        """The body as it read at version `number` (0: as posted), for reports
        filed before later edits."""
        earlier = self.versions.filter(number=number).values_list("body", flat=True).first()
        return self.body if earlier is None else earlier


class PrivateRoomMessageManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(room__kind=RoomKind.PRIVATE)


class PrivateRoomMessage(Message):
    """Messages of private rooms, for the admin: read behind a stated reason, each
    look recorded (audit/looks.py); public rooms' messages are listed apart."""

    objects = PrivateRoomMessageManager()

    class Meta:
        proxy = True
        verbose_name = _("message d'un salon privé")
        verbose_name_plural = _("messages des salons privés")


class MessageVersion(models.Model):
    """An earlier body of an edited message: kept for moderation and legal
    requests, never shown to members. Version 0 is the body as first posted;
    the message's own body is the version after the last of these."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("texte"))
    # When this body was written (the post, or the edit that produced it).
    written_at = models.DateTimeField(_("écrit le"))
    replaced_at = models.DateTimeField(_("remplacé le"), default=timezone.now)

    class Meta:
        verbose_name = _("version d'un message")
        verbose_name_plural = _("versions des messages")
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "number"], name="rooms_messageversion_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.message_id} v{self.number}"


class ContentOperationKind(models.TextChoices):
    CREATE = "create", _("création")
    EDIT = "edit", _("modification")
    DELETE = "delete", _("suppression")


class ContentOperation(models.Model):
    """One creation, edit or deletion of a message, and the connection that
    carried it (décret n° 2021-1362, art. 3: the content's identifier, the
    operation, its time, its author, the connection's identifier and
    protocols), kept one year from the operation (compliance/retention.py).

    Written by rooms/actions/write_path.py in the operation's own transaction, one insert.
    The address, port and protocol are copied from the carrier (the socket's
    ConnectionRecord, or the HTTP request; for a staff action, the staff
    member's own request, `staff_member` saying so): the operation keeps them its own
    year even once the connection record is purged or moved to the restricted
    store at closure. The message and the record are referred to by id, not
    by foreign key, for the same reason.
    """

    content_id = models.BigIntegerField(_("identifiant du message"), db_index=True)
    room_id = models.BigIntegerField(_("salon"))
    kind = models.CharField(_("opération"), max_length=10, choices=ContentOperationKind.choices)
    at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    # PROTECT: account rows are anonymised at closure, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("auteur de l'opération"),
    )
    # A staff action (a moderator's removal, a held message's release): the staff
    # member whose back-office or staff-API request carried it. The address, port
    # and protocol below are then that request's, never the author's connection.
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("action du personnel : par"),
    )
    connection_id = models.BigIntegerField(_("enregistrement de connexion"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    port = models.PositiveIntegerField(_("port source"), null=True, blank=True)
    protocol = models.CharField(_("protocole"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("opération sur un contenu")
        verbose_name_plural = _("opérations sur les contenus")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["ip_address", "at"], name="rooms_contentop_address"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.content_id} {self.at:%Y-%m-%d %H:%M}"

    @property
    def is_staff_action(self) -> bool:
        return self.staff_member_id is not None


class Reaction(models.Model):
    """One person's emoji on a message: at most one of each emoji per person."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(_("émoji"), max_length=16)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("réaction")
        verbose_name_plural = _("réactions")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="rooms_reaction_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.emoji} #{self.message_id}"


class Mention(models.Model):
    """A mention that reached its person (not every @name does: none from
    someone they block or ignore, none in a room they cannot read)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="rooms_mention_unique"),
        ]
        indexes = [models.Index(fields=["user", "-id"], name="rooms_mention_user_latest")]

    def __str__(self) -> str:
        return f"@{self.user} #{self.message_id}"


class Block(models.Model):
    """`blocker` no longer hears from `blocked`: no direct messages either way."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="blocks_made",
        verbose_name=_("auteur du blocage"),
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="blocks_received",
        verbose_name=_("compte bloqué"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("bloqué le"))

    class Meta:
        verbose_name = _("blocage")
        verbose_name_plural = _("blocages")
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="rooms_block_unique"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="rooms_block_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker} ⊘ {self.blocked}"


class Ignore(models.Model):
    """`ignorer` no longer sees `ignored` in public rooms: their messages
    collapse to a placeholder, their mentions and typing do not reach the
    ignorer. Unlike a block, the ignored person is not told and nothing closes."""

    ignorer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ignores_made"
    )
    ignored = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("personne ignorée")
        verbose_name_plural = _("personnes ignorées")
        constraints = [
            models.UniqueConstraint(fields=["ignorer", "ignored"], name="rooms_ignore_unique"),
            models.CheckConstraint(
                condition=~Q(ignorer=F("ignored")), name="rooms_ignore_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ignorer} ⊘ {self.ignored} (ignore)"


class ContactRequestStatus(models.TextChoices):
    PENDING = "pending", _("en attente")
    ACCEPTED = "accepted", _("acceptée")
    IGNORED = "ignored", _("ignorée")
    BLOCKED = "blocked", _("bloquée")


class ContactRequest(models.Model):
    """A first contact in a direct room: until the recipient accepts, the
    sender's messages are held (stored, not delivered to the recipient)."""

    room = models.OneToOneField(
        Room, on_delete=models.CASCADE, related_name="contact_request", verbose_name=_("salon")
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="contact_requests_sent",
        verbose_name=_("expéditeur"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="contact_requests_received",
        verbose_name=_("destinataire"),
    )
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=ContactRequestStatus.choices,
        default=ContactRequestStatus.PENDING,
    )
    created_at = models.DateTimeField(_("demandée le"), default=timezone.now)
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("demande de contact")
        verbose_name_plural = _("demandes de contact")

    def __str__(self) -> str:
        return f"{self.sender} → {self.recipient} ({self.status})"

    @property
    def is_accepted(self) -> bool:
        return self.status == ContactRequestStatus.ACCEPTED

    @property
    def sender_account_days(self) -> int:
        """How old the sender's account is: a safety signal for the recipient."""
        return (timezone.now() - self.sender.date_joined).days


class RoomPresence(models.Model):
    """One open socket in a room; the room's online set is its distinct users.

    Kept in the database rather than per process so that every server process
    sees the same set. Each process refreshes `seen_at` of its own sockets
    (rooms/presence.py), so that the rows of a process that died without
    saying goodbye expire instead of showing ghosts forever.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("présence")
        verbose_name_plural = _("présences")
        indexes = [models.Index(fields=["room", "user"], name="rooms_presence_room_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.room}"


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("mention")
    CONTACT_REQUEST = "contact_request", _("demande de contact")
    CONTACT_ACCEPTED = "contact_accepted", _("demande de contact acceptée")
    INVITATION = "invitation", _("invitation")
    ROOM_MODERATOR = "room_moderator", _("nomination comme modérateur d'un salon")


class Notification(models.Model):
    """Something for the member to see in the app (the notifications page and
    the navigation's count), until they open it. Written by rooms/actions/
    notifications.py in the transaction of what it tells; never for a room the
    member muted, never from someone they block or ignore."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("type"), max_length=20, choices=NotificationKind.choices)
    # Who did it (the author of a mention, the sender of a request...).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, null=True, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, related_name="+")
    created = models.DateTimeField(_("créée le"), default=timezone.now)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "-id"], name="rooms_notification_latest"),
            models.Index(
                fields=["user"],
                condition=Q(read_at__isnull=True),
                name="rooms_notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user}"


class PresenceInterval(models.Model):
    """When a person had a room open: from their first socket's opening to their
    last one's closing (docs/moderation.md, "Qui a pu le voir").

    Written by the room's enter and leave actions (rooms/actions/presence.py),
    one write per opening and per closing of a person's first and last socket;
    several tabs make one interval, and a reconnect within
    PRESENCE_MERGE_GAP_SECONDS extends it instead of starting another. `seen_at`
    follows the presence refresh while the interval is open, so that one left
    open by a process that died ends at its last sign of life. Kept
    `presence_intervals` days after it ends (compliance/retention.py).
    """

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="presence_intervals", verbose_name=_("salon")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("personne"),
    )
    started_at = models.DateTimeField(_("depuis"), default=timezone.now)
    # Null while a socket of this person is open in the room.
    ended_at = models.DateTimeField(_("jusqu'à"), null=True, blank=True)
    seen_at = models.DateTimeField(_("vu pour la dernière fois"), default=timezone.now)

    class Meta:
        verbose_name = _("intervalle de présence")
        verbose_name_plural = _("intervalles de présence")
        indexes = [
            # The answer for a message: a room's intervals around a moment.
            models.Index(fields=["room", "started_at"], name="rooms_interval_room_start"),
            # The person's latest interval in a room, at each opening.
            models.Index(fields=["user", "room", "-started_at"], name="rooms_interval_user_room"),
            # Intervals left open by a process that died (the refresh's sweep).
            models.Index(
                fields=["seen_at"],
                condition=Q(ended_at__isnull=True),
                name="rooms_interval_open_seen",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.room} {self.started_at:%Y-%m-%d %H:%M}"


class MessagePresence(Message):
    """A message seen from the presence intervals, for the admin: who had its room
    open when it was posted. Each message's page needs its own stated reason."""

    class Meta:
        proxy = True
        verbose_name = _("présence lors d'un message")
        verbose_name_plural = _("présences lors des messages")
