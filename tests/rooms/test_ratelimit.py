import pytest
from django.core.exceptions import ImproperlyConfigured

from rooms.ratelimit import RateLimit, parse_rate_limit, take_token


def test_parse():
    assert parse_rate_limit("5/1") == RateLimit(5, 1.0)
    assert parse_rate_limit(" 10/0.5 ") == RateLimit(10, 0.5)
    assert parse_rate_limit("off") is None
    for bad in ("", "5", "a/b", "0/1", "5/0", "5/-1", "1/2/3"):
        with pytest.raises(ImproperlyConfigured):
            parse_rate_limit(bad)


def test_a_burst_then_one_per_interval(settings):
    settings.MESSAGE_RATE_LIMIT = "5/1"
    now = 1_000_000.0
    assert [take_token(1, now=now) for _ in range(5)] == [0.0] * 5
    wait = take_token(1, now=now)
    assert wait == pytest.approx(1.0)
    # A refusal takes nothing: after the wait, exactly one more.
    assert take_token(1, now=now + 1.0) == 0.0
    assert take_token(1, now=now + 1.0) > 0
    # Users have buckets of their own.
    assert take_token(2, now=now) == 0.0


def test_the_bucket_refills_but_never_above_the_burst(settings):
    settings.MESSAGE_RATE_LIMIT = "3/2"
    now = 5_000_000.0
    for _ in range(3):
        assert take_token(7, now=now) == 0.0
    assert take_token(7, now=now) == pytest.approx(0.5)
    later = now + 100
    assert [take_token(7, now=later) for _ in range(4)][:3] == [0.0] * 3
    assert take_token(7, now=later) > 0


def test_off_never_limits(settings):
    settings.MESSAGE_RATE_LIMIT = "off"
    assert all(take_token(3, now=1.0) == 0.0 for _ in range(1000))
