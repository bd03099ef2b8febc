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

from audit.events import AuditEvent
from audit.models import AuditEntry
from compliance.transparency import (
    TEMPLATE_COLUMNS,
    TEMPLATE_SECTIONS,
    Period,
    build_report,
    render_csv,
)
from moderation.dsa import DsaCategory

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
            automated_decision="fully" if automated else "not",
            automated_detection=automated,
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
    assert actions["by_measure"] == {
        "warn": 0,
        "mute": 2,
        "kick": 0,
        "ban": 1,
        "removal": 2,
        "rejection": 0,
        "block": 0,
        "reporting": 0,
    }
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
        assert text.startswith("period_start,period_end,section,item,category,breakdown,value")
    else:
        assert text.startswith("<!DOCTYPE html>")
        assert "<svg" in text and "Rapport de transparence" in text
        assert "style=" not in text, "the CSP forbids inline styles"


# --- the Commission's template (Implementing Regulation (EU) 2024/2835) --------------------------


def test_the_template_part_follows_the_commissions_categories(activity):
    template = build_report(OCTOBER)["template"]
    assert list(template) == list(TEMPLATE_SECTIONS)
    notices = template["notices_art16"]
    # Members' and trusted flaggers' reports and public notices; a filter's flag is not a notice.
    assert set(notices["received_by_category"]) == set(DsaCategory.values)
    assert notices["received_by_category"]["STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"] == 3
    assert notices["received_by_category"]["STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"] == 1
    assert notices["received_by_category"]["STATEMENT_CATEGORY_VIOLENCE"] == 1
    assert sum(notices["received_by_category"].values()) == 5
    assert (
        notices["from_trusted_flaggers_by_category"]["STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"]
        == 1
    )
    assert notices["median_hours_to_act"] == 3.0  # 2 h and 4 h; the filter's dismissal is not
    orders = template["orders_art10"]
    assert orders["received"] == 2
    assert orders["median_hours_to_give_effect"] == 48.0
    assert template["orders_art9"]["median_hours_to_give_effect"] is None
    complaints = template["complaints_art20"]
    assert complaints["received"] == 3
    assert (complaints["decisions_upheld"], complaints["decisions_reversed"]) == (1, 1)
    assert complaints["median_hours_to_decide"] == 36.0
    assert template["average_monthly_active_recipients"]["average"] == 4


def test_art_23_suspensions_are_apart_from_other_bans(db, make_user, make_staff):
    from audit.trail import record
    from moderation import actions

    moderator = make_staff("moderator", username="modo9")
    actions.do_issue_sanction(make_user("a"), actor=moderator, kind="ban", reason="r", clause="R4")
    actions.do_issue_sanction(
        make_user("b"), actor=moderator, kind="ban", reason="r", clause="R9", duration_minutes=60
    )
    with transaction.atomic():
        record(AuditEvent.REPORTING_SUSPENDED, actor=None, target_type="accounts.user", target_id=1)
    today = timezone.localdate()
    template = build_report(Period(today, today))["template"]
    assert template["suspensions_art23"] == {
        "manifestly_illegal_content": 0,
        "manifestly_unfounded_notices": 1,
        "manifestly_unfounded_complaints": 0,
    }
    bans = template["other_account_restrictions"]
    assert (bans["account_bans_permanent"], bans["account_bans_temporary"]) == (1, 1)
    assert bans["account_bans_by_category"]["STATEMENT_CATEGORY_SCAMS_AND_FRAUD"] == 1
    own = template["own_initiative"]
    assert own["measures_by_restriction"] == {"visibility": 0, "provision": 0, "account": 2}


