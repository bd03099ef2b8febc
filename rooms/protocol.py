"""The WebSocket protocol's names, in one place (documented in docs/protocol.md)."""

from enum import IntEnum, StrEnum

from core.refusals import RefusalCode

# A message body: 1 to 2,000 characters once control characters are stripped.
MAX_BODY_LENGTH = 2000
# Frames larger than this are refused unread: a 2,000-character body takes at
# most 8 KB of UTF-8, even fully escaped, well under the cap.
MAX_FRAME_LENGTH = 16 * 1024
# ?after= backfill and the messages API read this many rows per query.
BACKFILL_CHUNK = 200
# Posts a socket may have waiting to be stored; one more is refused with
# `rate_limited` (backpressure: a sender the server cannot keep up with is told
# to slow down instead of growing an unbounded queue in the server's memory).
MAX_PENDING_POSTS = 32
MAX_PAGE_LIMIT = 200
DEFAULT_PAGE_LIMIT = 50

# An author edits a message for this long after posting it (Zulip's default is
# 10 minutes; long enough to fix a typo or a wrong word, short enough that an
# answered message does not change under its answers). Deleting has no window.
EDIT_WINDOW_SECONDS = 15 * 60
# The reactions offered, in display order. A client may send ❤ with or without
# its variation selector; it is stored as listed here.
REACTION_EMOJIS = ("👍", "❤️", "😂", "😮", "😢", "🙏")
# A user's typing frames are passed on at most once per this many seconds (per
# room, across sockets and processes); a typer is shown for TYPING_SHOWN_SECONDS
# after their last one, or until their message arrives.
TYPING_THROTTLE_SECONDS = 3
TYPING_SHOWN_SECONDS = 6
# The quoted start of the original in a reply's `reply_to`.
REPLY_EXCERPT_LENGTH = 120
# Search: results per page at most, and the shortest query.
SEARCH_PAGE_LIMIT = 50
SEARCH_MIN_QUERY = 2


class CloseCode(IntEnum):
    """Every code the server closes a socket with. Only 1000, 1001 and
    3000-4999 may be sent (RFC 6455, 7.4): autobahn refuses any other, and the
    client would see a bare 1006 instead. `sendable()` enforces it."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down
    NOT_AUTHENTICATED = 4401  # not signed in, signed out, inactive, e-mail not verified
    FORBIDDEN = 4403  # age not verified, not a member, banned, kicked, blocked
    NOT_FOUND = 4404  # no such room
    # MAX_SOCKETS_PER_USER sockets already open (a flood from one account).
    TOO_MANY_SOCKETS = 4429
    # A failure on the server's side: reconnect (with backoff) and resend what
    # was not echoed back, with the same client_id.
    TRY_AGAIN = 4500


# The client stops on these; it reconnects after any other (docs/protocol.md).
REFUSAL_CLOSE_CODES = frozenset(
    {
        CloseCode.NOT_AUTHENTICATED,
        CloseCode.FORBIDDEN,
        CloseCode.NOT_FOUND,
        CloseCode.TOO_MANY_SOCKETS,
    }
)


def sendable(code) -> int:
    """The code as the plain int autobahn wants (it refuses an IntEnum), and
    TRY_AGAIN for any code the protocol does not let a server send."""
    code = CloseCode.NORMAL if code is None else int(code)
    if code in (CloseCode.NORMAL, CloseCode.GOING_AWAY) or 3000 <= code <= 4999:
        return int(code)
    return int(CloseCode.TRY_AGAIN)


# The codes an `error` frame carries: a subset of core.refusals.RefusalCode, the
# one vocabulary of refusals (the same code answers the JSON API with a status).
ERROR_FRAME_CODES = (
    RefusalCode.INVALID,
    RefusalCode.TOO_LONG,
    RefusalCode.RATE_LIMITED,
    RefusalCode.MUTED,
    RefusalCode.FILTERED,
    RefusalCode.BLOCKED,
    RefusalCode.FORBIDDEN,
    RefusalCode.UNAVAILABLE,
)


class ClientEvent(StrEnum):
    """Frames a client sends."""

    MESSAGE_SEND = "message.send"
    MESSAGE_EDIT = "message.edit"
    MESSAGE_DELETE = "message.delete"
    REACTION_ADD = "reaction.add"
    REACTION_REMOVE = "reaction.remove"
    TYPING = "typing"


class ServerEvent(StrEnum):
    """Frames the server sends."""

    MESSAGE_NEW = "message.new"
    MESSAGE_DELETED = "message.deleted"
    MESSAGE_UPDATED = "message.updated"
    REACTIONS = "reactions"
    TYPING = "typing"
    ERROR = "error"
    PRESENCE = "presence"
    # Above PRESENCE_LIST_MAX online: who came and who left, not the whole list.
    PRESENCE_DELTA = "presence.delta"
    # A moderation measure that limits the user here (mute, kick, ban) began,
    # changed or ended: the page shows it (docs/protocol.md, "Restrictions").
    RESTRICTION = "restriction"
    # On /ws/conversations/: something changed in one of the user's conversations.
    CONVERSATION_CHANGED = "conversation.changed"
    # On /ws/conversations/: someone mentioned the user (the message JSON).
    MENTION = "mention"


class GroupEvent(StrEnum):
    """Channel-layer events between processes (the consumer's handler names)."""

    # {"message": <message JSON>, "restored": true when a hidden message is shown again}
    ROOM_MESSAGE = "room.message"
    ROOM_MESSAGE_DELETED = "room.message_deleted"  # {"id": int}
    ROOM_MESSAGE_UPDATED = "room.message_updated"  # {"id", "body", "edited", "mentions"}
    ROOM_REACTIONS = "room.reactions"  # {"id": int, "counts": {emoji: count}}
    # Filtered per socket (blocks, ignores), so not encoded once for all.
    ROOM_TYPING = "room.typing"  # {"user": username, "user_id": int}
    # {"users": [username, ...], "members": int}, or above PRESENCE_LIST_MAX
    # online {"joined": [username, ...], "left": [...], "online": int, "members": int}
    ROOM_PRESENCE = "room.presence"
    ROOM_CLOSE = "room.close"  # {"code": int}: the room was archived
    # To user.<id>: close that user's sockets, in one room or all of them.
    USER_CLOSE = "user.close"  # {"code": int, "room": room id or None}
    USER_CONVERSATION = "user.conversation"  # {"room": slug}
    # To user.<id>: the account changed (password, active...): every socket
    # checks its session and access again and closes if they ended.
    USER_REVALIDATE = "user.revalidate"  # {}
    # To session.<digest>: that session signed out.
    SESSION_CLOSE = "session.close"  # {"code": int}
    # To session.<digest>: that session changed the password, which gave it a
    # new key (Django's update_session_auth_hash): its sockets follow it.
    SESSION_REKEY = "session.rekey"  # {"key": the new session key}
    USER_MENTION = "user.mention"  # {"room": slug, "message": <message JSON>}
    # The user's blocks or ignores changed: their sockets reload them.
    USER_RELATIONS = "user.relations"  # {}
    # To user.<id>: a measure against the user began or ended, in one room or
    # site-wide: the sockets it concerns read it and send a `restriction` frame.
    USER_RESTRICTION = "user.restriction"  # {"room": room id or None}
