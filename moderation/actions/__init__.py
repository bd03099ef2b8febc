"""Every change moderation makes: one function each, one module per noun (docs/moderation.md).

The JSON API, the admin, the pages and the policy hooks call these and nothing
else. Each public `do_*` is atomic and writes its audit entry in its own
transaction; sockets are closed, rooms told and e-mails sent only once it has
committed. The `_underscored` helpers do the work inside a caller's
transaction: the policy hooks run inside rooms' own post transaction.

Callers import from the package (`from moderation.actions import do_issue_sanction`);
the modules below are its parts.
"""

from moderation.actions.appeals import (  # noqa: F401
    do_decide_appeal,
    do_file_appeal,
    do_file_report_appeal,
)
from moderation.actions.closed_accounts import (  # noqa: F401
    do_forget_member,
)
from moderation.actions.common import (  # noqa: F401
    APPEAL_TARGET,
    ESCALATION_TARGET,
    HELD_TARGET,
    MESSAGE_TARGET,
    NOTICE_TARGET,
    REPORT_TARGET,
    SANCTION_TARGET,
    SIGNAL_TARGET,
)
from moderation.actions.console import (  # noqa: F401
    check_may_handle,
    do_escalate_report,
    do_post_report_thread_message,
    do_reassign_report,
    do_release_report,
    may_handle,
)
from moderation.actions.escalations import (  # noqa: F401
    do_decline_escalation,
    do_escalate_threat,
    do_mark_escalation_transmitted,
)
from moderation.actions.filters import (  # noqa: F401
    flag_message,
    link_flagged_message,
    mute_by_filter,
)
from moderation.actions.held_messages import (  # noqa: F401
    do_hold_first_message,
    do_hold_message,
    do_record_filter_block,
    do_reject_held_message,
    do_release_held_message,
)
from moderation.actions.misuse import (  # noqa: F401
    MISUSE_CLAUSE,
)
from moderation.actions.notes import (  # noqa: F401
    NOTE_TARGET,
    do_add_moderator_note,
    do_edit_moderator_note,
)
from moderation.actions.notices import (  # noqa: F401
    do_file_notice,
)
from moderation.actions.purges import (  # noqa: F401
    checked_purge_hours,
    do_ban_and_purge,
)
from moderation.actions.raid_mode import (  # noqa: F401
    RAID_TARGET,
    do_end_raid_mode,
    do_extend_raid_mode,
    do_start_raid_mode,
    do_trip_raid_mode,
)
from moderation.actions.removals import (  # noqa: F401
    do_remove_message,
    remove_message_on_order,
)
from moderation.actions.reports import (  # noqa: F401
    ALERT_CONTEXT_MESSAGES,
    REPORTS_PER_HOUR,
    do_claim_report,
    do_decide_report,
    do_dismiss_report,
    do_file_alert,
    do_file_report,
)
from moderation.actions.retention import (  # noqa: F401
    MODERATION_RECORDS,
    do_forget_moderation_records,
    do_redact_released_snapshots,
    do_redact_report_snapshots,
)
from moderation.actions.room_moderators import (  # noqa: F401
    do_escalate_to_staff,
    do_hide_message_as_room_moderator,
    do_restrict_member_as_room_moderator,
    do_reverse_room_moderator_action,
    room_moderator_refusal,
)
from moderation.actions.safety_signals import (  # noqa: F401
    raise_safety_signal,
)
from moderation.actions.sanctions import (  # noqa: F401
    DEFAULT_KICK_MINUTES,
    MAX_DURATION_MINUTES,
    do_issue_sanction,
    do_lift_sanction,
)
from moderation.actions.statements import (  # noqa: F401
    disclose_statements,
)