def test_art_23_1_suspensions_come_from_the_procedure_not_from_other_bans(
    db, make_user, make_staff, make_room, settings
):
    from moderation import actions
    from moderation.models import MisuseMeasure, MisuseStep
    from rooms.actions import do_post_message

    settings.MODERATION_ILLEGAL_CONTENT_THRESHOLD = 1
    moderator = make_staff("moderator", username="modo23")
    room = make_room(slug="salon23")
    provider = make_user("provider")
    for _number in range(2):  # the first earns the warning, the second the suspension
        message = do_post_message(room, "illicite", actor=provider).message
        actions.do_remove_message(
            message, actor=moderator, reason="r", legal_provision="CP-222-33-2-2"
        )
    actions.do_issue_sanction(
        make_user("other"), actor=moderator, kind="ban", reason="r", clause="R4"
    )
    [suspension] = MisuseMeasure.objects.filter(kind=MisuseStep.PROVIDER_SUSPENSION)
    assert suspension.sanction.kind == "ban" and suspension.sanction.ends_at is not None
    today = timezone.localdate()
    template = build_report(Period(today, today))["template"]
    assert template["suspensions_art23"]["manifestly_illegal_content"] == 1
    bans = template["other_account_restrictions"]
    # Only the other ban: the Art. 23 suspension is not counted twice.
    assert (bans["account_bans_permanent"], bans["account_bans_temporary"]) == (1, 0)
    yesterday = today - timedelta(days=1)
    earlier = build_report(Period(yesterday, yesterday))["template"]
    assert earlier["suspensions_art23"]["manifestly_illegal_content"] == 0


def test_deletions_by_moderators_are_apart_from_deletions_by_authors(
    db, make_user, make_staff, make_room
):
    from moderation import actions
    from rooms import actions as room_actions

    moderator = make_staff("moderator", username="modo8")
    room = make_room()
    author = make_user("ecrivain")
    own = room_actions.do_post_message(room, "je retire", actor=author).message
    removed = room_actions.do_post_message(room, "spam", actor=author).message
    room_actions.do_delete_own_message(own.pk, actor=author)
    actions.do_remove_message(removed, actor=moderator, reason="Spam.", clause="R10")
    today = timezone.localdate()
    template = build_report(Period(today, today))["template"]
    assert template["own_initiative"]["message_deletions"] == {"by_moderators": 1, "by_authors": 1}
    assert template["own_initiative"]["measures_by_restriction"]["visibility"] == 1


def test_the_csv_has_the_template_columns_and_every_section(activity):
    text = render_csv(build_report(OCTOBER))
    rows = list(csv.reader(io.StringIO(text)))
    assert (
        tuple(rows[0])
        == TEMPLATE_COLUMNS
        == (
            "period_start",
            "period_end",
            "section",
            "item",
            "category",
            "breakdown",
            "value",
        )
    )
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert list(dict.fromkeys(row["section"] for row in body)) == list(TEMPLATE_SECTIONS)
    received = [
        row
        for row in body
        if (row["section"], row["item"]) == ("notices_art16", "received_by_category")
    ]
    assert [row["category"] for row in received] == list(DsaCategory.values)
    harassment = [r for r in received if r["category"].endswith("NON_CONSENSUAL_BEHAVIOUR")]
    assert [r["value"] for r in harassment] == ["3"]
    median = [r for r in body if r["item"] == "median_hours_to_act"]
    assert [r["value"] for r in median] == ["3.0"]
    assert all(row["period_start"] == "2026-10-01" for row in body)


# --- publication at /transparency/ ---------------------------------------------------------------


def test_only_a_closed_period_is_published_once_with_an_audit_entry(activity, officer):
    from compliance.actions import do_publish_transparency_report
    from core.refusals import Refused

    today = timezone.localdate()
    with pytest.raises(Refused) as refusal:
        do_publish_transparency_report(today.replace(day=1), today, actor=officer)
    assert refusal.value.code == "conflict"
    published = do_publish_transparency_report(OCTOBER.start, OCTOBER.end, actor=officer)
    assert published.figures["notices"]["total"] == 6
    entry = AuditEntry.objects.get(event=AuditEvent.TRANSPARENCY_REPORT_PUBLISHED)
    assert entry.actor_id == officer.pk and entry.target_id == str(published.pk)
    assert entry.details == {"start": "2026-10-01", "end": "2026-10-31"}
    with pytest.raises(Refused):
        do_publish_transparency_report(OCTOBER.start, OCTOBER.end, actor=officer)


