"""The post off the ORM (rooms/actions/post_sql.py, issue 20): the raw statements
write the same rows the ORM wrote, a resend still returns its original without
the checks, and the client_id look-up sees an original that committed while
the post waited for the room's lock. Run on PostgreSQL (one round trip for the
lock and the look-up, one data-modifying CTE for the two inserts) and on SQLite
(two statements each); the embedded server's test below is SQLite's in any run."""

import asyncio
import json
import sqlite3
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import ConnectionKind
from accounts.records import Carrier, record_connection
from core.refusals import RefusalCode, Refused
from rooms import actions, policy
from rooms.actions import messages as message_actions
from rooms.actions.write_path import record_content_operation
from rooms.models import ContentOperation, ContentOperationKind, Message, Room
from rooms.text import message_json
from tests import embedded
from tests.wsclient import joined, next_frame, open_ws

OPERATION_FIELDS = (
    "content_id",
    "room_id",
    "kind",
    "at",
    "actor_id",
    "staff_member_id",
    "connection_id",
    "ip_address",
    "port",
    "protocol",
)


def _carrier(user, ip: str, port: int = 40123) -> Carrier:
    record = record_connection(user, ConnectionKind.WEBSOCKET, ip_address=ip, port=port)
    return Carrier(record.pk, ip, port, "wss")


@pytest.mark.django_db
@pytest.mark.parametrize("ip", ["203.0.113.7", "2001:DB8:0:0:0:0:0:5", "::ffff:10.0.0.1"])
def test_the_raw_content_operation_carries_the_fields_the_orm_wrote(public_room, make_user, ip):
    alice = make_user("alice")
    via = _carrier(alice, ip)
    posted = actions.do_post_message(public_room, "bonjour", actor=alice, via=via)
    raw = ContentOperation.objects.get(content_id=posted.payload["id"])
    # The ORM's record of the same operation, as record_content_operation wrote it.
    with transaction.atomic():
        record_content_operation(
            ContentOperationKind.CREATE, posted.message, actor=alice, at=raw.at, via=via
        )
    orm = ContentOperation.objects.filter(content_id=raw.content_id).exclude(pk=raw.pk).get()
    assert [getattr(raw, name) for name in OPERATION_FIELDS] == [
        getattr(orm, name) for name in OPERATION_FIELDS
    ]
    assert (raw.kind, raw.room_id, raw.at) == ("create", public_room.pk, posted.message.created)


@pytest.mark.django_db
def test_a_post_without_a_carrier_records_an_operation_without_one(public_room, make_user):
    alice = make_user("alice")
    posted = actions.do_post_message(public_room, "sans connexion", actor=alice)
    operation = ContentOperation.objects.get(content_id=posted.payload["id"])
    assert (operation.connection_id, operation.ip_address, operation.port) == (None, None, None)
    assert (operation.protocol, operation.actor_id, operation.staff_member_id) == (
        "",
        alice.pk,
        None,
    )


