"""Structured logs: the JSON format, the request and socket ids, and no message
body, password or address in any log line."""

import io
import json
import logging
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from chatsite.asgi import application
from chatsite.logs import (
    REDACTED,
    ContextFilter,
    JsonFormatter,
    PlainFormatter,
    RedactFilter,
    request_id_var,
)
from tests.conftest import DEFAULT_PASSWORD

CAPTURED_LOGGERS = ("", "django", "django.db.backends", "django.request", "channels", "daphne")


class Capture:
    """The console handler as settings.LOGGING builds it, writing to a buffer,
    plus the raw records (what the handler received, before its filters)."""

    def __init__(self):
        self.buffer = io.StringIO()
        self.handler = logging.StreamHandler(self.buffer)
        self.handler.addFilter(ContextFilter())
        self.handler.addFilter(RedactFilter())
        self.handler.setFormatter(JsonFormatter())
        self.raw: list[str] = []
        capture = self

        class Raw(logging.Handler):
            def emit(self, record):
                capture.raw.append(f"{record.msg!r} {record.args!r} {vars(record)!r}")

        self.raw_handler = Raw()

    def __enter__(self):
        self.levels = {}
        for name in CAPTURED_LOGGERS:
            logger = logging.getLogger(name)
            self.levels[name] = logger.level
            logger.setLevel(logging.DEBUG)
        root = logging.getLogger()
        # Before every other handler, settings' console one included: it sees
        # records as logged, before a redacting filter changes them.
        root.handlers.insert(0, self.raw_handler)
        root.addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.removeHandler(self.raw_handler)
        for name, level in self.levels.items():
            logging.getLogger(name).setLevel(level)

    @property
    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.buffer.getvalue().splitlines() if line]


def make_record(name="chatsite.test", msg="hello %s", args=("world",), **extra):
    record = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def render(record) -> str:
    for log_filter in (ContextFilter(), RedactFilter()):
        log_filter.filter(record)
    return JsonFormatter().format(record)


# --- the format ------------------------------------------------------------------------------


def test_the_console_handler_is_the_one_tested_here():
    console = settings.LOGGING["handlers"]["console"]
    assert console["filters"] == ["context", "redact"]
    assert settings.LOGGING["filters"]["redact"]["()"] == "chatsite.logs.RedactFilter"
    assert settings.LOGGING["formatters"]["json"]["()"] == "chatsite.logs.JsonFormatter"
    # The test environment runs with DEBUG off: JSON unless LOG_FORMAT says otherwise.
    assert console["formatter"] == settings.LOG_FORMAT


def test_one_json_object_per_line_with_the_context():
    token = request_id_var.set("req-1234abcd")
    try:
        line = render(make_record(duration_ms=3.5))
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "INFO"
    assert data["logger"] == "chatsite.test"
    assert data["message"] == "hello world"
    assert data["request_id"] == "req-1234abcd"
    assert data["duration_ms"] == 3.5
    assert data["time"].endswith("+00:00")


def test_sensitive_fields_and_objects_never_reach_the_line():
    line = render(
        make_record(
            msg="%(user)s changed %(password)s",
            args=None,
            body="le corps du message",
            password="hunter2hunter2",
            request=object(),
            nested={"ok": 1, "token": "abc.def.ghi"},
        )
    )
    # A mapping argument is redacted before the message is built.
    record = make_record(msg="%(user)s set %(password)s", args=())
    record.args = {"user": 7, "password": "hunter2hunter2"}
    line += render(record)
    for secret in ("le corps du message", "hunter2hunter2", "abc.def.ghi"):
        assert secret not in line
    assert REDACTED in line


def test_sql_values_are_redacted():
    sql = "INSERT INTO \"rooms_message\" (\"body\") VALUES ('un secret d''Alice') RETURNING id"
    record = make_record(
        name="django.db.backends",
        msg="(%.3f) %s; args=%s; alias=%s",
        args=(0.002, sql, ("un secret d'Alice",), "default"),
        sql=sql,
        params=("un secret d'Alice",),
        duration=0.002,
        alias="default",
    )
    data = json.loads(render(record))
    assert "secret" not in json.dumps(data)
    assert data["message"].startswith('(0.002) INSERT INTO "rooms_message" ("body") VALUES (\'?\')')


def test_the_plain_format_shows_the_context_too():
    record = make_record(user_id=42)
    ContextFilter().filter(record)
    assert PlainFormatter().format(record).endswith("hello world [user_id=42]")


