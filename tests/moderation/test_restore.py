"""A removal reversed on appeal: the message comes back through rooms'
restore_message, in the history and live on the room's open sockets."""

import pytest
from channels.db import database_sync_to_async

from audit.events import AuditEvent
from audit.models import AuditEntry
from moderation import actions
from moderation.models import StatementOfReasons
from rooms.models import Message, room_group
from tests.moderation.conftest import post_message


def reverse_removal(message, other_moderator):
    """The removed message's author appeals; another moderator reverses the removal."""
    statement = StatementOfReasons.objects.get(message=message)
    appeal = actions.do_file_appeal(statement, actor=message.author, text="C'était à propos.")
    return actions.do_decide_appeal(
        appeal, actor=other_moderator, reverse_decision=True, answer="Le message était à propos."
    )


@pytest.mark.django_db
def test_reversing_a_removal_restores_the_message_and_tells_the_room(
    room, make_user, moderator, other_moderator, listen, django_capture_on_commit_callbacks
):
    message = post_message(room, make_user("auteur"), "un avis argumenté")
    events = listen(room_group(room.id))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_remove_message(message, actor=moderator, reason="Hors sujet.")
        reverse_removal(message, other_moderator)
    message.refresh_from_db()
    assert message.deleted_at is None and message.deleted_by is None
    assert message.deletion_reason == ""
    deleted, restored = events()
    assert deleted == {"type": "room.message_deleted", "id": message.id}
    assert restored["type"] == "room.message" and restored["restored"] is True
    assert restored["message"]["id"] == message.id
    assert restored["message"]["body"] == "un avis argumenté"
    [row] = AuditEntry.objects.filter(event=int(AuditEvent.ROOM_MESSAGE_RESTORED))
    assert row.target_id == str(message.pk)
    assert row.reason == "Le message était à propos."
    assert row.details["hidden_by"] == moderator.pk
    assert row.actor_id == other_moderator.pk


@pytest.mark.django_db(transaction=True)
async def test_a_restore_reaches_an_open_socket_that_saw_the_message_before(
    two_layers, amake_room, amake_user, moderator, other_moderator, open_socket
):
    room = await amake_room(slug="avis")
    author, reader = await amake_user("auteur"), await amake_user("lecteur")
    message = await database_sync_to_async(post_message)(room, author, "un avis argumenté")
    # Backfilled: the socket has sent this id once already, it must send it again.
    socket = await open_socket(reader, room.slug, other_process=True, after=0)
    assert (await socket.receive_type("message.new"))["id"] == message.id

    await database_sync_to_async(actions.do_remove_message)(
        message, actor=moderator, reason="Hors sujet."
    )
    assert (await socket.receive_type("message.deleted"))["id"] == message.id
    await database_sync_to_async(reverse_removal)(message, other_moderator)
    frame = await socket.receive_type("message.new")
    assert frame["id"] == message.id and frame["body"] == "un avis argumenté"
    assert frame["author"] == "auteur"
    stored = await Message.objects.aget(pk=message.pk)
    assert stored.deleted_at is None
