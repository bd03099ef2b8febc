"""The statements of a post, written out rather than built by the ORM (issue 20).

A post is the room's row lock, the client_id look-up, the message and its
content operation. Built by the ORM, these cost about 2 ms of CPU per post,
nearly all of it Django composing the SQL and the model instances; written out
once per process they cost a few tens of microseconds each
(docs/performance.md, "Issue 20, third steps"). Only rooms/actions/write_path.py
and rooms/actions/messages.py call these.

Each statement names every column of its table: a column added to Message or
ContentOperation and not written here fails at the first post (`_columns`),
rather than being left to a default the model does not have.
"""

# Every name in these statements comes from the models' own metadata, every value
# is a parameter: string-built SQL, but none of it from outside.
# ruff: noqa: S608

from functools import cache

from django.db import connection
from django.db.models import Model

from rooms.models import ContentOperation, ContentOperationKind, Message, Room


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(model: type[Model], values: dict[str, str]) -> tuple[str, str]:
    """The quoted column list of `model` and the matching placeholders, in
    `values`' order; refuses a column (the generated id aside) that `values`
    does not write."""
    known = {field.column for field in model._meta.concrete_fields if not field.primary_key}
    if known != set(values):
        raise RuntimeError(
            f"{model._meta.db_table}: the raw post statements write {sorted(values)}, "
            f"the table has {sorted(known)} (rooms/actions/post_sql.py)"
        )
    return ", ".join(_quote(column) for column in values), ", ".join(values.values())


@cache
def _room_fields() -> tuple[tuple[str, ...], str, tuple]:
    """Room's attribute names, its columns as a select list, and the converters
    that turn the database's values into the model's (SQLite's datetimes and
    booleans; none on PostgreSQL), as the ORM's compiler applies them."""
    fields = Room._meta.concrete_fields
    table = Room._meta.db_table
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(table)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            converters.append((index, converter, column))
    select = ", ".join(f"{_quote(table)}.{_quote(field.column)}" for field in fields)
    return tuple(field.attname for field in fields), select, tuple(converters)


@cache
def _lock_sql(vendor: str) -> tuple[str, str]:
    _names, select, _converters = _room_fields()
    room_table = _quote(Room._meta.db_table)
    lock = f"SELECT {select} FROM {room_table} WHERE {room_table}.{_quote('id')} = %s"
    if vendor == "postgresql":
        lock += " FOR UPDATE"
    # No ORDER BY, no join: the unique index (room, author, client_id) answers.
    look_up = (
        f"SELECT {_quote('id')} FROM {_quote(Message._meta.db_table)} "
        f"WHERE {_quote('room_id')} = %s AND {_quote('author_id')} = %s "
        f"AND {_quote('client_id')} = %s LIMIT 1"
    )
    return lock, look_up


def _sends_statements_together(cursor) -> bool:
    """psycopg's client-side binding (Django's default on PostgreSQL) sends a
    string of several statements as one simple query: one round trip."""
    if connection.vendor != "postgresql":
        return False
    import psycopg

    return isinstance(cursor.cursor, psycopg.ClientCursor)


def lock_room_for_post(
    room_id: int, author_id: int, client_id: str | None
) -> tuple[Room, int | None]:
    """The room as it is now, its row locked until the transaction ends, and
    the id of the author's message already stored in it under `client_id`
    (None: no such message, or no client_id).

    Two statements, so that the look-up runs after the lock is held: a single
    `SELECT ... FOR UPDATE` with the look-up as a subquery would read the
    messages as they were when it started, before it waited for the lock, and
    so miss the original of a resend that committed while it waited (the
    resend would then pass the checks again and fail on the unique index).
    On PostgreSQL both go in one round trip; each still takes its own snapshot."""
    lock, look_up = _lock_sql(connection.vendor)
    names, _select, converters = _room_fields()
    with connection.cursor() as cursor:
        if client_id is None:
            cursor.execute(lock, [room_id])
            row = cursor.fetchone()
            existing = None
        elif _sends_statements_together(cursor):
            cursor.execute(f"{lock}; {look_up}", [room_id, room_id, author_id, client_id])
            row = cursor.fetchone()
            cursor.nextset()
            found = cursor.fetchone()
            existing = found[0] if found else None
        else:
            cursor.execute(lock, [room_id])
            row = cursor.fetchone()
            if row is not None:
                cursor.execute(look_up, [room_id, author_id, client_id])
                found = cursor.fetchone()
                existing = found[0] if found else None
    if row is None:
        raise Room.DoesNotExist(f"no room {room_id}")
    if converters:
        row = list(row)
        for index, converter, column in converters:
            row[index] = converter(row[index], column, connection)
    return Room.from_db(connection.alias, names, row), existing


