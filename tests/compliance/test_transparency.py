"""The transparency report's figures against a fixture with known counts."""

import csv
import io
import json
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from compliance.transparency import Period, build_report, render_csv

OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))


def at(month, day, hour=12):
    return timezone.make_aware(datetime(2026, month, day, hour))


@pytest.fixture
def activity(make_user, make_room, make_message, make_connection, officer):
    from compliance.models import LegalRequest
    from moderation.models import Appeal, Notice, Report, Sanction, StatementOfReasons

    users = [make_user(f"member{n}") for n in range(1, 6)]
    target = users[4]
    room = make_room("general")

    def report(category, source, created, **fields):
        return Report.objects.create(
            category=category,
            source=source,
            target_user=None if source == "automatic" else target,
            severity=3,
            created=created,
            deadline=created + timedelta(hours=24),
            **fields,
        )

    report("harassment", "user", at(10, 2), status="actioned", decided_at=at(10, 2, 14))
    report("harassment", "user", at(10, 3), status="actioned", decided_at=at(10, 3, 16))
    report("harassment", "user", at(10, 4))
    report(
        "spam",
        "automatic",
        at(10, 5),
        status="dismissed",
        decided_at=at(10, 5, 18),
        manifestly_unfounded=True,
    )
    report("hate", "trusted_flagger", at(10, 6))
    notice = Notice.objects.create(
        explanation="menace",
        location="https://chat.example/rooms/general/",
        good_faith=True,
        created=at(10, 7),
    )
    report("threat", "notice", at(10, 7), notice=notice)
    report("threat", "user", at(9, 15))  # outside the period

    def statement(measure, created, automated=False):
        return StatementOfReasons.objects.create(
            user=target,
            measure=measure,
            scope="general",
            starts_at=created,
            facts="faits",
            ground="terms_harassment",
            explanation="explication",
            redress="recours",
            appeal_until=created + timedelta(days=183),
            automated_decision=automated,
            created=created,
        )

    removals = [statement("removal", at(10, 8)), statement("removal", at(10, 9))]
    statement("ban", at(10, 10))
    statement("mute", at(10, 11), automated=True)
    statement("warn", at(9, 1))  # outside

    Sanction.objects.create(
        kind="ban",
        user=target,
        reason="r",
        ground="terms_hate",
        report=Report.objects.first(),
        created=at(10, 10),
    )
    Sanction.objects.create(
        kind="mute",
        user=target,
        reason="r",
        ground="terms_spam",
        automated=True,
        created=at(10, 11),
    )
    Sanction.objects.create(
        kind="warn", user=target, reason="r", ground="terms_other", created=at(10, 12)
    )

    Appeal.objects.create(
        statement=removals[0],
        appellant=target,
        text="t",
        status="upheld",
        created=at(10, 12),
        decided_at=at(10, 13),
    )
    Appeal.objects.create(
        statement=removals[1],
        appellant=target,
        text="t",
        status="reversed",
        created=at(10, 12),
        decided_at=at(10, 14),
    )
    Appeal.objects.create(
        statement=statement("mute", at(10, 15)), appellant=target, text="t", created=at(10, 16)
    )

    def legal(reference, basis, received, **fields):
        return LegalRequest.objects.create(
            reference=reference,
            authority="Parquet",
            legal_basis=basis,
            received_at=received,
            deadline=received + timedelta(days=15),
            period_start=received - timedelta(days=30),
            period_end=received,
            data_categories=["identity"],
            assigned_officer=officer,
            **fields,
        )

    legal("A", "cpp_60_1", at(10, 1), status="answered", answered_at=at(10, 3))
    legal("B", "cpp_77_1_1", at(10, 20))
    legal("C", "other", at(9, 20), status="refused", answered_at=at(10, 2))

    for user in users[:3]:
        make_connection(user, created=at(10, 5))
    make_connection(users[0], created=at(10, 6))
    make_message(room, users[3], "bonjour", created=at(10, 9))
    make_connection(users[0], created=at(9, 9))
    make_connection(users[1], created=at(9, 9))
    return users


