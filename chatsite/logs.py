"""Structured logs: one JSON object per line (docs/operations.md, "Logs").

Every record carries what ties it to one HTTP request (`request_id`, echoed in
the X-Request-ID response header) or one WebSocket (`socket_id`), and the
account's primary key (`user_id`, a pseudonymous id), never a username or an
address. Message bodies and passwords never reach the output: RedactFilter
drops known sensitive fields and the values of logged SQL.
"""

import contextvars
import datetime
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.signals import request_finished

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "log_request_id", default=None
)
socket_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "log_socket_id", default=None
)
user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "log_user_id", default=None
)

CONTEXT_FIELDS = ("request_id", "socket_id", "user_id")
REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id (nginx's $request_id is 32 hex digits) or a UUID; anything else
# is replaced, so that a client cannot write arbitrary text into the logs.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")

REDACTED = "[redacted]"
# Fields that may carry a message, a secret or someone's contact details.
SENSITIVE_KEYS = frozenset(
    {
        "body",
        "text",
        "message_body",
        "details",
        "password",
        "password1",
        "password2",
        "old_password",
        "new_password1",
        "new_password2",
        "otp_token",
        "token",
        "secret",
        "secret_key",
        "key",
        "authorization",
        "cookie",
        "cookies",
        "sessionid",
        "csrftoken",
        "csrfmiddlewaretoken",
        "email",
        "params",
        # Django's request logs pass the request itself: its repr shows the query string.
        "request",
        "scope",
    }
)
# A quoted SQL literal, '' escapes included: the values of a logged query.
_SQL_LITERAL = re.compile(r"'(?:[^']|'')*'")

# Attributes every LogRecord has: the rest came through `extra`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _is_sensitive(key) -> bool:
    return isinstance(key, str) and key.lower() in SENSITIVE_KEYS


def _redact_mapping(mapping: Mapping) -> dict:
    return {key: REDACTED if _is_sensitive(key) else value for key, value in mapping.items()}


class ContextFilter(logging.Filter):
    """Adds the request or socket id and the user's pk of the current context."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (
            ("request_id", request_id_var),
            ("socket_id", socket_id_var),
            ("user_id", user_id_var),
        ):
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


class RedactFilter(logging.Filter):
    """Blanks sensitive `extra` fields and mapping arguments, and the values of SQL logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if key not in _RECORD_ATTRIBUTES and _is_sensitive(key):
                setattr(record, key, REDACTED)
        if isinstance(record.args, Mapping):
            record.args = _redact_mapping(record.args)
        if record.name.startswith("django.db.backends"):
            self._redact_sql(record)
        return True

    @staticmethod
    def _redact_sql(record: logging.LogRecord) -> None:
        # Under DEBUG Django logs each query with its values interpolated:
        # message bodies, addresses, password hashes. Keep its shape only.
        sql = getattr(record, "sql", None)
        if not isinstance(sql, str) and isinstance(record.args, tuple) and len(record.args) > 1:
            sql = record.args[1]
        shape = _SQL_LITERAL.sub("'?'", sql) if isinstance(sql, str) else "?"
        duration = getattr(record, "duration", None)
        record.sql = shape
        record.params = REDACTED
        record.msg = "(%s) %s; values redacted"
        record.args = ("?" if duration is None else f"{duration:.3f}", shape)


def _json_safe(value, depth: int = 0):
    """Plain JSON values only: an object's repr may hold anything (a query string, a body)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth < 4 and isinstance(value, list | tuple):
        return [_json_safe(item, depth + 1) for item in value]
    if depth < 4 and isinstance(value, Mapping):
        return {
            str(key): REDACTED if _is_sensitive(key) else _json_safe(item, depth + 1)
            for key, item in value.items()
        }
    return f"<{type(value).__name__}>"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _RECORD_ATTRIBUTES or value is None:
                continue
            data[key] = REDACTED if _is_sensitive(key) else _json_safe(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """For a developer's terminal: the usual line, then the context that is set."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        if not context:
            return line
        head, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{head} [{context}]{newline}{rest}"


# --- HTTP: request id and user id ---------------------------------------------------------

request_logger = logging.getLogger("chatsite.request")


def incoming_request_id(value: str | None) -> str:
    if value and WELL_FORMED_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE: takes a well-formed X-Request-ID or makes one, puts it in
    the log context and the response, and logs the request (never its query string)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        started = self._start(request)
        return self._finish(request, self.get_response(request), started)

    async def _acall(self, request):
        started = self._start(request)
        return self._finish(request, await self.get_response(request), started)

    def _start(self, request) -> float:
        request.request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        # Not reset on the way out: Django logs 4xx/5xx responses after the
        # middleware returns. Under ASGI each request runs in a context of its own.
        request_id_var.set(request.request_id)
        user_id_var.set(None)
        return time.monotonic()

    def _finish(self, request, response, started: float):
        response[REQUEST_ID_HEADER] = request.request_id
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response


def _forget_request(**kwargs) -> None:
    """Once the response is sent (Django's own 4xx/5xx log included), a thread that
    serves requests one after another must not lend this id to later records."""
    request_id_var.set(None)
    user_id_var.set(None)


request_finished.connect(_forget_request, dispatch_uid="chatsite.logs.forget_request")


def _session_user_id(user) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


class LogUserMiddleware:
    """After the authentication middleware: the signed-in account's pk joins the log context."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _has_session(request) -> bool:
        # Without a session cookie the visitor is anonymous: no query needed.
        return settings.SESSION_COOKIE_NAME in request.COOKIES

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        if self._has_session(request):
            user_id_var.set(_session_user_id(request.user))
        return self.get_response(request)

    async def _acall(self, request):
        if self._has_session(request):
            user_id_var.set(_session_user_id(await request.auser()))
        return await self.get_response(request)


# --- WebSocket: socket id and user id ---------------------------------------------------

socket_logger = logging.getLogger("chatsite.socket")


class SocketLogContextMiddleware:
    """ASGI middleware inside AuthMiddlewareStack: each WebSocket gets a socket id
    and its user's pk in the log context of everything its consumer does."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "websocket":
            return await self.inner(scope, receive, send)
        user = scope.get("user")
        tokens = (
            socket_id_var.set(uuid.uuid4().hex[:16]),
            user_id_var.set(_session_user_id(user)),
        )
        started = time.monotonic()
        socket_logger.info("websocket %s opened", scope.get("path"))
        try:
            return await self.inner(scope, receive, send)
        finally:
            socket_logger.info(
                "websocket %s ended",
                scope.get("path"),
                extra={"duration_ms": round((time.monotonic() - started) * 1000, 1)},
            )
            user_id_var.reset(tokens[1])
            socket_id_var.reset(tokens[0])
