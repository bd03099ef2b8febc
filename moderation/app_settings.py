"""Moderation's settings and their defaults, in one place (core/app_settings.py explains)."""

from core.app_settings import setting
from moderation.dsa import EEA_COUNTRIES


class AppSettings:
    # Where a decision applies (ISO 3166 codes of the EEA, the DSA Transparency
    # Database's territorial_scope): a removal or a ban takes effect on the whole
    # service, so by default everywhere in the EEA.
    MODERATION_TERRITORIAL_SCOPE = setting(
        "MODERATION_TERRITORIAL_SCOPE", EEA_COUNTRIES, lambda value: tuple(value)
    )

    # DSA Art. 23(2), terms clause T14: a member with at least this many reports
    # decided over the window, at least this percentage of them manifestly
    # unfounded, is warned; if it goes on, reporting is suspended for this long.
    MODERATION_UNFOUNDED_REPORTS_MIN_DECIDED = setting(
        "MODERATION_UNFOUNDED_REPORTS_MIN_DECIDED", 10, int
    )
    MODERATION_UNFOUNDED_REPORTS_PERCENT = setting("MODERATION_UNFOUNDED_REPORTS_PERCENT", 50, int)
    MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS = setting(
        "MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS", 90, int
    )
    MODERATION_REPORTING_SUSPENSION_DAYS = setting("MODERATION_REPORTING_SUSPENSION_DAYS", 30, int)

    # DSA Art. 23(1), terms clause T14: this many contents removed or refused as
    # illegal over the window earn a warning; one more after it, a site-wide ban
    # for this long.
    MODERATION_ILLEGAL_CONTENT_THRESHOLD = setting("MODERATION_ILLEGAL_CONTENT_THRESHOLD", 3, int)
    MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS = setting(
        "MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS", 180, int
    )
    MODERATION_ILLEGAL_CONTENT_SUSPENSION_DAYS = setting(
        "MODERATION_ILLEGAL_CONTENT_SUSPENSION_DAYS", 30, int
    )

    # Room moderators (docs/moderation.md, "Modérateurs de salon"): the mute and
    # kick durations they choose from, in minutes, none longer than the maximum;
    # and how many measures one of them may take in an hour.
    ROOM_MODERATOR_DURATIONS = setting(
        "ROOM_MODERATOR_DURATIONS", (10, 60, 24 * 60), lambda value: tuple(int(v) for v in value)
    )
    ROOM_MODERATOR_MAX_MINUTES = setting("ROOM_MODERATOR_MAX_MINUTES", 24 * 60, int)
    ROOM_MODERATOR_ACTIONS_PER_HOUR = setting("ROOM_MODERATOR_ACTIONS_PER_HOUR", 30, int)

    # Ban and purge (moderation/actions/purges.py): how far back a ban may hide
    # the person's messages, in hours.
    MODERATION_PURGE_MAX_HOURS = setting("MODERATION_PURGE_MAX_HOURS", 7 * 24, int)

    # Reporters' reputation (moderation/reputation.py). A reporter's precision is
    # (upheld + PRIOR_UPHELD) / (decided + PRIOR_DECIDED): with the default prior,
    # two imaginary reports of which one upheld, a new reporter stands at 0.5.
    MODERATION_REPUTATION_PRIOR_UPHELD = setting("MODERATION_REPUTATION_PRIOR_UPHELD", 1, float)
    MODERATION_REPUTATION_PRIOR_DECIDED = setting("MODERATION_REPUTATION_PRIOR_DECIDED", 2, float)
    # A "good" reporter: at least this precision over at least this many decided
    # reports. This many good reporters on one message, and no moderator online,
    # hide it until a moderator decides.
    MODERATION_AUTOHIDE_MIN_PRECISION = setting("MODERATION_AUTOHIDE_MIN_PRECISION", 0.8, float)
    MODERATION_AUTOHIDE_MIN_DECIDED = setting("MODERATION_AUTOHIDE_MIN_DECIDED", 5, int)
    MODERATION_AUTOHIDE_REPORTERS = setting("MODERATION_AUTOHIDE_REPORTERS", 2, int)
    # A moderator is online when an OTP-verified session of theirs made a request
    # in the last this many minutes (moderation/staff_presence.py).
    MODERATION_ONLINE_MINUTES = setting("MODERATION_ONLINE_MINUTES", 5, int)


app_settings = AppSettings()
