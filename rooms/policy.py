"""May this user join, read, post this text here? The one place that answers.

Each question is a function returning a `Verdict`. The HTTP API, the consumer
and the admin all ask here. Other apps add their own rules (bans, mutes, word
filters) by registering extra checks at start-up, in their AppConfig.ready():

    from rooms import policy
    policy.register_join_check(my_ban_check)   # (user, room) -> Verdict | None
    policy.register_post_check(my_mute_check)  # (user, room, body) -> Verdict | None
    policy.register_restriction_source(my_source)  # (user, room) -> Restriction | None
    policy.register_slow_mode_source(my_raid)  # (room) -> seconds (0: no objection)

A check returns None (no objection) or a refusal. Rooms never imports them.
A restriction source says which measure applies (to show it, never to decide:
the checks decide).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.gates import ChatAccess, chat_access
from accounts.models import DirectMessagePolicy
from core.refusals import RefusalCode
from core.staff import has_staff_powers
from rooms.models import (
    Block,
    ContactRequest,
    ContactRequestStatus,
    Message,
    Room,
    RoomKind,
    RoomMembership,
    RoomRole,
)
from rooms.protocol import CloseCode


@dataclass(frozen=True)
class Verdict:
    """Allowed, or refused with an error code (posting) or a close code (joining)."""

    allowed: bool
    code: str = ""
    detail: str = ""
    close_code: int | None = None
    # Run once the refused action has rolled back, in its own transaction: a
    # check that must keep something of a refused post (a message held for
    # review) writes it there, since the post's transaction is undone.
    after_refusal: Callable[[], object] | None = field(default=None, compare=False, repr=False)

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Verdict(True)


def refuse_post(code: RefusalCode, detail: str) -> Verdict:
    return Verdict(False, code=str(code), detail=detail)


def refuse_join(close_code: CloseCode, detail: str) -> Verdict:
    return Verdict(False, code="forbidden", detail=detail, close_code=int(close_code))


@dataclass(frozen=True)
class Restriction:
    """A measure that limits the user in a room, as the room page and the
    socket's `restriction` frame show it (docs/protocol.md)."""

    measure: str  # "mute", "kick" or "ban"
    site_wide: bool
    until: datetime | None  # None: permanent
    label: str  # the measure and its scope: "Mise en sourdine dans ce salon"
    detail: str  # what it means: "Vous pouvez le lire, pas y écrire."
    statement_url: str = ""  # the statement of reasons, where one can appeal
    can_appeal: bool = False

    def as_frame(self) -> dict:
        return {
            "measure": self.measure,
            "scope": "site" if self.site_wide else "room",
            "until": self.until.isoformat() if self.until else None,
            "label": self.label,
            "detail": self.detail,
            "statement": self.statement_url or None,
            "can_appeal": self.can_appeal,
        }


JoinCheck = Callable[[object, Room], Verdict | None]
PostCheck = Callable[[object, Room, str], Verdict | None]
_join_checks: list[JoinCheck] = []
_post_checks: list[PostCheck] = []
RestrictionSource = Callable[[object, Room], Restriction | None]
_restriction_sources: list[RestrictionSource] = []
# Post checks that judge the text itself (filters, signals): a text a moderator
# has already reviewed (a held message released) is not judged again.
_text_screens: set[PostCheck] = set()
# Post checks about new messages only (skipped for an edit, as the slow mode is).
_new_message_checks: set[PostCheck] = set()


def register_join_check(check: JoinCheck) -> None:
    if check not in _join_checks:
        _join_checks.append(check)


def register_post_check(
    check: PostCheck, *, screens_text: bool = False, new_messages_only: bool = False
) -> None:
    """`screens_text`: the check judges the text (a filter), not the author's
    right to post (a mute); `can_post(..., reviewed=True)` skips it.
    `new_messages_only`: like the slow mode, it is about new messages, and
    `can_post(..., editing=True)` skips it (raid mode's hold of first messages)."""
    if check not in _post_checks:
        _post_checks.append(check)
    if screens_text:
        _text_screens.add(check)
    if new_messages_only:
        _new_message_checks.add(check)


def register_restriction_source(source: RestrictionSource) -> None:
    if source not in _restriction_sources:
        _restriction_sources.append(source)


def unregister_check(check) -> None:
    for registry in (_join_checks, _post_checks, _restriction_sources):
        if check in registry:
            registry.remove(check)
    _text_screens.discard(check)
    _new_message_checks.discard(check)


# --- account ---------------------------------------------------------------------------


