"""Concurrent writers queue on the chain head: the chain stays linear."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from audit.events import AuditEvent
from audit.models import AuditEntry
from audit.trail import record

WRITERS = 8
ENTRIES_EACH = 25


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_leave_a_valid_chain():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is shared-cache: no real concurrency")
    start = threading.Barrier(WRITERS)
    errors = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for index in range(ENTRIES_EACH):
                with transaction.atomic():
                    # Some work before the entry, as an action does, then the entry last.
                    AuditEntry.objects.count()
                    record(
                        AuditEvent.ADMIN_CHANGE,
                        actor=None,
                        target_type="writer",
                        target_id=number,
                        details={"index": index},
                    )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * ENTRIES_EACH + 1))
    # Every writer's entries are all there, interleaved with the others'.
    for number in range(WRITERS):
        assert AuditEntry.objects.filter(target_id=str(number)).count() == ENTRIES_EACH
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    assert f"audit trail intact: {WRITERS * ENTRIES_EACH} entries" in out.getvalue()
