"""Database triggers that make the audit table append-only.

The database itself refuses DELETE, and any UPDATE except the one erasure
allows: clearing the personal columns (actor label, IP address, personal
details, salt) while every sealed column stays as it was. On PostgreSQL a
TRUNCATE of a non-empty table is refused too (an empty one may be truncated,
which Django's flush does to a test database).

A role that owns the table can still disable the triggers: run the site with
a role that does not (docs/audit.md). Hash chain and signed checkpoints are
what catch that case. The SQL is versioned: a migration names the version it
installs, so changing a guard means a new version and a new migration.
"""

from contextlib import contextmanager

TABLE = "audit_auditentry"
SEALED_COLUMNS = (
    "seq",
    "created",
    "actor_id",
    "event",
    "target_type",
    "target_id",
    "reason",
    "details",
    "personal_digest",
    "prev_hash",
    "hash",
)


def _sealed_unchanged(same: str) -> str:
    return " AND ".join(f"NEW.{column} {same} OLD.{column}" for column in SEALED_COLUMNS)


_ERASED = (
    "NEW.actor_label = '' AND NEW.ip_address IS NULL "
    "AND NEW.personal_details IS NULL AND NEW.personal_salt = ''"
)

POSTGRESQL_V1 = [
    f"""
    CREATE OR REPLACE FUNCTION audit_entry_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND {_sealed_unchanged("IS NOT DISTINCT FROM")} AND {_ERASED} THEN
            RETURN NEW;  -- an erasure: personal columns cleared, the chain untouched
        END IF;
        RAISE EXCEPTION 'the audit trail is append-only: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    """,
    f"""
    CREATE OR REPLACE FUNCTION audit_entry_refuse_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM {TABLE}) THEN
            RAISE EXCEPTION 'the audit trail is append-only: TRUNCATE refused on %', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END
    $$;
    """,  # noqa: S608 - TABLE is a constant
    f"""
    CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_change();
    """,
    f"""
    CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse_truncate();
    """,
]
POSTGRESQL_V1_REVERSE = [
    f"DROP TRIGGER IF EXISTS audit_entry_append_only ON {TABLE};",
    f"DROP TRIGGER IF EXISTS audit_entry_no_truncate ON {TABLE};",
    "DROP FUNCTION IF EXISTS audit_entry_refuse_change();",
    "DROP FUNCTION IF EXISTS audit_entry_refuse_truncate();",
]

SQLITE_V1 = [
    f"""
    CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE refused');
    END;
    """,
    f"""
    CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON {TABLE}
    WHEN NOT ({_sealed_unchanged("IS")} AND {_ERASED})
    BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE refused');
    END;
    """,
]
SQLITE_V1_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_entry_no_delete;",
    "DROP TRIGGER IF EXISTS audit_entry_no_update;",
]

V1 = {
    "postgresql": (POSTGRESQL_V1, POSTGRESQL_V1_REVERSE),
    "sqlite": (SQLITE_V1, SQLITE_V1_REVERSE),
}


def _statements(vendor: str, version: dict, *, reverse: bool) -> list[str]:
    if vendor not in version:
        raise NotImplementedError(
            f"The audit trail's append-only guards exist for PostgreSQL and SQLite, not {vendor}."
        )
    return version[vendor][1 if reverse else 0]


def install(connection, version: dict = V1) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, version, reverse=False):
            cursor.execute(statement)


def remove(connection, version: dict = V1) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, version, reverse=True):
            cursor.execute(statement)


@contextmanager
def suspended(connection):
    """Lifts the guards for a block: tests, benchmarks, a lawful purge by the table's owner.

    Needs the privileges the site's own role should not have (owning the table).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
    else:
        remove(connection)
        try:
            yield
        finally:
            install(connection)
