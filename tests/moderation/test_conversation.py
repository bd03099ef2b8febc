"""Moderation sees edits and deletions (issue 17): a report points to the
version that was reported, moderators see the edit history, and the
transparency figures count authors' deletions apart from moderators'."""

from datetime import date

import pytest
from django.utils import timezone

from compliance.transparency import Period, build_report, render_csv
from moderation import actions
from moderation.models import StatementOfReasons
from rooms import actions as room_actions
from tests.conftest import grant_model_looks
from tests.moderation.conftest import post_message, verified_client

pytestmark = pytest.mark.django_db


def test_a_report_points_to_the_version_reported(room, make_user, moderator):
    author = make_user()
    message = post_message(room, author, "première version, insultante")
    report = actions.do_file_report(actor=make_user(), category="harassment", message=message)
    room_actions.do_edit_message(message.id, "version polie", actor=author)
    later = actions.do_file_report(actor=make_user(), category="harassment", message=message)
    report.refresh_from_db()
    message.refresh_from_db()
    assert report.target_message_version == 0
    assert later.target_message_version == 1
    assert message.body_at_version(report.target_message_version) == "première version, insultante"
    assert message.body_at_version(later.target_message_version) == "version polie"

    client = grant_model_looks(verified_client(moderator))
    page = client.get(f"/admin/moderation/report/{report.pk}/decide/")
    text = page.content.decode()
    assert page.status_code == 200
    assert page.context["reported_text"] == "première version, insultante"
    assert "Historique des modifications" in text and "version polie" in text


def test_moderators_see_the_edit_history_in_the_message_admin(room, make_user, moderator):
    author = make_user()
    message = post_message(room, author, "avant")
    room_actions.do_edit_message(message.id, "après", actor=author)
    page = verified_client(moderator).get(f"/admin/rooms/message/{message.id}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "avant" in text and "après" in text


def test_transparency_counts_author_deletions_apart(room, make_user, moderator):
    author = make_user()
    removed = post_message(room, author, "à retirer")
    actions.do_remove_message(removed, actor=moderator, reason="Insulte.")
    for body in ("un", "deux"):
        room_actions.do_delete_own_message(post_message(room, author, body).id, actor=author)
    today = timezone.localdate()
    report = build_report(Period(today, today))
    assert report["actions"]["message_deletions"] == {"by_moderators": 1, "by_authors": 2}
    csv_text = render_csv(report)
    assert "own_initiative,message_deletions,,by_authors,2" in csv_text
    assert "own_initiative,message_deletions,,by_moderators,1" in csv_text
    assert report["template"]["own_initiative"]["message_deletions"] == {
        "by_moderators": 1,
        "by_authors": 2,
    }
    # Only the moderator's removal has a statement of reasons.
    assert StatementOfReasons.objects.filter(message=removed).count() == 1
    assert StatementOfReasons.objects.count() == 1
    past = build_report(Period(date(2020, 1, 1), date(2020, 1, 2)))
    assert past["actions"]["message_deletions"] == {"by_moderators": 0, "by_authors": 0}