@cache
def _insert_sql(vendor: str) -> tuple[str, str]:
    """The message's INSERT and its content operation's, with every column."""
    message_columns, message_values = _columns(
        Message,
        {
            "room_id": "%s",
            "author_id": "%s",
            "body": "%s",
            "created": "%s",
            "client_id": "%s",
            "deleted_at": "NULL",
            "deleted_by_id": "NULL",
            "deletion_reason": "''",
            "reply_to_id": "%s",
            "edited": "NULL",
            "mentions": "%s",
        },
    )
    operation_values = {
        "content_id": "%s",
        "room_id": "%s",
        "kind": "%s",
        "at": "%s",
        "actor_id": "%s",
        "staff_member_id": "%s",
        "connection_id": "%s",
        "ip_address": "%s",
        "port": "%s",
        "protocol": "%s",
    }
    message_table = _quote(Message._meta.db_table)
    operation_table = _quote(ContentOperation._meta.db_table)
    insert_message = f"INSERT INTO {message_table} ({message_columns}) VALUES ({message_values})"
    if vendor == "postgresql":
        # One statement, one round trip: the operation takes the new message's
        # id from the data-modifying CTE.
        operation_values["content_id"] = "m.id"
        columns, values = _columns(ContentOperation, operation_values)
        return (
            f"WITH m AS ({insert_message} RETURNING {_quote('id')}) "
            f"INSERT INTO {operation_table} ({columns}) SELECT {values} FROM m "
            f"RETURNING {_quote('content_id')}"
        ), ""
    # SQLite cannot run a data-modifying CTE: two statements, the id from the first.
    columns, values = _columns(ContentOperation, operation_values)
    return insert_message, f"INSERT INTO {operation_table} ({columns}) VALUES ({values})"


def _prepared(model: type[Model], name: str, value):
    """A value as the ORM would send it (datetimes on SQLite, addresses, JSON)."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def insert_message_and_operation(
    *,
    room_id: int,
    author_id: int,
    body: str,
    created,
    client_id: str | None,
    reply_to_id: int | None,
    mentions: list[str],
    carrier_fields: dict,
    staff_member_id: int | None,
) -> int:
    """Inserts the message and its creation's content operation (the same
    columns as `Message.objects.create` and `record_content_operation`);
    returns the message's id."""
    first, second = _insert_sql(connection.vendor)
    message_params = [
        room_id,
        author_id,
        body,
        _prepared(Message, "created", created),
        client_id,
        reply_to_id,
        _prepared(Message, "mentions", mentions),
    ]
    ip_address = carrier_fields.get("ip_address")
    operation_params = [
        room_id,
        str(ContentOperationKind.CREATE),
        _prepared(ContentOperation, "at", created),
        author_id,
        staff_member_id,
        carrier_fields.get("connection_id"),
        _prepared(ContentOperation, "ip_address", ip_address) if ip_address else None,
        carrier_fields.get("port"),
        carrier_fields.get("protocol", ""),
    ]
    with connection.cursor() as cursor:
        if not second:
            cursor.execute(first, message_params + operation_params)
            return cursor.fetchone()[0]
        cursor.execute(first, message_params)
        message_id = cursor.lastrowid
        cursor.execute(second, [message_id, *operation_params])
        return message_id
