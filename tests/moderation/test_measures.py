"""The moderation team's measures on a known data set (moderation/measures.py),
as /metrics exports them and as the dashboard page shows them."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from moderation import actions, measures
from moderation.console import open_console
from moderation.models import Appeal, AppealStatus, Report, ReportStatus, Severity
from tests.conftest import grant_looks, staff_client
from tests.moderation.conftest import post_message

NOW = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)


@pytest.fixture
def known(room, make_user, moderator, other_moderator):
    """Four urgent groups decided, one high one held, three appeals (one reversed).

    urgent, claimed after 60, 120, 180, 600 s and decided after 300, 600, 900, 3600 s;
    high, claimed after 30 s by the other moderator, still open."""
    author = make_user("auteur")

    def report(category, created):
        message = post_message(room, author, "texte")
        filed = actions.do_file_report(actor=make_user(), category=category, message=message)
        Report.objects.filter(pk=filed.pk).update(created=created)
        return filed

    base = NOW - timedelta(hours=3)
    for claim, decide in ((60, 300), (120, 600), (180, 900), (600, 3600)):
        filed = report("threat", base)
        Report.objects.filter(pk=filed.pk).update(
            status=ReportStatus.DISMISSED,
            claimed_by=moderator,
            claimed_at=base + timedelta(seconds=claim),
            decided_by=moderator,
            decided_at=base + timedelta(seconds=decide),
        )
    high = report("harassment", NOW - timedelta(minutes=20))
    Report.objects.filter(pk=high.pk).update(
        status=ReportStatus.CLAIMED,
        claimed_by=other_moderator,
        claimed_at=NOW - timedelta(minutes=20) + timedelta(seconds=30),
    )
    decided = Report.objects.filter(status=ReportStatus.DISMISSED).order_by("pk")
    for first, status in zip(
        decided, (AppealStatus.UPHELD, AppealStatus.REVERSED, AppealStatus.UPHELD), strict=False
    ):
        Appeal.objects.create(
            report=first,
            appellant=make_user(),
            text="Je conteste.",
            status=status,
            decided_by=other_moderator,
            decided_at=NOW - timedelta(hours=1),
        )
    # An appeal still open and one decided before the window count for nothing.
    Appeal.objects.create(report=decided[3], appellant=make_user(), text="…")
    Appeal.objects.create(
        report=decided[3],
        appellant=make_user(),
        text="…",
        status=AppealStatus.REVERSED,
        decided_at=NOW - timedelta(days=40),
    )


def test_percentiles_are_nearest_rank():
    assert measures.percentile([], 0.5) is None
    assert measures.percentile([60, 120, 180, 600], 0.5) == 120
    assert measures.percentile([60, 120, 180, 600], 0.9) == 600
    assert measures.percentile(list(range(1, 101)), 0.99) == 99
    assert measures.percentile([7], 0.99) == 7


def test_the_measures_on_a_known_data_set(known, moderator, other_moderator):
    figures = measures.measures(until=NOW)
    urgent, high = figures.to_claim[Severity.URGENT], figures.to_claim[Severity.HIGH]
    assert urgent.count == 4 and urgent.quantiles == {0.5: 120, 0.9: 600, 0.99: 600}
    assert high.count == 1 and high.quantiles[0.5] == 30
    assert figures.to_claim[Severity.LOW].count == 0
    assert figures.to_claim[Severity.LOW].quantiles[0.5] is None
    decided = figures.to_decision[Severity.URGENT]
    assert decided.count == 4 and decided.quantiles == {0.5: 600, 0.9: 3600, 0.99: 3600}
    assert figures.to_decision[Severity.HIGH].count == 0
    loads = {load.username: (load.holding, load.decided) for load in figures.workload}
    assert loads == {moderator.username: (0, 4), other_moderator.username: (1, 0)}
    assert (figures.appeals.decided, figures.appeals.reversed) == (3, 1)
    assert figures.appeals.reversal_rate == pytest.approx(1 / 3)
    hours = {hour.start: hour for hour in figures.coverage.hours}
    assert len(hours) == 24
    three_hours_ago = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    assert hours[three_hours_ago].reports == 4 and hours[three_hours_ago].moderators == 1
    this_hour = hours[datetime(2026, 12, 7, 18, 0, tzinfo=UTC)]
    assert this_hour.reports == 1 and this_hour.moderators == 1
    assert figures.coverage.reports_last_hour == 1


def test_metrics_exports_the_measures(known, moderator, other_moderator, make_staff):
    open_console(moderator, "console-a")
    open_console(moderator, "console-b")  # two tabs, one person
    response = staff_client(make_staff("admin")).get("/metrics")
    assert response.status_code == 200
    families = {
        family.name: family for family in text_string_to_metric_families(response.content.decode())
    }

    def value(name, **labels):
        (found,) = [
            sample.value
            for sample in families[name].samples
            if all(sample.labels.get(key) == str(val) for key, val in labels.items())
        ]
        return found

    # /metrics reads "now": the data set's reports are within the 30-day window.
    claim = "chatsite_moderation_time_to_claim_seconds"
    assert value(claim, severity="urgent", quantile=0.5, window="30d") == 120
    assert value(claim, severity="urgent", quantile=0.99) == 600
    decide = "chatsite_moderation_time_to_decision_seconds"
    assert value(decide, severity="urgent", quantile=0.9) == 3600
    assert value("chatsite_moderation_time_to_claim_reports", severity="high") == 1
    assert value("chatsite_moderation_reports_held", moderator=other_moderator.username) == 1
    assert value("chatsite_moderation_reports_decided", moderator=moderator.username) == 4
    assert value("chatsite_moderation_appeals_decided") == 3
    assert value("chatsite_moderation_appeal_reversal_ratio") == pytest.approx(1 / 3)
    assert value("chatsite_moderation_staff_online") == 1
    assert "chatsite_moderation_reports_last_hour" in families
    assert value("chatsite_collector_up", source="moderation_team") == 1


def test_the_dashboard_page(known, moderator, make_user):
    client = grant_looks(staff_client(moderator), "moderation.report")
    response = client.get("/admin/moderation/report/metrics/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mesures de la modération" in page
    assert "2 min 00 s" in page and "1 h 00 min" in page  # urgent p50 to claim, p90 to decide
    assert "1 décisions annulées sur 3 recours décidés : 33,3 %" in page
    assert page.count('<svg class="metrics-svg"') >= 4 * 3 * 2 + 24 * 2
    assert 'style="' not in page.split('id="content-main"')[1]  # the CSP: no inline style
    assert "auteur" not in page.split('id="content-main"')[1]  # no member is named
    # The landing page links it; a member gets the admin's login, not the page.
    assert "/admin/moderation/report/metrics/" in client.get("/admin/").content.decode()
    member = staff_client(make_user("membre"), otp_verified=False)
    assert member.get("/admin/moderation/report/metrics/").status_code == 302
