"""One write path per row: compliance forgets a person, and purges expired data, through
each app's own actions, never by writing the other apps' tables itself.

Checked by behaviour, not by reading the source: every INSERT, UPDATE and DELETE that
the deletion and the purge send to the database is traced to the innermost module of
ours that issued it (Django's query hook plus the Python stack), and that module's app
must own the table written. A `.delete()` on a rooms model written in compliance would
show up as a write to `rooms_*` issued from `compliance/`.
"""

import re
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts import actions as accounts_actions
from accounts.models import AccountDeletionRequest
from audit.events import AuditEvent
from compliance import actions
from moderation.models import HeldMessage, HeldStatus, TrustedFlagger
from rooms import actions as rooms_actions
from rooms.models import Block, RoomMembership
from tests.compliance.conftest import audit_entries
from tests.compliance.test_purge_batches import EXPECTED, _state, seeded  # noqa: F401

pytestmark = pytest.mark.django_db

OUR_APPS = {"accounts", "audit", "rooms", "moderation", "compliance", "core", "chatsite"}
# Third-party tables that an app of ours owns (it is their only writer).
OWNER_OF_LABEL = {"account": "accounts", "auth": "accounts", "otp_totp": "accounts"}
OWNER_OF_LABEL["otp_static"] = "accounts"
WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
DELETION_MODULE = str(Path("django", "db", "models", "deletion.py"))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def _table_owners() -> dict[str, str]:
    owners = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy:  # a proxy's table is its concrete model's (moderation's CaseFile)
            continue
        label = model._meta.app_label
        owners[model._meta.db_table] = OWNER_OF_LABEL.get(label, label)
    return owners


def _issuing_app(stack) -> str | None:
    """The app of the innermost frame of our own code (tests excepted) on the stack."""
    root = Path(settings.BASE_DIR).resolve()
    for frame in reversed(stack):
        path = Path(frame.filename).resolve()
        if not path.is_relative_to(root) or ".venv" in path.parts:
            continue
        app = path.relative_to(root).parts[0]
        if app in OUR_APPS:
            return app
    return None


@contextmanager
def traced_writes():
    """Yields the list of (table, issuing app) of every write sent meanwhile."""
    owners = _table_owners()
    writes: list[tuple[str, str | None, str]] = []

    def trace(execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match:
            stack = traceback.extract_stack()
            table = match.group(1)
            if sql.lstrip().upper().startswith("UPDATE") and any(
                frame.filename.endswith(DELETION_MODULE) for frame in stack
            ):
                # A foreign key's on_delete=SET_NULL, declared by the table's own
                # app (moderation's reports point to messages), applied by Django
                # when the owner of the deleted row deletes it: not a second path.
                writes.append((table, "on_delete", "on_delete"))
            else:
                writes.append((table, _issuing_app(stack), owners.get(table, "?")))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(trace):
        yield writes


def _misplaced(writes) -> list[tuple[str, str, str]]:
    return [(table, app, owner) for table, app, owner in writes if app != owner]


def test_account_deletion_writes_each_apps_rows_through_that_app(make_user, make_room, officer):
    leaving, friend = make_user("partant"), make_user()
    room = make_room()
    rooms_actions.do_join_public_room(room, actor=leaving)
    rooms_actions.do_open_direct_room(friend, actor=leaving)
    rooms_actions.do_block_user(friend, actor=leaving)
    rooms_actions.do_enter_room(room, "chan", actor=leaving)
    held = HeldMessage.objects.create(room=room, author=leaving, body="retenu")
    TrustedFlagger.objects.create(user=leaving, organisation="Association")
    accounts_actions.do_submit_identity_document(
        leaving, SimpleUploadedFile("d.png", PNG), actor=leaving
    )
    deletion = AccountDeletionRequest.objects.create(user=leaving)
    memberships = RoomMembership.objects.filter(user=leaving).count()

    with traced_writes() as writes:
        actions.do_complete_account_deletion(deletion, actor=officer)

    assert _misplaced(writes) == []
    written_by = {app for _table, app, _owner in writes}
    assert written_by == {"compliance", "rooms", "moderation", "accounts", "audit"}
    # What each app's forget action did, and its entry, made by the officer.
    assert not RoomMembership.objects.filter(user=leaving).exists()
    assert not Block.objects.filter(blocker=leaving).exists()
    held.refresh_from_db()
    assert held.status == HeldStatus.REJECTED
    assert not TrustedFlagger.objects.get(user=leaving).is_active
    leaving.refresh_from_db()
    assert leaving.username.startswith(accounts_actions.DELETED_USERNAME_PREFIX)
    for event in (
        AuditEvent.ROOMS_MEMBER_FORGOTTEN,
        AuditEvent.MODERATION_MEMBER_FORGOTTEN,
        AuditEvent.ACCOUNT_FORGOTTEN,
        AuditEvent.ACCOUNT_DELETION_COMPLETED,
    ):
        (entry,) = audit_entries(event, target_id=str(leaving.pk))
        assert entry.actor_id == officer.pk
    (done,) = audit_entries(AuditEvent.ACCOUNT_DELETION_COMPLETED)
    assert done.details["removed"]["held_messages_refused"] == 1
    assert done.details["removed"]["memberships"] == memberships


def test_the_purge_writes_each_apps_rows_through_that_app(seeded):  # noqa: F811
    with traced_writes() as writes:
        actions.do_purge_expired(actor=None, now=seeded["now"], batch_size=2)

    assert _state(seeded) == EXPECTED
    assert _misplaced(writes) == []
    tables_by_app = {}
    for table, app, _owner in writes:
        tables_by_app.setdefault(app, set()).add(table)
    assert "accounts_connectionrecord" in tables_by_app["accounts"]
    assert "rooms_message" in tables_by_app["rooms"]
    # Compliance's own rows: restricted records, and the requisitions whose packages go.
    assert tables_by_app["compliance"] == {"compliance_restrictedrecord", "compliance_legalrequest"}
    # Moderation's expired records and the snapshots quoting purged texts: moderation's writes.
    assert {
        "moderation_report",
        "moderation_statementofreasons",
        "moderation_threatescalation",
    } <= (tables_by_app["moderation"])
    # Each batch of another app's rows is that app's audited action.
    for event, rows in [
        (AuditEvent.CONNECTION_RECORDS_FORGOTTEN, "records"),
        (AuditEvent.ATTESTATION_CHALLENGES_FORGOTTEN, "challenges"),
        (AuditEvent.DELETED_MESSAGE_TEXTS_FORGOTTEN, "messages"),
        (AuditEvent.DELETED_MESSAGES_FORGOTTEN, "messages"),
        (AuditEvent.MODERATION_RECORDS_FORGOTTEN, "rows"),
        (AuditEvent.REPORT_SNAPSHOTS_REDACTED, "reports"),
    ]:
        entries = audit_entries(event)
        assert entries and all(0 < entry.details[rows] <= 2 for entry in entries)


def test_the_tracer_sees_a_write_from_the_wrong_app(make_user):
    """The check above can fail: a write issued from a test's own frame has no app,
    and a write from our code is attributed to the module that sent it."""
    user = make_user()
    with traced_writes() as writes:
        RoomMembership.objects.filter(user=user).update(last_read_message_id=1)
        accounts_actions.do_set_direct_message_policy(user, "nobody", actor=user)
    assert writes[0][:2] == ("rooms_roommembership", None)
    assert _misplaced(writes[:1]) == [("rooms_roommembership", None, "rooms")]
    assert ("accounts_user", "accounts", "accounts") in writes
