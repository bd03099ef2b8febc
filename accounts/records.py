"""Connection records required of a French host (décret n° 2021-1362).

For account creation, login, logout and every WebSocket connection we keep the
IP address, the source port, the time and the account. Behind a reverse proxy
the peer is the proxy itself: the client's address is then read from the
headers that proxy sets, but only when the peer is one of TRUSTED_PROXIES, so
that nobody else can forge them.
"""

import ipaddress
import logging
from dataclasses import dataclass

from django.db import connection
from django.http import HttpRequest

from accounts.app_settings import app_settings
from accounts.models import ConnectionKind, ConnectionRecord

logger = logging.getLogger(__name__)

Address = tuple[str | None, int | None]


def _trusted_proxies() -> list:
    networks = []
    for entry in app_settings.TRUSTED_PROXIES:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            logger.warning("TRUSTED_PROXIES: %r is not an IP address or network", entry)
    return networks


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _valid_port(value) -> int | None:
    try:
        port = int(value)
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def _is_trusted(peer_ip: str | None) -> bool:
    if peer_ip is None:
        return False
    address = ipaddress.ip_address(peer_ip)
    return any(address in network for network in _trusted_proxies())


def _from_proxy_headers(get_header) -> Address:
    """The client as the trusted proxy reports it: the last X-Forwarded-For hop
    is the one our proxy appended, earlier hops are the client's own claims."""
    forwarded = get_header(app_settings.CLIENT_IP_HEADER)
    ip = _valid_ip(forwarded.split(",")[-1]) if forwarded else None
    port = _valid_port(get_header(app_settings.CLIENT_PORT_HEADER))
    return ip, port


def client_address(scope_or_request) -> Address:
    """(IP, source port) of the client of an HTTP request or an ASGI scope."""
    if isinstance(scope_or_request, HttpRequest):
        meta = scope_or_request.META
        peer: Address = (_valid_ip(meta.get("REMOTE_ADDR")), _valid_port(meta.get("REMOTE_PORT")))

        def get_header(name: str) -> str | None:
            return meta.get("HTTP_" + name.upper().replace("-", "_"))

    else:
        client = scope_or_request.get("client") or (None, None)
        peer = (_valid_ip(client[0]), _valid_port(client[1]))
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope_or_request.get("headers", [])
        }

        def get_header(name: str) -> str | None:
            return headers.get(name.lower())

    if _is_trusted(peer[0]):
        proxied = _from_proxy_headers(get_header)
        if proxied[0] is not None:
            return proxied
    return peer


def record_connection(user, kind: ConnectionKind, *, ip_address: str | None, port: int | None):
    """Stores one record. Called by the login/logout/sign-up hooks and by the
    rooms consumer on every accepted WebSocket connection."""
    record = ConnectionRecord(
        user=user, kind=kind, ip_address=_valid_ip(ip_address), port=_valid_port(port)
    )
    # One plain INSERT ... RETURNING (PostgreSQL and SQLite alike): every socket
    # open writes one, and the ORM's save cost several times the statement.
    # No model signal listens to these records.
    ops = connection.ops
    with connection.cursor() as cursor:
        table = ConnectionRecord._meta.db_table
        sql = (
            f"INSERT INTO {table} (user_id, kind, ip_address, port, created)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s) RETURNING id"
        )
        cursor.execute(
            sql,
            [
                user.pk,
                str(kind),
                ops.adapt_ipaddressfield_value(record.ip_address),
                record.port,
                ops.adapt_datetimefield_value(record.created),
            ],
        )
        record.pk = cursor.fetchone()[0]
    record._state.adding = False
    return record


@dataclass(frozen=True)
class Carrier:
    """The connection that carried a write: the ConnectionRecord of a socket
    (None for an HTTP request, which has none of its own), the client's
    address and source port, and the protocol (`ws`, `wss`, `http`, `https`).
    rooms copies it onto each content operation (rooms.models.ContentOperation)."""

    connection_id: int | None
    ip_address: str | None
    port: int | None
    protocol: str

    def as_fields(self) -> dict:
        return {
            "connection_id": self.connection_id,
            "ip_address": self.ip_address,
            "port": self.port,
            "protocol": self.protocol,
        }


def socket_carrier(record: ConnectionRecord, scope) -> Carrier:
    """The carrier of a socket's writes: its connection record (written on open)."""
    return Carrier(record.pk, record.ip_address, record.port, scope.get("scheme") or "ws")


def request_carrier(request: HttpRequest) -> Carrier:
    ip_address, port = client_address(request)
    return Carrier(None, ip_address, port, "https" if request.is_secure() else "http")