def account_verdict(user) -> Verdict:
    """The account-level gate of accounts/gates.py, as close codes."""
    access = chat_access(user)
    if access is ChatAccess.ALLOWED:
        return ALLOWED
    if access is ChatAccess.AGE_UNVERIFIED:
        return refuse_join(CloseCode.FORBIDDEN, _("Vérifiez votre âge avant d'entrer."))
    return refuse_join(
        CloseCode.NOT_AUTHENTICATED,
        _("Connectez-vous avec une adresse e-mail vérifiée."),
    )


# --- relations between users --------------------------------------------------------------


def is_blocked_between(user_a, user_b) -> bool:
    """True when either user blocks the other."""
    return Block.objects.filter(
        blocker__in=(user_a.pk, user_b.pk), blocked__in=(user_a.pk, user_b.pk)
    ).exists()


def direct_partner(room: Room, user):
    """The other member of a direct room."""
    membership = (
        RoomMembership.objects.filter(room=room).exclude(user=user).select_related("user").first()
    )
    return membership.user if membership else None


def direct_message_verdict(sender, recipient, room: Room | None) -> Verdict:
    """May `sender` write to `recipient` (a new or existing direct room)?

    Blocks either way refuse. Then the recipient's setting: everyone, only
    people they already talk with (an accepted conversation), or nobody.
    """
    if is_blocked_between(sender, recipient):
        return refuse_post(RefusalCode.BLOCKED, _("Vous ne pouvez pas écrire à cette personne."))
    setting = recipient.direct_messages_from
    if setting == DirectMessagePolicy.NOBODY:
        return refuse_post(
            RefusalCode.BLOCKED, _("Cette personne n'accepte pas de messages privés.")
        )
    if setting == DirectMessagePolicy.CONTACTS and not _is_contact(recipient, sender, room):
        return refuse_post(
            RefusalCode.BLOCKED,
            _("Cette personne n'accepte les messages privés que de ses contacts."),
        )
    return ALLOWED


def _is_contact(recipient, sender, room: Room | None) -> bool:
    """The recipient already talks with the sender: a conversation that the
    recipient started or accepted."""
    if room is None:
        return False
    request = ContactRequest.objects.filter(room=room).first()
    return request is None or request.is_accepted or request.sender_id == recipient.pk


def held_for(room: Room, user) -> ContactRequest | None:
    """The contact request that keeps `user` (its recipient) out of this
    direct room until they accept it, if any."""
    if not room.is_direct:
        return None
    return (
        ContactRequest.objects.filter(room=room, recipient=user)
        .exclude(status=ContactRequestStatus.ACCEPTED)
        .first()
    )


# --- rooms -------------------------------------------------------------------------------


def membership(user, room: Room) -> RoomMembership | None:
    return RoomMembership.objects.filter(room=room, user=user).first()


def can_read(user, room: Room, *, account_checked: bool = False) -> Verdict:
    """May the user see this room and its messages (page, history API, socket)?

    The registered checks count here too: a ban or a kick covering the room
    refuses its page and its history as it refuses its socket.
    `account_checked`: the caller has just had `account_verdict` allow the
    account (a room socket's check does, before it looks for the room)."""
    if not account_checked:
        verdict = account_verdict(user)
        if not verdict:
            return verdict
    if room.kind == RoomKind.PUBLIC:
        if room.is_archived and not has_staff_powers(user):
            return refuse_join(CloseCode.NOT_FOUND, _("Ce salon n'existe pas."))
    elif membership(user, room) is None:
        return refuse_join(CloseCode.FORBIDDEN, _("Ce salon est réservé à ses membres."))
    # A block closes a direct room but keeps its history readable by both
    # (docs/protocol.md, "Blocks"): can_join refuses its socket, can_post its posts.
    if room.is_direct and held_for(room, user) is not None:
        return refuse_join(CloseCode.FORBIDDEN, _("Acceptez d'abord la demande de contact."))
    return registered_join_verdict(user, room)


def registered_join_verdict(user, room: Room) -> Verdict:
    """The checks that other apps registered for joining (moderation: a ban or a
    kick), alone: a room socket asks them again before posting even when its
    session, account and room are known not to have changed (rooms/consumers.py)."""
    for check in _join_checks:
        extra = check(user, room)
        if extra is not None and not extra:
            return extra
    return ALLOWED


def can_join(user, room: Room, *, account_checked: bool = False) -> Verdict:
    """May the user open a live socket in this room? When they may read it (a
    ban refuses with 4403), except a direct room closed by a block either way:
    readable history, no live socket, and the same words for both sides, so
    that the blocked person is not told who did what."""
    verdict = can_read(user, room, account_checked=account_checked)
    if verdict and room.is_direct:
        partner = direct_partner(room, user)
        if partner is not None and is_blocked_between(user, partner):
            return refuse_join(CloseCode.FORBIDDEN, _("Cette conversation est fermée."))
    return verdict


