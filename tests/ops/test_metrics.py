"""GET /metrics: who may read it, and that each metric is there and moves."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from chatsite.asgi import application
from chatsite.metrics_collectors import _LiveMultiProcess
from core import metrics
from core.refusals import Refused
from tests.ops.conftest import signed_in

PROCESS_METRICS = {
    "chatsite_websocket_open_sockets",
    "chatsite_filter_hits",
    "chatsite_messages_stored",
    "chatsite_messages_delivered",
    "chatsite_message_delivery_seconds",
    "chatsite_channel_layer_errors",
    "chatsite_message_refusals",
}
DATABASE_METRICS = {
    "chatsite_reports_open",
    "chatsite_reports_overdue",
    "chatsite_reports_oldest_open_age_seconds",
    "chatsite_held_messages_pending",
    "chatsite_held_messages_oldest_age_seconds",
    "chatsite_appeals_open",
    "chatsite_threat_escalations_pending",
    "chatsite_sanctions_active",
    "chatsite_sanctions",
    "chatsite_legal_requests_open",
    "chatsite_legal_requests_deadline_near",
    "chatsite_legal_requests_overdue",
    "chatsite_audit_chain_head_seq",
    "chatsite_collector_up",
}


def scrape(client: Client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        family.name: family for family in text_string_to_metric_families(response.content.decode())
    }


def value(families: dict, name: str, **labels) -> float:
    family = families.get(name) or families[name.removesuffix("_total")]
    matches = [
        sample.value
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matches) == 1, (name, labels, family.samples)
    return matches[0]


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- access ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_gets_json_401():
    response = Client().get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


@pytest.mark.django_db
def test_a_member_gets_403(make_user):
    response = signed_in(make_user()).get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


@pytest.mark.django_db
def test_staff_without_a_verified_second_factor_gets_403(make_staff):
    response = signed_in(make_staff()).get("/metrics")
    assert response.status_code == 403


@pytest.mark.django_db
def test_writes_are_refused(make_staff):
    response = signed_in(make_staff(), otp_verified=True).post("/metrics")
    assert response.status_code == 405


# --- content --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_verified_staff_read_every_metric(make_staff):
    families = scrape(signed_in(make_staff(), otp_verified=True))
    missing = (PROCESS_METRICS | DATABASE_METRICS) - set(families)
    assert not missing
    for source in ("moderation", "compliance", "audit"):
        assert value(families, "chatsite_collector_up", source=source) == 1
    # Known labels are there at zero before anything happened.
    assert ("chatsite_message_refusals_total", "rate_limited") in {
        (sample.name, sample.labels.get("code"))
        for sample in families["chatsite_message_refusals"].samples
    }


@pytest.mark.django_db
def test_backlog_sanctions_deadlines_and_audit_head_come_from_the_database(make_staff, make_user):
    from audit.actions import do_record_checkpoint
    from compliance.models import LegalBasis, LegalRequest
    from moderation.models import Report, ReportStatus, Sanction, Severity

    now = timezone.now()
    Report.objects.create(
        category="threat",
        source="automatic",
        severity=Severity.URGENT,
        created=now - timedelta(hours=3),
        deadline=now - timedelta(hours=2),
    )
    Report.objects.create(
        category="threat",
        source="automatic",
        severity=Severity.URGENT,
        created=now,
        deadline=now + timedelta(hours=1),
    )
    Report.objects.create(
        category="spam",
        source="automatic",
        severity=Severity.LOW,
        status=ReportStatus.DISMISSED,
        deadline=now,
    )
    member = make_user()
    Sanction.objects.create(kind="ban", user=member, reason="r", ground="terms_spam")
    Sanction.objects.create(
        kind="mute",
        user=member,
        reason="r",
        ground="terms_spam",
        ends_at=now - timedelta(minutes=1),
    )
    officer = make_staff("compliance")
    LegalRequest.objects.create(
        reference="PV-1",
        authority="TJ Paris",
        legal_basis=LegalBasis.CPP_60_1,
        received_at=now,
        deadline=now + timedelta(days=1),
        period_start=now - timedelta(days=9),
        period_end=now,
        assigned_officer=officer,
    )
    LegalRequest.objects.create(
        reference="PV-2",
        authority="TJ Lyon",
        legal_basis=LegalBasis.CPP_60_1,
        received_at=now,
        deadline=now + timedelta(days=30),
        period_start=now - timedelta(days=9),
        period_end=now,
        assigned_officer=officer,
    )
    reader = signed_in(make_staff(), otp_verified=True)
    checkpoint = do_record_checkpoint(actor=None, key_id="test")

    families = scrape(reader)
    assert value(families, "chatsite_reports_open", severity="urgent") == 2
    assert value(families, "chatsite_reports_open", severity="low") == 0
    assert value(families, "chatsite_reports_overdue", severity="urgent") == 1
    assert (
        value(families, "chatsite_reports_oldest_open_age_seconds", severity="urgent") >= 3 * 3600
    )
    assert value(families, "chatsite_sanctions_active", kind="ban") == 1
    assert value(families, "chatsite_sanctions_active", kind="mute") == 0
    assert value(families, "chatsite_sanctions_total", kind="mute") == 1
    assert value(families, "chatsite_legal_requests_open") == 2
    assert value(families, "chatsite_legal_requests_deadline_near") == 1
    assert value(families, "chatsite_legal_requests_overdue") == 0
    assert 0 < value(families, "chatsite_legal_request_next_deadline_seconds") <= 86400
    assert value(families, "chatsite_audit_chain_head_seq") == checkpoint.seq
    assert value(families, "chatsite_audit_last_checkpoint_timestamp_seconds") == pytest.approx(
        checkpoint.created.timestamp()
    )


@pytest.mark.django_db
def test_a_failing_source_is_reported_and_the_others_still_answer(make_staff, monkeypatch):
    from chatsite import metrics_collectors

    def broken(now):
        raise RuntimeError("database is down")
        yield

    monkeypatch.setattr(
        metrics_collectors.DatabaseCollector,
        "sources",
        (("moderation", broken), *metrics_collectors.DatabaseCollector.sources[1:]),
    )
    families = scrape(signed_in(make_staff(), otp_verified=True))
    assert value(families, "chatsite_collector_up", source="moderation") == 0
    assert value(families, "chatsite_collector_up", source="audit") == 1
    assert "chatsite_reports_open" not in families


# --- instrumentation -------------------------------------------------------------------------


@pytest.mark.django_db
def test_stored_and_refused_messages_are_counted(
    make_user, settings, django_capture_on_commit_callbacks
):
    from rooms import actions
    from rooms.models import RoomKind

    settings.MESSAGE_RATE_LIMIT = "1/1"
    room = actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="ops", name="Ops")
    author = make_user()
    stored = sample("chatsite_messages_stored_total", room_kind="public")
    limited = sample("chatsite_message_refusals_total", code="rate_limited")
    too_long = sample("chatsite_message_refusals_total", code="too_long")
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_post_message(room, "premier", actor=author)
    with pytest.raises(Refused):
        actions.do_post_message(room, "second, trop vite", actor=author)
    with pytest.raises(Refused):
        actions.do_post_message(room, "x" * 2001, actor=author)
    assert sample("chatsite_messages_stored_total", room_kind="public") == stored + 1
    assert sample("chatsite_message_refusals_total", code="rate_limited") == limited + 1
    assert sample("chatsite_message_refusals_total", code="too_long") == too_long + 1


@pytest.mark.django_db
def test_filter_hits_are_counted(make_user, settings):
    from moderation.models import FilterAction, FilterKind, FilterRule
    from rooms import actions
    from rooms.models import RoomKind

    settings.MESSAGE_RATE_LIMIT = "off"
    room = actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="filtre", name="F")
    FilterRule.objects.create(
        name="mots", kind=FilterKind.WORDS, pattern="arnaque", action=FilterAction.BLOCK
    )
    hits = sample("chatsite_filter_hits_total", action="block")
    filtered = sample("chatsite_message_refusals_total", code="filtered")
    with pytest.raises(Refused):
        actions.do_post_message(room, "une arnaque en or", actor=make_user())
    actions.do_post_message(room, "rien à voir", actor=make_user())
    assert sample("chatsite_filter_hits_total", action="block") == hits + 1
    assert sample("chatsite_message_refusals_total", code="filtered") == filtered + 1


def test_a_failing_channel_layer_is_counted(monkeypatch):
    from rooms import notify

    class BrokenLayer:
        async def group_send(self, group, event):
            raise ConnectionError("redis is gone")

    monkeypatch.setattr(notify, "get_channel_layer", lambda: BrokenLayer())
    before = sample("chatsite_channel_layer_errors_total", operation="group_send")
    notify.message_deleted(1, 2)
    assert sample("chatsite_channel_layer_errors_total", operation="group_send") == before + 1


def test_delivery_latency_is_measured_from_the_message_creation():
    count = sample("chatsite_message_delivery_seconds_count")
    under_quarter = sample("chatsite_message_delivery_seconds_bucket", le="0.25")
    delivered = sample("chatsite_messages_delivered_total")
    created = timezone.now()
    metrics.message_delivered({"created": created.isoformat()}, now=created.timestamp() + 0.2)
    metrics.message_delivered({"created": created.isoformat()}, now=created.timestamp() + 3)
    assert sample("chatsite_messages_delivered_total") == delivered + 2
    assert sample("chatsite_message_delivery_seconds_count") == count + 2
    assert sample("chatsite_message_delivery_seconds_bucket", le="0.25") == under_quarter + 1


@pytest.mark.django_db(transaction=True)
async def test_sockets_and_deliveries_are_counted(make_user, settings):
    from rooms import actions
    from rooms.models import RoomKind

    settings.MESSAGE_RATE_LIMIT = "off"
    room = await database_sync_to_async(actions.do_create_room)(
        actor=None, kind=RoomKind.PUBLIC, slug="ops-live", name="Ops"
    )
    user = await database_sync_to_async(make_user)()
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    headers = [
        (b"origin", b"http://127.0.0.1:8000"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    open_before = sample("chatsite_websocket_open_sockets", consumer="room")
    delivered = sample("chatsite_messages_delivered_total")
    latencies = sample("chatsite_message_delivery_seconds_count")
    socket = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/", headers=headers)
    connected, _ = await socket.connect(timeout=3)
    assert connected
    assert sample("chatsite_websocket_open_sockets", consumer="room") == open_before + 1
    await socket.send_json_to({"type": "message.send", "body": "mesuré", "client_id": "m-1"})
    while (await socket.receive_json_from(timeout=3))["type"] != "message.new":
        pass
    assert sample("chatsite_messages_delivered_total") == delivered + 1
    assert sample("chatsite_message_delivery_seconds_count") == latencies + 1
    await socket.disconnect()
    assert sample("chatsite_websocket_open_sockets", consumer="room") == open_before


# --- several daphne processes -------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from core import metrics
    metrics.socket_opened("room")
    metrics.message_stored("public")
    print("ready", flush=True)
    sys.stdin.read()  # stays alive (its socket open) until the test closes stdin
    """
)