@pytest.mark.django_db
def test_the_payload_is_the_stored_message_as_json(public_room, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    first = actions.do_post_message(public_room, "premier", actor=bob, client_id="b-1")
    posted = actions.do_post_message(
        public_room,
        "réponse à @bob et @personne",
        actor=alice,
        client_id="a-1",
        reply_to=first.payload["id"],
    )
    stored = Message.objects.select_related("room", "author", "reply_to__author").get(
        pk=posted.payload["id"]
    )
    assert posted.payload == message_json(stored, reactions={})
    assert posted.payload["mentions"] == ["bob"]
    assert posted.payload["reply_to"]["id"] == first.payload["id"]
    # The model instance built on demand is the stored row.
    assert posted.message.pk == stored.pk and not posted.message._state.adding
    assert message_json(posted.message, reactions={}) == posted.payload


@pytest.mark.django_db
def test_a_post_is_two_statements_between_begin_and_commit_on_postgresql(public_room, make_user):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statements")
    alice = make_user("alice")
    actions.do_post_message(public_room, "chaud", actor=alice, client_id="w")  # warm caches
    with CaptureQueriesContext(connection) as captured:
        actions.do_post_message(
            public_room, "compté", actor=alice, client_id="c", account_checked=True
        )
    # The post's own: in the test's transaction BEGIN and COMMIT are a savepoint,
    # and moderation's checks read their tables when no socket keeps their copies
    # (tests/moderation/test_policy_cache.py counts those).
    statements = [
        query["sql"]
        for query in captured
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        and "moderation_" not in query["sql"]
    ]
    assert len(statements) == 2, "\n".join(statements)
    lock, insert = statements
    assert "FOR UPDATE" in lock and '"client_id" = ' in lock and lock.count("SELECT") == 2
    assert insert.startswith("WITH m AS (INSERT INTO")
    assert 'INSERT INTO "rooms_contentoperation"' in insert


@pytest.mark.django_db
def test_a_resend_returns_its_original_without_the_checks_or_a_token(
    public_room, make_user, monkeypatch
):
    alice = make_user("alice")
    first = actions.do_post_message(public_room, "une fois", actor=alice, client_id="c")
    assert first.created

    def refuse_everything(user, room, body):
        return policy.refuse_post(RefusalCode.MUTED, "refusé")

    tokens = []
    monkeypatch.setattr(message_actions, "take_token", lambda user_id: tokens.append(user_id) or 0)
    policy.register_post_check(refuse_everything)
    try:
        again = actions.do_post_message(public_room, "une fois", actor=alice, client_id="c")
        with pytest.raises(Refused):
            actions.do_post_message(public_room, "nouveau", actor=alice, client_id="d")
    finally:
        policy.unregister_check(refuse_everything)
    assert not again.created and tokens == []
    assert again.message.pk == first.message.pk
    assert again.payload == first.payload
    assert Message.objects.filter(room=public_room, client_id="c").count() == 1
    assert ContentOperation.objects.filter(content_id=first.message.pk).count() == 1


@pytest.mark.django_db
def test_the_checks_see_the_room_as_locked_not_as_passed_in(public_room, make_user):
    """The room comes back from the locking statement: an archiving that the
    caller's copy does not know of still refuses."""
    alice = make_user("alice")
    Room.objects.filter(pk=public_room.pk).update(is_archived=True)
    with pytest.raises(Refused) as refused:
        actions.do_post_message(public_room, "trop tard", actor=alice)
    assert refused.value.code == RefusalCode.INVALID
    assert not Message.objects.filter(room=public_room).exists()


@pytest.mark.django_db(transaction=True)
def test_a_resend_whose_original_commits_during_the_lock_wait_gets_the_original(
    public_room, make_user
):
    """The original holds the room's lock when its resend arrives (two sockets
    of one client, across processes): the resend waits, then must find the
    original rather than pass the checks again and break on the unique index."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes its write lock at BEGIN: no statement waits mid-transaction")
    alice = make_user("alice")
    holding, release = threading.Event(), threading.Event()
    outcome = {}

    def original() -> None:
        try:
            with transaction.atomic():
                Room.objects.select_for_update().get(pk=public_room.pk)
                outcome["original"] = Message.objects.create(
                    room=public_room, author=alice, body="une fois", client_id="c"
                ).pk
                holding.set()
                release.wait()
        finally:
            connections.close_all()  # back to the pool (tests/threads.py)

    def resend() -> None:
        try:
            outcome["resend"] = actions.do_post_message(
                public_room, "une fois", actor=alice, client_id="c"
            )
        except Exception as error:  # noqa: BLE001 - reported below, not lost in the thread
            outcome["error"] = error
        finally:
            connections.close_all()  # back to the pool (tests/threads.py)

    first = threading.Thread(target=original)
    first.start()
    assert holding.wait(60)
    second = threading.Thread(target=resend)
    second.start()
    # Let the original commit only once the resend waits for the room's lock.
    with connection.cursor() as cursor:
        for _ in range(3000):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            waiting = cursor.fetchone()[0]
            if waiting:
                break
            threading.Event().wait(0.01)
    release.set()
    first.join(60)
    second.join(60)
    assert waiting, "the resend never waited for the room's lock"
    assert "error" not in outcome, outcome.get("error")
    assert not outcome["resend"].created
    assert outcome["resend"].payload["id"] == outcome["original"]
    assert Message.objects.filter(room=public_room, client_id="c").count() == 1


async def test_the_embedded_default_stores_a_post_and_its_operation_once(
    embedded_template, tmp_path
):
    """SQLite's two-statement path, through a real server of the embedded
    default: the message, its content operation with the socket's carrier,
    and a resend that gets the original back."""
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 1, "salon")
    server = await asyncio.to_thread(embedded.start_embedded, var_dir, tmp_path / "daphne.log")
    try:
        ws = await open_ws(server, "salon", cookies["person0"])
        await joined(ws, "person0")
        frame = {"type": "message.send", "body": "bonjour @person0", "client_id": "e-1"}
        await ws.send(json.dumps(frame))
        first = await next_frame(ws, "message.new")
        await ws.send(json.dumps(frame))
        again = await next_frame(ws, "message.new")
        await ws.close()
    finally:
        server.kill()
    assert again == first
    assert (first["body"], first["client_id"], first["mentions"]) == (
        "bonjour @person0",
        "e-1",
        ["person0"],
    )
    stored = sqlite3.connect(var_dir / embedded.DATABASE_FILE)
    try:
        messages = stored.execute(
            "SELECT id, body, client_id, mentions, deletion_reason FROM rooms_message"
        ).fetchall()
        operations = stored.execute(
            "SELECT o.content_id, o.kind, o.ip_address, o.protocol, o.port IS NOT NULL, "
            "o.at = m.created, c.id IS NOT NULL "
            "FROM rooms_contentoperation o JOIN rooms_message m ON m.id = o.content_id "
            "LEFT JOIN accounts_connectionrecord c ON c.id = o.connection_id"
        ).fetchall()
    finally:
        stored.close()
    assert messages == [(first["id"], "bonjour @person0", "e-1", '["person0"]', "")]
    assert operations == [(first["id"], "create", "127.0.0.1", "ws", 1, 1, 1)]
