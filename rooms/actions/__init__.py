"""Every change to rooms, messages, relations and presence: one function each,
one module per noun (Zulip's zerver/actions layout).

The HTTP API, the WebSocket consumer, the admin, other apps and the management
commands call these and nothing else (`from rooms import actions`;
`actions.do_post_message`). Each is atomic; events to sockets go out only once
the transaction has committed. The helpers that write a Message (store, hide,
restore) live in write_path.py, and every other write to a message goes through
them.
"""

from rooms.actions.common import (
    runs_after_refusal,
)
from rooms.actions.direct import (
    do_accept_contact_request,
    do_block_user,
    do_ignore_contact_request,
    do_open_direct_room,
    do_unblock_user,
)
from rooms.actions.forget import (
    do_forget_content_operations,
    do_forget_deleted_message_texts,
    do_forget_deleted_messages,
    do_forget_member,
)
from rooms.actions.memberships import (
    do_leave_membership,
    do_set_room_moderator,
    do_set_room_muted,
    do_transfer_room_ownership,
)
from rooms.actions.messages import (
    AUTHOR_DELETION_REASON,
    PostResult,
    do_delete_message,
    do_delete_own_message,
    do_edit_message,
    do_join_public_room,
    do_mark_room_read,
    do_post_message,
    message_id_of,
    prepare_body,
    validate_client_id,
)
from rooms.actions.notifications import (
    do_mark_notifications_read,
    notify_member,
)
from rooms.actions.presence import (
    do_enter_room,
    do_enter_room_counted,
    do_leave_room,
)
from rooms.actions.presence_intervals import (
    do_forget_presence_intervals,
)
from rooms.actions.relations import (
    do_ignore_user,
    do_react,
    do_unignore_user,
)
from rooms.actions.rooms import (
    RESERVED_SLUGS,
    do_answer_invitation,
    do_archive_room,
    do_create_room,
    do_invite_to_room,
    unique_slug,
)
from rooms.actions.write_path import (
    hide_message,
    insert_message,
    locked_message,
    record_content_operation,
    restore_message,
)

__all__ = [
    "AUTHOR_DELETION_REASON",
    "RESERVED_SLUGS",
    "PostResult",
    "do_accept_contact_request",
    "do_answer_invitation",
    "do_archive_room",
    "do_block_user",
    "do_create_room",
    "do_delete_message",
    "do_delete_own_message",
    "do_edit_message",
    "do_enter_room",
    "do_enter_room_counted",
    "do_forget_content_operations",
    "do_forget_deleted_message_texts",
    "do_forget_deleted_messages",
    "do_forget_member",
    "do_forget_presence_intervals",
    "do_ignore_contact_request",
    "do_ignore_user",
    "do_invite_to_room",
    "do_join_public_room",
    "do_leave_membership",
    "do_leave_room",
    "do_mark_notifications_read",
    "do_mark_room_read",
    "do_open_direct_room",
    "do_post_message",
    "do_react",
    "do_set_room_moderator",
    "do_set_room_muted",
    "do_transfer_room_ownership",
    "do_unblock_user",
    "do_unignore_user",
    "hide_message",
    "insert_message",
    "locked_message",
    "message_id_of",
    "notify_member",
    "prepare_body",
    "record_content_operation",
    "restore_message",
    "runs_after_refusal",
    "unique_slug",
    "validate_client_id",
]
