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


class CloseCode(IntEnum):
    NOT_AUTHENTICATED = 4401  # not signed in, inactive, e-mail not verified
    FORBIDDEN = 4403  # age not verified, not a member, banned, kicked, blocked
    NOT_FOUND = 4404  # no such room
    # MAX_SOCKETS_PER_USER sockets already open (a flood from one account).
    TOO_MANY_SOCKETS = 4429


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


class ServerEvent(StrEnum):
    """Frames the server sends."""

    MESSAGE_NEW = "message.new"
    MESSAGE_DELETED = "message.deleted"
    ERROR = "error"
    PRESENCE = "presence"
    # On /ws/conversations/: something changed in one of the user's conversations.
    CONVERSATION_CHANGED = "conversation.changed"


class GroupEvent(StrEnum):
    """Channel-layer events between processes (the consumer's handler names)."""

    # {"message": <message JSON>, "restored": true when a hidden message is shown again}
    ROOM_MESSAGE = "room.message"
    ROOM_MESSAGE_DELETED = "room.message_deleted"  # {"id": int}
    ROOM_PRESENCE = "room.presence"  # {"users": [username, ...]}
    ROOM_CLOSE = "room.close"  # {"code": int}: the room was archived
    # To user.<id>: close that user's sockets, in one room or all of them.
    USER_CLOSE = "user.close"  # {"code": int, "room": room id or None}
    USER_CONVERSATION = "user.conversation"  # {"room": slug}
