"""Rooms' settings and their defaults, in one place (core/app_settings.py explains)."""

from core.app_settings import setting


class AppSettings:
    # Per-user sending limit, `BURST/PER_SECOND` or `off` (rooms/ratelimit.py).
    MESSAGE_RATE_LIMIT = setting("MESSAGE_RATE_LIMIT", "5/1")
    # Sockets one account may hold open at once, on all processes; 0: no cap.
    MAX_SOCKETS_PER_USER = setting("MAX_SOCKETS_PER_USER", 20, int)
    # A person's presence in a room that resumes within this many seconds of its
    # end (a reconnect, a reload) extends the same interval (PresenceInterval).
    PRESENCE_MERGE_GAP_SECONDS = setting("PRESENCE_MERGE_GAP_SECONDS", 60, int)
    # Above this many people online in a room, a change of its online set is
    # sent as a `presence.delta` (who came, who left, the count) rather than the
    # whole list: O(1) bytes per change and socket in a room of a thousand.
    PRESENCE_LIST_MAX = setting("PRESENCE_LIST_MAX", 100, int)


app_settings = AppSettings()
