"""The database itself refuses to rewrite or remove audit entries."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEntry


def _refused(sql: str, params=()) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_update_of_a_sealed_column_is_refused(append_entries):
    entry = append_entries(1)[0]
    _refused("UPDATE audit_auditentry SET reason = %s WHERE seq = %s", ["forged", entry.seq])
    _refused("UPDATE audit_auditentry SET hash = %s WHERE seq = %s", ["0" * 64, entry.seq])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=entry.seq).update(event=1)
    assert AuditEntry.objects.get(seq=entry.seq).reason == entry.reason


@pytest.mark.django_db
def test_delete_is_refused_through_sql_and_the_orm(append_entries):
    entry = append_entries(1)[0]
    _refused("DELETE FROM audit_auditentry WHERE seq = %s", [entry.seq])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.filter(seq=entry.seq).exists()


@pytest.mark.django_db
def test_changing_personal_columns_other_than_by_erasure_is_refused(append_entries):
    entry = append_entries(1)[0]
    _refused("UPDATE audit_auditentry SET actor_label = %s WHERE seq = %s", ["somebody", entry.seq])
    # Erasing only the label, but keeping the salt, is not an erasure either.
    _refused("UPDATE audit_auditentry SET actor_label = '' WHERE seq = %s", [entry.seq])


@pytest.mark.django_db
def test_the_erasure_update_is_the_one_allowed(append_entries):
    entry = append_entries(1)[0]
    AuditEntry.objects.filter(seq=entry.seq).update(
        actor_label="", ip_address=None, personal_details=None, personal_salt=""
    )
    erased = AuditEntry.objects.get(seq=entry.seq)
    assert erased.is_erased
    assert (erased.hash, erased.reason) == (entry.hash, entry.reason)


@pytest.mark.django_db
def test_truncate_of_a_non_empty_trail_is_refused_on_postgresql(append_entries):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    append_entries(1)
    _refused("TRUNCATE audit_auditentry")
