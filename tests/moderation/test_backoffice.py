"""The back office for people who moderate all day (issue 18, item 7): the landing
page, excerpts in the queue, local times, the target's history on a report page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.events import AuditEvent
from moderation import actions
from moderation.models import Report
from rooms import actions as room_actions
from rooms.models import RoomKind, RoomMembership
from tests.audit.conftest import entries_since, last_seq
from tests.conftest import grant_model_looks
from tests.moderation.conftest import post_message, verified_client

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
QUEUE = "/admin/moderation/report/"


def file(room, author, reporter, category, body):
    message = post_message(room, author, body)
    return actions.do_file_report(actor=reporter, category=category, message=message)


def overdue(report):
    Report.objects.filter(pk=report.pk).update(deadline=timezone.now() - timedelta(minutes=5))


# --- the landing page -------------------------------------------------------------------


def test_the_landing_page_lists_what_needs_doing_child_safety_first(
    room, make_user, moderator, other_moderator
):
    author, reporter = make_user("yanis_d"), make_user("reporter")
    threat = file(room, author, reporter, "threat", "je vais te retrouver")
    child = file(room, author, make_user(), "child_safety", "tu as quel âge ?")
    spam = file(room, author, make_user(), "spam", "achetez ici")
    actions.do_claim_report(spam, actor=moderator)
    late = file(room, author, make_user(), "hate", "message haineux")
    overdue(late)
    theirs = file(room, author, make_user(), "harassment", "encore toi")
    actions.do_claim_report(theirs, actor=other_moderator)
    ban = actions.do_issue_sanction(author, actor=other_moderator, kind="ban", reason="Menaces.")
    actions.do_file_appeal(ban.statement, actor=author, text="Ce n'était pas moi.")

    page = verified_client(moderator).get(INDEX)
    assert page.status_code == 200
    text = page.content.decode()
    landing = text[text.index('class="moderation-landing"') :]
    # The counts, live (the badge that queue-badge.js refreshes).
    assert 'data-count="open">5<' in landing and 'data-count="urgent">2<' in landing
    assert 'data-count="overdue">1<' in landing and 'data-count="appeals">1<' in landing
    # The urgent: child safety first, whatever the order of arrival.
    urgent = landing[landing.index('id="landing-urgent"') : landing.index('id="landing-mine"')]
    decide = "/admin/moderation/report/{}/decide/"
    assert urgent.index(decide.format(child.pk)) < urgent.index(decide.format(threat.pk))
    assert decide.format(spam.pk) not in urgent
    # Mine only (not a colleague's claim), the overdue, the appeal, with links.
    mine = landing[landing.index('id="landing-mine"') : landing.index('id="landing-overdue"')]
    assert decide.format(spam.pk) in mine and decide.format(theirs.pk) not in mine
    assert "1 signalement pris en charge par vous" in landing
    late_part = landing[landing.index('id="landing-overdue"') :]
    assert decide.format(late.pk) in late_part.split('id="landing-appeals"')[0]
    assert reverse("admin:moderation_appeal_change", args=[ban.statement.appeals.get().pk]) in (
        landing
    )
    # Nobody's name, nothing they said: the page asks no reason and records no look.
    for personal in ("yanis_d", "reporter", "je vais te retrouver", "tu as quel âge"):
        assert personal not in landing


def test_the_landing_page_costs_the_same_few_queries_however_long_the_queue(
    room, make_user, moderator, django_assert_max_num_queries
):
    client = verified_client(moderator)
    author = make_user()

    def queries_for_index():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(INDEX).status_code == 200
        return len(captured)

    file(room, author, make_user(), "child_safety", "un")
    few = queries_for_index()
    for number in range(12):
        report = file(room, author, make_user(), ["threat", "hate", "spam"][number % 3], "x")
        if number % 2:
            overdue(report)
        if number % 4 == 0:
            actions.do_claim_report(report, actor=moderator)
    many = queries_for_index()
    assert many == few
    with django_assert_max_num_queries(20):
        client.get(INDEX)


def test_staff_without_the_queue_see_the_usual_index(make_staff):
    officer = make_staff("compliance")
    officer.groups.clear()  # no moderation permission at all
    page = verified_client(officer).get(INDEX)
    assert page.status_code == 200
    assert "moderation-landing" not in page.content.decode()


# --- excerpts in the queue ----------------------------------------------------------------


def test_the_queue_quotes_public_rooms_only(room, make_user, moderator, make_room):
    author = make_user("yanis_d")
    public = file(room, author, make_user(), "harassment", "<b>tu vas voir</b> " + "x" * 200)
    private_room = make_room(RoomKind.PRIVATE, owner=author)
    reporter = make_user()
    RoomMembership.objects.create(room=private_room, user=reporter)
    private = file(private_room, author, reporter, "harassment", "secret du cercle")
    direct = room_actions.do_open_direct_room(reporter, actor=author)
    room_actions.do_post_message(direct, "rien que nous deux", actor=author)
    conversation = actions.do_file_report(
        actor=reporter,
        category="threat",
        message=direct.messages.get(),
    )
    client = grant_model_looks(verified_client(moderator))
    before = last_seq()
    page = client.get(QUEUE).content.decode()
    # The public text, short and escaped.
    assert "« &lt;b&gt;tu vas voir&lt;/b&gt; xxx" in page and "<b>tu vas voir" not in page
    assert "x" * 120 not in page
    # Private content is not quoted in a list: the report's page asks its own reason.
    assert "secret du cercle" not in page and "rien que nous deux" not in page
    assert page.count("contenu privé : motif demandé à l&#x27;ouverture") == 2
    # The list itself stays one look at the queue, not at anyone's conversation.
    [look] = entries_since(before)
    assert (look.event, look.target_type) == (AuditEvent.VIEW_PERSONAL_DATA, "moderation.report")
    for report in (public, private, conversation):
        assert f"/admin/moderation/report/{report.pk}/change/" in page


def test_the_excerpt_is_the_text_as_reported_not_as_edited(room, make_user, moderator):
    author = make_user()
    report = file(room, author, make_user(), "hate", "version signalée")
    room_actions.do_edit_message(report.target_message_id, "version corrigée", actor=author)
    page = grant_model_looks(verified_client(moderator)).get(QUEUE).content.decode()
    assert "« version signalée »" in page and "version corrigée" not in page


# --- the report page: local times and the target's history ----------------------------------


def test_the_report_page_writes_local_times_never_raw_iso_utc(room, make_user, moderator, settings):
    settings.TIME_ZONE = "Europe/Paris"
    author = make_user()
    report = file(room, author, make_user(), "hate", "texte")
    # A winter evening: 21:30 UTC is 22:30 in Paris.
    posted = timezone.datetime(2026, 12, 7, 21, 30, tzinfo=timezone.UTC)
    context = [{**entry, "created": posted.isoformat()} for entry in report.context]
    Report.objects.filter(pk=report.pk).update(context=context, created=posted)
    client = grant_model_looks(verified_client(moderator))
    page = client.get(reverse("admin:moderation_report_decide", args=[report.pk])).text
    snapshot = page[page.index('class="report-context"') :]
    assert "07/12/2026 22:30" in snapshot and "Europe/Paris" in page
    assert "2026-12-07T21:30" not in snapshot.split("</ol>")[0].replace(
        f'datetime="{posted.isoformat()}"', ""
    )
    assert "07/12/2026 22:30" in page[: page.index('class="report-context"')]  # received


def test_the_report_page_shows_the_targets_history_with_links(
    room, make_user, moderator, other_moderator
):
    author, reporter = make_user("yanis_d"), make_user()
    earlier = file(room, author, reporter, "spam", "pub")
    actions.do_dismiss_report(earlier, actor=other_moderator, reason="Rien à redire.")
    report = file(room, author, make_user(), "harassment", "encore")
    lifted = actions.do_issue_sanction(author, actor=other_moderator, kind="mute", reason="Flood.")
    actions.do_lift_sanction(lifted, actor=other_moderator, reason="Erreur de salon.")
    ban = actions.do_issue_sanction(
        author, actor=other_moderator, kind="ban", room=room, reason="Insultes répétées."
    )
    appeal = actions.do_file_appeal(ban.statement, actor=author, text="Je conteste.")
    unrelated = file(room, make_user(), reporter, "spam", "autre compte")
    client = grant_model_looks(verified_client(moderator))
    page = client.get(reverse("admin:moderation_report_decide", args=[report.pk])).text
    history = page[page.index('id="target-history-title"') :]
    active = history[history.index("Sanctions en vigueur") : history.index("Sanctions passées")]
    past = history[history.index("Sanctions passées") : history.index("Autre")]
    assert reverse("admin:moderation_sanction_change", args=[ban.pk]) in active
    assert reverse("admin:moderation_sanction_change", args=[lifted.pk]) in past
    assert "levée le" in past
    assert reverse("admin:moderation_report_decide", args=[earlier.pk]) in history
    assert reverse("admin:moderation_report_decide", args=[unrelated.pk]) not in history
    assert reverse("admin:moderation_report_decide", args=[report.pk]) not in history
    assert "Autre signalement visant ce compte (1)" in history
    for statement in (lifted.statement, ban.statement):
        assert reverse("admin:moderation_statementofreasons_change", args=[statement.pk]) in history
    assert reverse("admin:moderation_appeal_change", args=[appeal.pk]) in history
    # The "see all" links filter the lists on this account (and are valid filters).
    for link in (
        f"/admin/moderation/sanction/?user__exact={author.pk}",
        f"/admin/moderation/report/?etat=all&amp;target_user__exact={author.pk}",
    ):
        assert link in history
        listing = client.get(link.replace("&amp;", "&"))
        assert listing.status_code == 200, link
        assert list(listing.context["cl"].result_list)
