"""core/refusals.py: one exception, one code enum, one map to HTTP statuses."""

import pytest

from core.refusals import HTTP_STATUS, RefusalCode, Refused, http_status
from rooms.protocol import ERROR_FRAME_CODES


def test_every_code_has_an_http_status():
    assert set(HTTP_STATUS) == set(RefusalCode)
    assert all(400 <= status < 600 for status in HTTP_STATUS.values())


@pytest.mark.parametrize(
    ("code", "status"),
    [
        # The statuses the three apps answered before they shared one map.
        ("invalid", 400),
        ("not_authenticated", 401),
        ("forbidden", 403),
        ("blocked", 403),
        ("suspended", 403),
        ("otp_required", 403),
        ("not_found", 404),
        ("conflict", 409),
        ("rate_limited", 429),
    ],
)
def test_statuses(code, status):
    assert http_status(code) == status
    assert Refused(code, "detail").http_status == status


def test_an_unknown_code_is_refused_at_once():
    # A typo in a code is a bug to catch where it is raised, not a silent 400.
    with pytest.raises(ValueError):
        Refused("no_such_code", "detail")
    assert http_status("no_such_code") == 400


def test_refused_carries_code_detail_and_follow_up():
    follow_up = []
    refusal = Refused(RefusalCode.FILTERED, "held", lambda: follow_up.append(1))
    assert refusal.code is RefusalCode.FILTERED and refusal.code == "filtered"
    assert str(refusal) == refusal.detail == "held"
    refusal.after_refusal()
    assert follow_up == [1]


def test_error_frame_codes_are_refusal_codes():
    assert set(ERROR_FRAME_CODES) <= set(RefusalCode)
    assert {"invalid", "too_long", "rate_limited", "muted", "filtered", "blocked"} <= set(
        ERROR_FRAME_CODES
    )
