"""The reverse look-up by address, port and time: compliance staff only, a stated
reason first, one audit entry per look (the address kept out of the hash)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actions import do_request_account_deletion
from audit.events import AuditEvent
from compliance.actions import do_look_up_address
from core.refusals import RefusalCode, Refused
from rooms.models import ContentOperation
from tests.compliance.conftest import audit_entries, verified_client

pytestmark = pytest.mark.django_db

REASON = "Réquisition PV-2026-0042, adresse et port communiqués"
CGNAT = "100.64.7.9"  # one address, many subscribers: the port tells them apart


@pytest.fixture
def shared_address(make_user, make_connection, make_room):
    """Two members behind the same carrier-grade NAT, a minute apart, other ports."""
    now = timezone.now()
    joined = now - timedelta(days=3)
    first = make_user("premier", date_joined=joined)
    second = make_user("second", date_joined=joined)
    make_connection(first, ip=CGNAT, port=40001, created=now - timedelta(minutes=1))
    make_connection(second, ip=CGNAT, port=40002, created=now - timedelta(minutes=1))
    ContentOperation.objects.create(
        content_id=77,
        room_id=make_room().pk,
        kind="create",
        at=now,
        actor=second,
        ip_address=CGNAT,
        port=40002,
        protocol="wss",
    )
    return first, second, now


def test_the_port_tells_subscribers_apart_and_the_look_is_audited(shared_address, officer):
    first, second, now = shared_address
    rows = do_look_up_address(
        ip_address=CGNAT, port=40002, when=now, reason=REASON, actor=officer, actor_ip="10.0.0.1"
    )
    assert {row["account_id"] for row in rows} == {second.pk}
    assert {row["source"] for row in rows} == {"connection", "content_operation"}
    assert all(row["pseudonym_then"] == "second" for row in rows)

    (entry,) = audit_entries(AuditEvent.VIEW_ADDRESS_LOOKUP)
    assert (entry.actor_id, entry.reason) == (officer.pk, REASON)
    assert entry.details["accounts"] == [second.pk]
    # The address looked up is personal data: beside the hash, erasable, not in it.
    assert CGNAT not in str(entry.details)
    assert entry.personal_details == {"ip_address": CGNAT, "port": 40002}

    both = do_look_up_address(ip_address=CGNAT, port=None, when=now, reason=REASON, actor=officer)
    assert {row["account_id"] for row in both} == {first.pk, second.pk}
    assert len(audit_entries(AuditEvent.VIEW_ADDRESS_LOOKUP)) == 2  # one per look


def test_outside_the_window_nothing_is_found_and_the_look_is_still_audited(shared_address, officer):
    _first, _second, now = shared_address
    rows = do_look_up_address(
        ip_address=CGNAT,
        port=40002,
        when=now + timedelta(hours=2),
        window=timedelta(minutes=5),
        reason=REASON,
        actor=officer,
    )
    assert rows == []
    (entry,) = audit_entries(AuditEvent.VIEW_ADDRESS_LOOKUP)
    assert entry.details["rows"] == 0


def test_a_closed_account_is_found_in_the_restricted_store(shared_address, officer):
    first, _second, now = shared_address
    do_request_account_deletion(first, actor=first)
    (row,) = do_look_up_address(
        ip_address=CGNAT, port=40001, when=now, reason=REASON, actor=officer
    )
    assert (row["account_id"], row["source"]) == (first.pk, "restricted_connection")
    assert row["pseudonym_then"] == "premier"  # the name it held then, not "supprime-..."


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"reason": "court"}, RefusalCode.INVALID),
        ({"reason": ""}, RefusalCode.INVALID),
        ({"ip_address": "pas une adresse"}, RefusalCode.INVALID),
        ({"port": 70000}, RefusalCode.INVALID),
        ({"window": timedelta(days=2)}, RefusalCode.INVALID),
    ],
)
def test_refusals_record_nothing(shared_address, officer, changes, code):
    _first, _second, now = shared_address
    arguments = {"ip_address": CGNAT, "port": 40002, "when": now, "reason": REASON}
    with pytest.raises(Refused) as refused:
        do_look_up_address(**{**arguments, **changes}, actor=officer)
    assert refused.value.code == code
    assert audit_entries(AuditEvent.VIEW_ADDRESS_LOOKUP) == []


def test_a_moderator_may_not_look_and_the_attempt_is_recorded(shared_address, moderator):
    _first, _second, now = shared_address
    with pytest.raises(Refused) as refused:
        do_look_up_address(ip_address=CGNAT, port=40002, when=now, reason=REASON, actor=moderator)
    assert refused.value.code == RefusalCode.FORBIDDEN
    assert audit_entries(AuditEvent.VIEW_ADDRESS_LOOKUP) == []
    (attempt,) = audit_entries(AuditEvent.STAFF_ATTEMPT_REFUSED)
    assert attempt.actor_id == moderator.pk


def test_the_admin_page_asks_the_reason_and_shows_the_accounts(shared_address, officer, moderator):
    _first, second, now = shared_address
    url = "/admin/compliance/legalrequest/lookup/"
    assert verified_client(moderator).get(url).status_code == 403
    client = verified_client(officer)
    # The back office's own reason first (audit/looks.py), as on every compliance page.
    assert client.get(url).status_code == 403
    client.post(url, {"access_reason": "Réquisition PV-2026-0042 du parquet"})
    form = client.get(url)
    assert form.status_code == 200 and audit_entries(AuditEvent.VIEW_ADDRESS_LOOKUP) == []
    data = {
        "ip_address": CGNAT,
        "port": "40002",
        "when": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M"),
        "window_minutes": "5",
    }
    without_reason = client.post(url, data)
    assert f"#{second.pk}" not in without_reason.content.decode()
    assert audit_entries(AuditEvent.VIEW_ADDRESS_LOOKUP) == []

    response = client.post(url, {**data, "reason": REASON})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("no-store")
    assert f"#{second.pk}" in response.content.decode()
    assert len(audit_entries(AuditEvent.VIEW_ADDRESS_LOOKUP)) == 1
