"""No URL answers 500, whatever its path parameters and query string hold
(issue 15: `/dm/?username=a/b` answered 500). Every route of the URLconf,
with hostile values in each parameter and in the query, for an anonymous
visitor and for a verified member."""

import re
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route of the URLconf as a template ("rooms/<slug:slug>/"); regex
    routes (the admin's few) as their literal prefix."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        pattern = entry.pattern
        text = getattr(pattern, "_route", None)
        if text is None:  # a regular expression
            text = re.sub(r"[\^$]|\(\?P<[^>]+>[^)]*\)|\\Z", "", str(pattern.regex.pattern))
            text = text if re.fullmatch(r"[\w/.-]*", text) else ""
        if isinstance(entry, URLResolver):
            found += routes(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            found.append(prefix + text)
    return sorted(set(found))


HOSTILE = st.one_of(
    st.sampled_from(
        [
            "a/b",
            "..",
            "../../etc/passwd",
            "%00",
            "\x00",
            "'; DROP TABLE x;--",
            "<script>alert(1)</script>",
            "9" * 40,
            "-1",
            "0",
            "é",
            "🙂",
            " ",
            "%",
            "%zz",
            "a" * 500,
            "null",
            "[]",
            "{}",
            "\u202e",
        ]
    ),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.text(min_size=1, max_size=40),
)
QUERY_NAMES = st.sampled_from(
    [
        "q",
        "theme",
        "username",
        "after",
        "before",
        "limit",
        "room",
        "token",
        "nonce",
        "state",
        "next",
        "page",
        "start",
        "end",
        "format",
        "o",
        "p",
        "e",
        "kind",
        "status",
    ]
)


def fill(route: str, values: list[str]) -> str:
    values = iter(values)
    return "/" + PARAMETER.sub(lambda _match: quote(next(values), safe="/"), route)


@pytest.fixture(scope="module")
def every_route(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return routes()


@pytest.fixture
def member(make_user, make_room):
    """Made once for all the examples (function-scoped fixtures are not re-run)."""
    make_room(slug="general", name="Général")
    return make_user("member")


def test_the_route_list_covers_the_site(every_route):
    for route in ("rooms/<slug:slug>/", "dm/<str:username>/", "api/rooms/<slug:slug>/messages/"):
        assert route in every_route
    assert len(every_route) > 40


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_path_or_query_makes_a_server_error(data, every_route, member):
    route = data.draw(st.sampled_from(every_route), label="route")
    values = data.draw(
        st.lists(HOSTILE, min_size=route.count("<"), max_size=route.count("<")), label="values"
    )
    query = data.draw(st.dictionaries(QUERY_NAMES, HOSTILE, max_size=4), label="query")
    signed_in = data.draw(st.booleans(), label="signed_in")
    path = fill(route, values)
    client = Client()
    if signed_in:
        client.force_login(member)
    # The test client re-raises a view's exception: a crash fails here with its traceback.
    response = client.get(path, query, follow=False)
    assert response.status_code < 500, (path, urlencode(query), response.status_code)
    if response.streaming:  # a download is produced as it is read: read it all
        b"".join(response.streaming_content)