def test_the_public_pages_list_and_show_published_reports(activity, officer, client):
    from compliance.actions import do_publish_transparency_report
    from moderation.models import Report

    empty = client.get("/transparency/")
    assert empty.status_code == 200
    assert '<html lang="fr"' in empty.text
    assert "Aucun rapport" in empty.text
    published = do_publish_transparency_report(OCTOBER.start, OCTOBER.end, actor=officer)
    index = client.get("/transparency/")
    assert "/transparency/2026-10-01_2026-10-31/" in index.text
    assert "/transparency/2026-10-01_2026-10-31.csv" in index.text

    # Figures are frozen: a report filed later for October changes nothing published.
    Report.objects.create(
        category="hate",
        source="user",
        severity=2,
        created=at(10, 20),
        deadline=at(10, 21),
        target_user=activity[0],
    )
    page = client.get(published.get_absolute_url())
    assert page.status_code == 200
    assert '<html lang="fr"' in page.text
    assert "Notifications (article 16)" in page.text
    assert "Suspensions au titre de l&#x27;article 23" in page.text
    csv_answer = client.get(published.get_csv_url())
    assert csv_answer.status_code == 200
    assert csv_answer["Content-Type"].startswith("text/csv")
    text = csv_answer.content.decode()
    assert text == render_csv(published.figures)
    received = [
        row
        for row in csv.DictReader(io.StringIO(text))
        if row["item"] == "received_by_category" and row["section"] == "notices_art16"
    ]
    assert sum(int(row["value"]) for row in received) == 5
    assert client.get("/transparency/2026-09-01_2026-09-30/").status_code == 404
    assert client.get("/transparency/nimporte/").status_code == 404
    assert client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="en").text.count('lang="en"') >= 1


def test_the_published_page_escapes_what_it_shows(db, officer, client):
    from compliance.models import PublishedTransparencyReport

    figures = build_report(OCTOBER)
    figures["template"]["own_initiative"]["measures_by_decision"]["<script>x</script>"] = 1
    published = PublishedTransparencyReport.objects.create(
        period_start=OCTOBER.start,
        period_end=OCTOBER.end,
        figures_json=json.dumps(figures),
        published_by=officer,
    )
    page = client.get(published.get_absolute_url()).text
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_the_dashboard_publishes_a_closed_period(activity, officer):
    from compliance.models import PublishedTransparencyReport
    from tests.conftest import grant_model_looks, staff_client

    client = grant_model_looks(staff_client(officer))  # the reason gate: tests/audit
    response = client.post(
        "/admin/compliance/legalrequest/transparency/publish/",
        {"start": "2026-10-01", "end": "2026-10-31"},
    )
    assert response.status_code == 302
    assert PublishedTransparencyReport.objects.get().period_end == OCTOBER.end
    assert client.get("/admin/compliance/legalrequest/transparency/publish/").status_code == 403


def test_spontaneous_notifications_are_counted_apart_from_requisitions(
    make_user, make_room, make_message, officer
):
    """DSA Art. 18: the PHAROS notifications of child-safety cases and threats to life."""
    from moderation import actions
    from moderation.models import ThreatEscalation

    message = make_message(make_room(), make_user(), "je suis en 4e")
    report = actions.do_file_report(actor=make_user(), category="child_safety", message=message)
    actions.do_decide_report(report, actor=officer, decision="Mineur.", sanction_kind="ban")
    actions.do_mark_escalation_transmitted(
        ThreatEscalation.objects.get(),
        actor=officer,
        authority="pharos",
        reference="PH-1",
        category="minors_sexual",
    )
    today = timezone.localdate()
    report_ = build_report(Period(today, today))
    art18 = report_["authority_notifications_art18"]
    assert art18["transmitted"] == 1
    assert art18["transmitted_by_reason"]["child_safety"] == 1
    assert report_["template"]["orders_art10"]["received"] == 0  # not a requisition
    out = StringIO()
    call_command(
        "transparency_report",
        "--start",
        today.isoformat(),
        "--end",
        today.isoformat(),
        "--format",
        "html",
        stdout=out,
    )
    html = out.getvalue()
    assert "Signalements spontanés aux autorités (article 18)" in html
    assert '<th scope="row">dont protection des mineurs</th><td>1</td>' in html