def test_figures_match_the_fixture(activity):
    report = build_report(OCTOBER)

    notices = report["notices"]
    assert notices["total"] == 6
    assert notices["public_notices"] == 1
    assert notices["by_category"]["harassment"] == 3
    assert notices["by_category"]["threat"] == 1
    assert notices["by_category"]["child_safety"] == 0
    assert notices["by_source"] == {
        "users": 3,
        "trusted_flaggers": 1,
        "art16_notices": 1,
        "automated_detection": 1,
    }
    assert (notices["decided"], notices["actioned"], notices["dismissed"]) == (3, 2, 1)
    assert notices["manifestly_unfounded"] == 1
    assert notices["median_hours_to_decision"] == 4.0  # 2 h, 4 h, 6 h

    actions = report["actions"]
    assert actions["total"] == 5
    assert actions["by_measure"] == {"warn": 0, "mute": 2, "kick": 0, "ban": 1, "removal": 2}
    assert actions["automated_decisions"] == 1
    assert actions["own_initiative_sanctions"] == 1

    assert report["appeals"] == {
        "filed": 3,
        "decided": 2,
        "upheld": 1,
        "reversed": 1,
        "median_hours_to_decision": 36.0,  # 24 h and 48 h
    }
    assert report["suspensions"]["bans"] == 1

    legal = report["legal_requests"]
    assert legal["received"] == 2
    assert legal["by_legal_basis"] == {"cpp_60_1": 1, "cpp_77_1_1": 1, "cpp_99_3": 0, "other": 0}
    assert (legal["answered"], legal["refused"]) == (1, 1)
    assert legal["median_hours_to_response"] == 168.0  # 48 h and 288 h

    assert report["monthly_active_users"] == {"per_month": {"2026-10": 4}, "average": 4}


def test_monthly_active_users_average_over_the_months(activity):
    report = build_report(Period(date(2026, 9, 1), date(2026, 10, 31)))
    assert report["monthly_active_users"] == {
        "per_month": {"2026-09": 2, "2026-10": 4},
        "average": 3,
    }


def test_reporting_suspensions_come_from_the_audit_trail(db):
    from audit.events import AuditEvent
    from audit.trail import record

    with transaction.atomic():
        record(AuditEvent.REPORTING_SUSPENDED, actor=None, target_type="accounts.user", target_id=1)
    today = timezone.localdate()
    assert build_report(Period(today, today))["suspensions"]["reporting_suspensions"] == 1
    assert build_report(OCTOBER)["suspensions"]["reporting_suspensions"] == 0


def test_csv_follows_the_template_sections(activity):
    rows = list(csv.DictReader(io.StringIO(render_csv(build_report(OCTOBER)))))
    assert set(rows[0]) == {
        "period_start",
        "period_end",
        "section",
        "metric",
        "breakdown",
        "breakdown_value",
        "value",
    }
    assert {row["section"] for row in rows} == {
        "notices_art16",
        "own_initiative_and_decisions",
        "complaints_art20",
        "suspensions_art23",
        "orders_from_authorities_art9_10",
        "average_monthly_active_recipients",
    }
    harassment = [
        row
        for row in rows
        if row["breakdown"] == "category" and row["breakdown_value"] == "harassment"
    ]
    assert [row["value"] for row in harassment] == ["3"]
    assert all(row["period_start"] == "2026-10-01" for row in rows)


@pytest.mark.parametrize("output_format", ["json", "csv", "html"])
def test_the_command_writes_each_format(activity, output_format):
    out = StringIO()
    call_command(
        "transparency_report",
        "--start",
        "2026-10-01",
        "--end",
        "2026-10-31",
        "--format",
        output_format,
        stdout=out,
    )
    text = out.getvalue()
    if output_format == "json":
        assert json.loads(text)["notices"]["total"] == 6
    elif output_format == "csv":
        assert text.startswith("period_start,period_end,section,metric")
    else:
        assert text.startswith("<!DOCTYPE html>")
        assert "<svg" in text and "Rapport de transparence" in text
        assert "style=" not in text, "the CSP forbids inline styles"