def is_room_staff(user, room: Room) -> bool:
    """Site staff (with their second factor), the room's owner and its room moderators."""
    if has_staff_powers(user):
        return True
    return RoomMembership.objects.filter(
        room=room, user=user, role__in=(RoomRole.OWNER, RoomRole.MODERATOR)
    ).exists()


def can_post(
    user,
    room: Room,
    body: str,
    *,
    account_checked: bool = False,
    reviewed: bool = False,
    editing: bool = False,
) -> Verdict:
    """May the user post this (already cleaned) text in this room now?

    `account_checked`: the caller has just asked `account_verdict` itself (a
    room socket asks on connect and before posts, see rooms/consumers.py), which
    spares a query per message.
    `reviewed`: a moderator has read this text and publishes it for its author
    (a held message released): the checks that screen the text and the slow
    mode are skipped; everything about the author's right to post here (the
    account, an archived room, membership, blocks, mutes and bans) still applies.
    `editing`: the text replaces one of the user's messages
    (rooms.actions.do_edit_message): every check but the slow mode, which is
    about new messages.
    """
    if not account_checked:
        verdict = account_verdict(user)
        if not verdict:
            return refuse_post(RefusalCode.INVALID, verdict.detail)
    if room.is_archived:
        return refuse_post(RefusalCode.INVALID, _("Ce salon est archivé."))
    if room.kind != RoomKind.PUBLIC and membership(user, room) is None:
        return refuse_post(RefusalCode.INVALID, _("Ce salon est réservé à ses membres."))
    if room.is_direct:
        partner = direct_partner(room, user)
        if partner is None:
            return refuse_post(RefusalCode.BLOCKED, _("Cette conversation est fermée."))
        verdict = direct_message_verdict(user, partner, room)
        if not verdict:
            return verdict
        if held_for(room, user) is not None:
            # The recipient of an unanswered request answers it before writing.
            return refuse_post(RefusalCode.BLOCKED, _("Acceptez d'abord la demande de contact."))
    slow_mode_seconds = effective_slow_mode(room)
    if slow_mode_seconds and not reviewed and not editing and not is_room_staff(user, room):
        since = timezone.now() - timedelta(seconds=slow_mode_seconds)
        if Message.objects.filter(room=room, author=user, created__gt=since).exists():
            return refuse_post(
                RefusalCode.RATE_LIMITED,
                _("Mode lent : un message toutes les %(seconds)d secondes dans ce salon.")
                % {"seconds": slow_mode_seconds},
            )
    for check in _post_checks:
        if reviewed and check in _text_screens:
            continue
        if editing and check in _new_message_checks:
            continue
        extra = check(user, room, body)
        if extra is not None and not extra:
            return extra
    return ALLOWED


def restriction(user, room: Room) -> Restriction | None:
    """The measure that limits the user in this room now, if any (the first
    source that names one)."""
    for source in _restriction_sources:
        found = source(user, room)
        if found is not None:
            return found
    return None


# --- new direct conversations -------------------------------------------------------------

# (sender, recipient) -> Verdict | None: asked before a new direct room is made
# (a conversation that exists already is not a new one). Other apps register
# theirs, as for posts: moderation's per-hour limit by trust level.
DirectCheck = Callable[[object, object], Verdict | None]
_direct_checks: list[DirectCheck] = []


def register_direct_check(check: DirectCheck) -> None:
    if check not in _direct_checks:
        _direct_checks.append(check)


def unregister_direct_check(check: DirectCheck) -> None:
    if check in _direct_checks:
        _direct_checks.remove(check)


def can_open_direct_room(sender, recipient) -> Verdict:
    """May `sender` start a new conversation with `recipient` now? Only the
    registered checks: blocks and the recipient's setting are asked by
    `direct_message_verdict`, for new and existing rooms alike."""
    for check in _direct_checks:
        verdict = check(sender, recipient)
        if verdict is not None and not verdict:
            return verdict
    return ALLOWED


# --- raised slow mode (moderation's raid mode registers here) ------------------------------

SlowModeSource = Callable[[Room], int]
_slow_mode_sources: list[SlowModeSource] = []


def register_slow_mode_source(source: SlowModeSource) -> None:
    if source not in _slow_mode_sources:
        _slow_mode_sources.append(source)


def unregister_source(source) -> None:
    if source in _slow_mode_sources:
        _slow_mode_sources.remove(source)


def effective_slow_mode(room: Room) -> int:
    """The room's own slow mode, or more while another source raises it (a
    raid mode): the room's setting is never overwritten, so nothing has to be
    restored when the source stops asking."""
    seconds = room.slow_mode_seconds
    for source in _slow_mode_sources:
        seconds = max(seconds, source(room) or 0)
    return seconds
