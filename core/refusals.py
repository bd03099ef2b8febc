"""One vocabulary of refusals (docs/architecture.md): one exception, one code enum,
one map from code to HTTP status.

Every action refuses by raising `Refused(RefusalCode.X, detail)`: the JSON API
answers it with `HTTP_STATUS[code]`, the WebSocket consumer with an error frame,
the admin and the pages with a message. A new kind of refusal is a new member
here, not a new exception class.
"""

from collections.abc import Callable
from enum import StrEnum
from http import HTTPStatus


class RefusalCode(StrEnum):
    # WebSocket error frames carry these too (docs/protocol.md).
    INVALID = "invalid"
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"
    MUTED = "muted"
    FILTERED = "filtered"
    BLOCKED = "blocked"
    FORBIDDEN = "forbidden"
    UNAVAILABLE = "unavailable"
    # Who is asking.
    NOT_AUTHENTICATED = "not_authenticated"
    OTP_REQUIRED = "otp_required"
    CSRF = "csrf"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # What is asked.
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # already done, or no longer possible
    SUSPENDED = "suspended"  # reporting suspended (DSA Art. 23)
    INVALID_STATUS = "invalid_status"  # not in the workflow's current state
    DUPLICATE = "duplicate"
    SAME_OFFICER = "same_officer"  # four-eyes rule: a second person must act
    APPROVAL_REQUIRED = "approval_required"
    AMBIGUOUS = "ambiguous"  # several matches where one was meant: a person must choose


HTTP_STATUS: dict[RefusalCode, int] = {
    RefusalCode.INVALID: HTTPStatus.BAD_REQUEST,
    RefusalCode.TOO_LONG: HTTPStatus.BAD_REQUEST,
    RefusalCode.FILTERED: HTTPStatus.BAD_REQUEST,
    RefusalCode.RATE_LIMITED: HTTPStatus.TOO_MANY_REQUESTS,
    RefusalCode.MUTED: HTTPStatus.FORBIDDEN,
    RefusalCode.BLOCKED: HTTPStatus.FORBIDDEN,
    RefusalCode.FORBIDDEN: HTTPStatus.FORBIDDEN,
    RefusalCode.UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
    RefusalCode.NOT_AUTHENTICATED: HTTPStatus.UNAUTHORIZED,
    RefusalCode.OTP_REQUIRED: HTTPStatus.FORBIDDEN,
    RefusalCode.CSRF: HTTPStatus.FORBIDDEN,
    RefusalCode.METHOD_NOT_ALLOWED: HTTPStatus.METHOD_NOT_ALLOWED,
    RefusalCode.NOT_FOUND: HTTPStatus.NOT_FOUND,
    RefusalCode.CONFLICT: HTTPStatus.CONFLICT,
    RefusalCode.SUSPENDED: HTTPStatus.FORBIDDEN,
    RefusalCode.INVALID_STATUS: HTTPStatus.CONFLICT,
    RefusalCode.DUPLICATE: HTTPStatus.CONFLICT,
    RefusalCode.SAME_OFFICER: HTTPStatus.FORBIDDEN,
    RefusalCode.APPROVAL_REQUIRED: HTTPStatus.CONFLICT,
    RefusalCode.AMBIGUOUS: HTTPStatus.CONFLICT,
}


def http_status(code: str) -> int:
    """The HTTP status that answers a refusal with this code (400 for an unknown one)."""
    try:
        return int(HTTP_STATUS[RefusalCode(code)])
    except ValueError:
        return int(HTTPStatus.BAD_REQUEST)


class Refused(Exception):
    """A refusal to show the caller: `code` for programs, `detail` for people.

    `after_refusal`: run once the refused action's transaction has rolled back
    (rooms/actions/common.py `runs_after_refusal`): what must outlive the refusal, such
    as a message held for review, is written there.
    """

    def __init__(self, code: RefusalCode | str, detail: str, after_refusal: Callable | None = None):
        super().__init__(detail)
        self.code = RefusalCode(code)
        self.detail = detail
        self.after_refusal = after_refusal

    @classmethod
    def from_verdict(cls, verdict) -> "Refused":
        """From a refusing `rooms.policy.Verdict` (anything with code, detail, after_refusal)."""
        return cls(verdict.code, verdict.detail, verdict.after_refusal)

    @property
    def http_status(self) -> int:
        return http_status(self.code)

    def __repr__(self) -> str:
        return f"Refused({self.code.value!r}, {self.detail!r})"