# --- request ids ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_well_formed_request_id_is_kept_and_echoed():
    with Capture() as capture:
        response = Client().get("/healthz", HTTP_X_REQUEST_ID="edge-7f9c2a31b4")
    assert response["X-Request-ID"] == "edge-7f9c2a31b4"
    [access] = [line for line in capture.lines if line["logger"] == "chatsite.request"]
    assert access["request_id"] == "edge-7f9c2a31b4"
    assert access["path"] == "/healthz"
    assert access["status"] == response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", ["", "short", "has spaces in it", "x" * 200, "<script>1234</script>"]
)
def test_a_malformed_request_id_is_replaced(header):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=header)
    assert response["X-Request-ID"] != header
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_a_signed_in_request_logs_the_user_pk_and_not_the_query_string(make_user):
    user = make_user("camille", email="camille@example.org")
    client = Client()
    client.force_login(user)
    with Capture() as capture:
        client.get("/api/rooms/?token=not-for-the-logs")
    [access] = [line for line in capture.lines if line["logger"] == "chatsite.request"]
    assert access["user_id"] == user.pk
    output = capture.buffer.getvalue()
    assert "not-for-the-logs" not in output
    assert "camille" not in output


# --- no message body, anywhere ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_no_message_body_or_password_in_any_log_record(make_user, settings):
    """A message goes in over the socket, out through the API and into a report;
    a member signs in with a password. With DEBUG on, Django logs every SQL
    query with its values: the raw records do carry the body, the lines don't."""
    from rooms import actions
    from rooms.models import RoomKind

    settings.DEBUG = True  # SQL logging on: the hardest case
    settings.MESSAGE_RATE_LIMIT = "off"
    body = f"Rendez-vous secret {uuid.uuid4().hex}"
    details = f"Détail confidentiel {uuid.uuid4().hex}"
    room = await database_sync_to_async(actions.do_create_room)(
        actor=None, kind=RoomKind.PUBLIC, slug="journal", name="Journal"
    )
    alice = await database_sync_to_async(make_user)("alice_logs", email="alice.logs@example.org")
    client = Client()
    await database_sync_to_async(client.force_login)(alice)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    with Capture() as capture:
        socket = WebsocketCommunicator(
            application,
            f"/ws/rooms/{room.slug}/",
            headers=[
                (b"origin", b"http://127.0.0.1:8000"),
                (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
            ],
        )
        assert (await socket.connect(timeout=3))[0]
        await socket.send_json_to({"type": "message.send", "body": body, "client_id": "c-1"})
        while (frame := await socket.receive_json_from(timeout=3))["type"] != "message.new":
            pass
        assert frame["body"] == body
        await socket.disconnect()

        page = await database_sync_to_async(client.get)(f"/api/rooms/{room.slug}/messages/")
        assert body in page.content.decode()
        reporter = Client()
        await database_sync_to_async(reporter.force_login)(
            await database_sync_to_async(make_user)("bob_logs")
        )
        report = await database_sync_to_async(reporter.post)(
            "/api/reports/",
            {"message": frame["id"], "category": "spam", "details": details},
            content_type="application/json",
        )
        assert report.status_code == 201, report.content
        login = await database_sync_to_async(Client().post)(
            "/accounts/login/", {"login": "alice_logs", "password": DEFAULT_PASSWORD}
        )
        assert login.status_code in (200, 302)

    raw = "\n".join(capture.raw)
    assert body in raw, "the capture must see the SQL that stored the body"
    output = capture.buffer.getvalue()
    for secret in (body, details, DEFAULT_PASSWORD, "alice.logs@example.org"):
        assert secret not in output
    lines = capture.lines
    socket_lines = [line for line in lines if line.get("socket_id")]
    assert socket_lines
    assert {line.get("user_id") for line in socket_lines} == {alice.pk}
    assert any(
        line["logger"] == "chatsite.request" and line.get("user_id") == alice.pk for line in lines
    )


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_request_id_and_user_pk_reach_the_access_log(make_user):
    from django.test import AsyncClient

    user = await database_sync_to_async(make_user)()
    client = AsyncClient()
    await database_sync_to_async(client.force_login)(user)
    with Capture() as capture:
        response = await client.get("/api/rooms/", headers={"X-Request-ID": "lb-0123456789abcdef"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-0123456789abcdef"
    [access] = [line for line in capture.lines if line["logger"] == "chatsite.request"]
    assert access["request_id"] == "lb-0123456789abcdef"
    assert access["user_id"] == user.pk
    # The ASGI handler's sync thread keeps its connection: close it, or the test
    # database cannot be dropped at the end of the run.
    await sync_to_async(connections.close_all)()
