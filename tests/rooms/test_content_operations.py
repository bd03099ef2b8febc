"""Content operation records (décret 2021-1362, art. 3): every creation, edit and
deletion of a message, with its time, its author and the connection that carried
it; one insert per operation; forgotten by id once their year is over."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ConnectionKind
from accounts.records import Carrier, record_connection
from audit.events import AuditEvent
from audit.models import AuditEntry
from rooms import actions
from rooms.models import ContentOperation, ContentOperationKind
from tests.rooms.test_conversation_api import client_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def carrier(make_user):
    """A socket's carrier: its connection record, address, port and protocol."""

    def make(user, ip="203.0.113.7", port=40123):
        record = record_connection(user, ConnectionKind.WEBSOCKET, ip_address=ip, port=port)
        return Carrier(record.pk, ip, port, "wss")

    return make


def _operations(message_id) -> list[tuple]:
    return list(
        ContentOperation.objects.filter(content_id=message_id)
        .order_by("id")
        .values_list("kind", "actor_id", "connection_id", "ip_address", "port", "protocol")
    )


def test_post_edit_and_delete_each_record_their_carrier(public_room, make_user, carrier):
    alice = make_user("alice")
    home, phone = carrier(alice), carrier(alice, ip="2001:db8::5", port=61000)

    message = actions.do_post_message(public_room, "bonjour", actor=alice, via=home).message
    actions.do_edit_message(message.pk, "bonsoir", actor=alice, via=phone)
    actions.do_delete_own_message(message.pk, actor=alice, via=home)

    assert _operations(message.pk) == [
        ("create", alice.pk, home.connection_id, "203.0.113.7", 40123, "wss"),
        ("edit", alice.pk, phone.connection_id, "2001:db8::5", 61000, "wss"),
        ("delete", alice.pk, home.connection_id, "203.0.113.7", 40123, "wss"),
    ]
    create = ContentOperation.objects.get(content_id=message.pk, kind=ContentOperationKind.CREATE)
    assert (create.at, create.room_id) == (message.created, public_room.pk)


def test_a_post_adds_one_insert_and_nothing_else(public_room, make_user, carrier):
    alice = make_user("alice")
    via = carrier(alice)
    actions.do_post_message(public_room, "premier", actor=alice, via=via)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        actions.do_post_message(public_room, "second", actor=alice, via=via)
    operation_queries = [q["sql"] for q in queries if "rooms_contentoperation" in q["sql"]]
    # On PostgreSQL the message's insert carries it (a data-modifying CTE).
    assert len(operation_queries) == 1
    assert 'INSERT INTO "rooms_contentoperation"' in operation_queries[0]


def test_a_resent_client_id_records_no_second_operation(public_room, make_user, carrier):
    alice = make_user("alice")
    via = carrier(alice)
    first = actions.do_post_message(public_room, "une fois", actor=alice, client_id="c", via=via)
    actions.do_post_message(public_room, "une fois", actor=alice, client_id="c", via=via)
    assert len(_operations(first.message.pk)) == 1


def test_the_api_records_the_http_request_as_carrier(public_room, make_user):
    alice = make_user("alice")
    message = actions.do_post_message(public_room, "bonjour", actor=alice).message
    client = client_of(alice)
    extra = {"REMOTE_ADDR": "192.0.2.44", "REMOTE_PORT": "51515"}
    token = client.cookies["csrftoken"].value
    response = client.patch(
        f"/api/messages/{message.pk}/",
        data='{"body": "corrigé"}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
        **extra,
    )
    assert response.status_code == 200
    response = client.delete(
        f"/api/messages/{message.pk}/", headers={"X-CSRFToken": token}, **extra
    )
    assert response.status_code == 204
    assert _operations(message.pk)[1:] == [
        ("edit", alice.pk, None, "192.0.2.44", 51515, "http"),
        ("delete", alice.pk, None, "192.0.2.44", 51515, "http"),
    ]


def test_a_moderator_removal_is_a_delete_operation_by_the_moderator(
    public_room, make_user, make_staff
):
    from moderation.actions import do_remove_message

    alice, moderator = make_user("alice"), make_staff("moderator")
    message = actions.do_post_message(public_room, "à retirer", actor=alice).message
    do_remove_message(message, actor=moderator, reason="Propos injurieux envers un membre")
    assert _operations(message.pk)[-1] == ("delete", moderator.pk, None, None, None, "")


def test_forgetting_operations_by_id(public_room, make_user):
    alice = make_user("alice")
    kept = actions.do_post_message(public_room, "reste", actor=alice).message
    gone = actions.do_post_message(public_room, "part", actor=alice).message
    ids = list(ContentOperation.objects.filter(content_id=gone.pk).values_list("pk", flat=True))

    assert actions.do_forget_content_operations(ids, actor=None, reason="retention") == 1
    assert _operations(gone.pk) == [] and len(_operations(kept.pk)) == 1
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.CONTENT_OPERATIONS_FORGOTTEN)
    assert entry.details["operations"] == 1 and entry.reason == "retention"
