"""Moderation's settings and their defaults, in one place (core/app_settings.py explains)."""

from core.app_settings import setting
from moderation.dsa import EEA_COUNTRIES

# What each trust level asks (moderation/trust.py); levels 1, 2, 3 in order.
# `verification_methods`: the age verification routes accepted (a document
# photographed and reviewed by a person is the easiest to borrow, a wallet's
# proof of age the hardest); `max_upheld_sanctions`: over the sanction window;
# `min_report_accuracy`: the percentage of one's decided reports that were
# upheld, asked once at least `min_decided_reports` are decided.
DEFAULT_TRUST_LEVELS = (
    {
        "account_age_days": 1,
        "verification_methods": ("wallet", "attestation", "document"),
        "max_upheld_sanctions": 1,
        "min_report_accuracy": 0,
        "min_decided_reports": 0,
    },
    {
        "account_age_days": 7,
        "verification_methods": ("wallet", "attestation", "document"),
        "max_upheld_sanctions": 0,
        "min_report_accuracy": 30,
        "min_decided_reports": 5,
    },
    {
        "account_age_days": 30,
        "verification_methods": ("wallet", "attestation"),
        "max_upheld_sanctions": 0,
        "min_report_accuracy": 50,
        "min_decided_reports": 5,
    },
)


def _on(value) -> bool:
    return str(value).strip().lower() not in {"off", "0", "false", "no", ""}


def _trust_levels(value) -> tuple[dict, ...]:
    """The defaults, each level overridden by the keys the setting gives it."""
    given = list(value or ())
    levels = []
    for number, default in enumerate(DEFAULT_TRUST_LEVELS):
        level = {**default, **(given[number] if number < len(given) else {})}
        level["verification_methods"] = tuple(level["verification_methods"])
        levels.append(level)
    return tuple(levels)


def _per_level(value) -> tuple[int, ...]:
    """One number per level, 0 to 3; a shorter list repeats its last number."""
    numbers = [int(number) for number in value]
    return tuple(numbers[min(level, len(numbers) - 1)] for level in range(4))


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
    # Raid mode (docs/moderation.md "Mode raid", docs/configuration.md). How long a
    # raid mode lasts unless staff extend or end it.
    RAID_MODE_DURATION_MINUTES = setting("RAID_MODE_DURATION_MINUTES", 60, int)
    # The wave detector: this many events within the sliding window trips it by
    # itself. Sign-ups and new direct conversations from recent accounts trip
    # the site-wide mode; arrivals in one room, that room's.
    RAID_SIGNUPS_THRESHOLD = setting("RAID_SIGNUPS_THRESHOLD", 60, int)
    RAID_SIGNUPS_WINDOW_SECONDS = setting("RAID_SIGNUPS_WINDOW_SECONDS", 300, int)
    RAID_JOINS_THRESHOLD = setting("RAID_JOINS_THRESHOLD", 40, int)
    RAID_JOINS_WINDOW_SECONDS = setting("RAID_JOINS_WINDOW_SECONDS", 300, int)
    RAID_DIRECT_CONVERSATIONS_THRESHOLD = setting("RAID_DIRECT_CONVERSATIONS_THRESHOLD", 40, int)
    RAID_DIRECT_CONVERSATIONS_WINDOW_SECONDS = setting(
        "RAID_DIRECT_CONVERSATIONS_WINDOW_SECONDS", 300, int
    )
    # A "recent" account, as raid mode holds it back: joined less than this ago.
    RAID_RECENT_ACCOUNT_HOURS = setting("RAID_RECENT_ACCOUNT_HOURS", 72, int)
    # While on: a recent account's messages are held for review until this many
    # of its messages are published; the rooms covered get at least this slow mode.
    RAID_FIRST_MESSAGES_HELD = setting("RAID_FIRST_MESSAGES_HELD", 3, int)
    RAID_SLOW_MODE_SECONDS = setting("RAID_SLOW_MODE_SECONDS", 30, int)

    # Trust levels (moderation/trust.py, docs/moderation.md "Niveaux de confiance").
    # `off` (the environment's TRUST_GATES) lifts every gate: test and load runs only.
    TRUST_GATES = setting("TRUST_GATES", True, _on)
    # What levels 1, 2 and 3 ask, in order; a level given here replaces only the
    # keys it names (see DEFAULT_TRUST_LEVELS).
    TRUST_LEVELS = setting("TRUST_LEVELS", (), _trust_levels)
    # A sanction counts against the level over this many days, unless lifted
    # (on appeal or by a moderator).
    TRUST_SANCTION_WINDOW_DAYS = setting("TRUST_SANCTION_WINDOW_DAYS", 180, int)
    # New direct conversations one may open per hour, by level (0, 1, 2, 3).
    TRUST_DIRECT_CONVERSATIONS_PER_HOUR = setting(
        "TRUST_DIRECT_CONVERSATIONS_PER_HOUR", (3, 10, 30, 60), _per_level
    )
    # The lowest level that may post links, and contact details (phone
    # numbers, e-mail addresses, messaging handles).
    TRUST_LINKS_MIN_LEVEL = setting("TRUST_LINKS_MIN_LEVEL", 1, int)
    TRUST_CONTACT_DETAILS_MIN_LEVEL = setting("TRUST_CONTACT_DETAILS_MIN_LEVEL", 2, int)
    # Below this level, the first messages of a member in a busy public room
    # (this many, counting those published) are held for a moderator.
    TRUST_BUSY_ROOM_MIN_LEVEL = setting("TRUST_BUSY_ROOM_MIN_LEVEL", 1, int)
    TRUST_BUSY_ROOM_FIRST_MESSAGES = setting("TRUST_BUSY_ROOM_FIRST_MESSAGES", 1, int)
    # A public room is busy with at least this many messages over the window.
    TRUST_BUSY_ROOM_MESSAGES = setting("TRUST_BUSY_ROOM_MESSAGES", 30, int)
    TRUST_BUSY_ROOM_WINDOW_MINUTES = setting("TRUST_BUSY_ROOM_WINDOW_MINUTES", 10, int)

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