def test_multiprocess_mode_adds_up_processes_and_forgets_dead_sockets(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD],
            env=env,
            cwd=settings.BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        children[0].communicate("", timeout=30)  # the first process ends: a crash or restart
        registry = CollectorRegistry()
        _LiveMultiProcess(registry, str(tmp_path))
        stored = registry.get_sample_value(
            "chatsite_messages_stored_total", {"room_kind": "public"}
        )
        sockets = registry.get_sample_value("chatsite_websocket_open_sockets", {"consumer": "room"})
        # Counters keep the dead process's history; open sockets count the living only.
        assert stored == 2
        assert sockets == 1
    finally:
        for child in children:
            if child.poll() is None:
                child.communicate("", timeout=30)


def test_the_exporter_refuses_to_start_without_the_shared_directory(monkeypatch, capsys):
    from chatsite import metrics_exporter

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert metrics_exporter.main(["--listen", "127.0.0.1:0"]) == 2
    assert "PROMETHEUS_MULTIPROC_DIR" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_exporter_serves_every_process_and_the_database(tmp_path):
    """What Prometheus scrapes: the shared directory's counters and the database figures."""
    import re
    import urllib.request

    from django.db import connection

    from tests.ops.test_backup import test_database_url

    if connection.vendor != "postgresql":
        pytest.skip("the exporter test reads the PostgreSQL test database from another process")
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DATABASE_URL": test_database_url(),
    }
    writer = subprocess.run(
        [sys.executable, "-c", "from core import metrics; metrics.message_stored('direct')"],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        timeout=60,
    )
    assert writer.returncode == 0
    exporter = subprocess.Popen(
        [sys.executable, "-m", "chatsite.metrics_exporter", "--listen", "127.0.0.1:0"],
        env=env,
        cwd=settings.BASE_DIR,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while "serving" not in (line := exporter.stderr.readline()):
            assert line, "the exporter stopped before serving"
        url = re.search(r"http://\S+", line).group(0)
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our loopback
            text = response.read().decode()
    finally:
        exporter.terminate()
        exporter.wait(timeout=30)
    assert 'chatsite_messages_stored_total{room_kind="direct"} 1.0' in text
    assert 'chatsite_collector_up{source="audit"} 1.0' in text
    assert "chatsite_reports_open" in text
