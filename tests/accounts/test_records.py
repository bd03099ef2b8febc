"""Connection records: IP and source port, from the peer or a trusted proxy only."""

import pytest
from django.test import RequestFactory

from accounts.models import ConnectionKind, ConnectionRecord
from accounts.records import client_address, record_connection


def request_from(peer, port, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=peer, REMOTE_PORT=str(port), **headers)


def scope_from(peer, port, headers=()):
    return {"type": "websocket", "client": [peer, port], "headers": list(headers)}


def test_request_peer():
    assert client_address(request_from("203.0.113.5", 50123)) == ("203.0.113.5", 50123)


def test_scope_peer():
    assert client_address(scope_from("2001:db8::1", 443)) == ("2001:db8::1", 443)
    assert client_address({"type": "websocket"}) == (None, None)


def test_proxy_headers_are_ignored_from_an_untrusted_peer(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    request = request_from(
        "198.51.100.4", 1234, HTTP_X_FORWARDED_FOR="1.2.3.4", HTTP_X_FORWARDED_CLIENT_PORT="5"
    )
    assert client_address(request) == ("198.51.100.4", 1234)


def test_trusted_proxy_headers_give_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = request_from(
        "10.1.2.3",
        8000,
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.77",  # the first hop is the client's claim
        HTTP_X_FORWARDED_CLIENT_PORT="61000",
    )
    assert client_address(request) == ("203.0.113.77", 61000)
    scope = scope_from(
        "10.9.9.9",
        9000,
        [(b"x-forwarded-for", b"203.0.113.78"), (b"x-forwarded-client-port", b"61001")],
    )
    assert client_address(scope) == ("203.0.113.78", 61001)


def test_garbage_headers_fall_back_to_the_peer(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1", "not-an-ip"]
    request = request_from("10.0.0.1", 8000, HTTP_X_FORWARDED_FOR="<script>")
    assert client_address(request) == ("10.0.0.1", 8000)
    bad_port = request_from(
        "10.0.0.1", 8000, HTTP_X_FORWARDED_FOR="203.0.113.1", HTTP_X_FORWARDED_CLIENT_PORT="99999"
    )
    assert client_address(bad_port) == ("203.0.113.1", None)


@pytest.mark.django_db
def test_record_connection_for_a_websocket(make_user):
    user = make_user()
    ip, port = client_address(scope_from("192.0.2.10", 40404))
    record = record_connection(user, ConnectionKind.WEBSOCKET, ip_address=ip, port=port)
    stored = ConnectionRecord.objects.get(pk=record.pk)
    assert (stored.kind, stored.ip_address, stored.port) == ("websocket", "192.0.2.10", 40404)
    assert stored.created is not None
