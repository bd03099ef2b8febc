"""Members' pages: "Mes décisions" (a banned member included), appeals, the
public notice form, and the report dialog on room pages."""

import re

import pytest
from django.test import Client

from moderation import actions
from moderation.models import Appeal, Notice, Report
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def banned(make_user, moderator):
    user = make_user("banni")
    actions.do_issue_sanction(
        user,
        actor=moderator,
        kind="ban",
        reason="Menaces <b>répétées</b>.",
        ground="terms_violence",
    )
    return user


def test_a_banned_member_reads_the_statement_and_appeals(banned):
    client = Client()
    client.force_login(banned)
    listing = client.get("/decisions/")
    assert listing.status_code == 200
    statement = banned.statements_of_reasons.get()
    assert statement.get_absolute_url() in listing.content.decode()
    page = client.get(statement.get_absolute_url())
    content = page.content.decode()
    assert "Bannissement" in content or "bannissement" in content
    # The rule is named and linked (the ground "terms_violence" cites R3).
    assert '<a href="/rules/#R3">R3 · Pas de menaces ni de violence</a>' in content
    assert "Menaces &lt;b&gt;répétées&lt;/b&gt;." in content  # escaped, never HTML
    assert "<b>répétées</b>" not in content
    response = client.post(statement.get_absolute_url(), {"text": "Je conteste."})
    assert response.status_code == 302
    assert Appeal.objects.get().appellant == banned
    after = client.get(statement.get_absolute_url()).content.decode()
    assert "Je conteste." in after
    assert 'name="text"' not in after  # one appeal per decision


def test_someone_elses_decision_is_not_found(banned, make_user):
    client = Client()
    client.force_login(make_user())
    statement = banned.statements_of_reasons.get()
    assert client.get(statement.get_absolute_url()).status_code == 404
    assert client.post(statement.get_absolute_url(), {"text": "x"}).status_code == 404


def test_decisions_need_a_sign_in(client):
    response = client.get("/decisions/")
    assert response.status_code == 302


def test_reporters_see_the_outcome(room, make_user, moderator):
    reporter = make_user()
    message = post_message(room, make_user(), "pub")
    report = actions.do_file_report(actor=reporter, category="spam", message=message)
    actions.do_dismiss_report(report, actor=moderator, reason="Pas de la publicité.")
    client = Client()
    client.force_login(reporter)
    content = client.get("/decisions/").content.decode()
    assert "Pas de la publicité." in content and "classé sans suite" in content


def test_the_public_notice_form_works_without_an_account(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    page = client.get("/notice/")
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/notice/",
            {
                "category": "illegal_other",
                "location": "http://127.0.0.1:8000/rooms/general/",
                "explanation": "Vente d'armes.",
                "name": "Camille",
                "email": "camille@example.org",
                "good_faith": "on",
            },
        )
    assert response.status_code == 200
    notice = Notice.objects.get()
    assert notice.name == "Camille" and notice.good_faith
    assert Report.objects.get(notice=notice).source == "notice"
    [mail] = mailoutbox
    assert mail.to == ["camille@example.org"]


def static_named(name: str, page: str) -> bool:
    """The page links this static file, under its hashed name with DEBUG off."""
    stem, _dot, extension = name.rpartition(".")
    return (
        re.search(rf"/static/{re.escape(stem)}(\.[0-9a-f]{{12}})?\.{extension}\b", page) is not None
    )


def _notice(email="", location="https://phishing.example/login", **extra) -> dict:
    return {
        "category": "scam",
        "location": location,
        "explanation": "Arnaque.",
        "email": email,
        "good_faith": "on",
        **extra,
    }


def test_a_burst_of_notices_from_one_address_is_refused(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    """The issue's flood: 20 anonymous posts in a second. Five get through;
    the rest get 429 and the form again, with what was typed, and store nothing."""
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(20):
            response = client.post("/notice/", _notice(explanation=f"Arnaque {number}."))
            statuses.append(response.status_code)
    assert statuses == [200] * 5 + [429] * 15
    assert Notice.objects.count() == 5
    page = response.content.decode()
    assert "Trop de notifications" in page
    assert "Arnaque 19." in page  # the form again, nothing lost
    # Another client address is not held back by this one's burst.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.post("/notice/", _notice()).status_code == 200


def test_no_address_gets_more_than_a_few_acknowledgements_an_hour(
    mailoutbox, django_capture_on_commit_callbacks
):
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(5):
            # Each from its own client address: the per-address limit is the one that holds.
            client = Client(REMOTE_ADDR=f"198.51.100.{number + 1}")
            response = client.post("/notice/", _notice(email="Victim@Example.org"))
            statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429, 429]
    assert len(mailoutbox) == 3
    assert "déjà reçu plusieurs accusés de réception" in response.content.decode()
    assert Notice.objects.count() == 3
    # The acknowledgement relays nothing of the sender's: no URL, no text.
    for mail in mailoutbox:
        assert "phishing.example" not in mail.body and "Arnaque" not in mail.body


def test_the_notice_form_requires_good_faith_and_a_url(client):
    response = client.post(
        "/notice/", {"category": "spam", "location": "pas une url", "explanation": "x"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"location", "good_faith"}
    assert not Notice.objects.exists()


def test_the_room_page_carries_the_report_dialog(client, room, make_user):
    from rooms import actions as room_actions

    user, other = make_user(), make_user("autre")
    client.force_login(user)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert 'id="report-dialog"' in page and static_named("moderation/report.js", page)
    assert "alert-button" not in page
    room_actions.do_open_direct_room(other, actor=user)
    direct = client.get("/dm/autre/").content.decode()
    assert "alert-button" in direct and 'data-report-user="autre"' in direct


def test_in_room_controls_only_for_verified_moderators(room, moderator, make_user):
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from tests.moderation.conftest import verified_client

    # A moderator who chats is a verified adult like everyone else.
    EmailAddress.objects.filter(user=moderator).update(verified=True)
    moderator.age_verified_at = timezone.now()
    moderator.save(update_fields=["age_verified_at"])
    page = verified_client(moderator).get(f"/rooms/{room.slug}/").content.decode()
    assert 'id="moderate-dialog"' in page and static_named("moderation/moderate.js", page)
    unverified = Client()
    unverified.force_login(moderator)
    assert 'id="moderate-dialog"' not in unverified.get(f"/rooms/{room.slug}/").content.decode()
    member = Client()
    member.force_login(make_user())
    assert 'id="moderate-dialog"' not in member.get(f"/rooms/{room.slug}/").content.decode()


def test_pages_speak_english_to_an_english_browser(banned, client):
    client.force_login(banned)
    page = client.get("/decisions/", headers={"Accept-Language": "en"}).content.decode()
    assert "My decisions" in page and "Decisions concerning you" in page
    notice = client.get("/notice/", headers={"Accept-Language": "en"}).content.decode()
    assert "Why is this content illegal?" in notice


def test_contact_requests_carry_the_report_dialog(client, make_user):
    from rooms import actions as room_actions

    recipient, sender = make_user(), make_user()
    direct = room_actions.do_open_direct_room(recipient, actor=sender)
    post_message(direct, sender, "salut")
    client.force_login(recipient)
    page = client.get("/conversations/").content.decode()
    assert 'id="report-dialog"' in page and "data-report-message" in page


def test_a_reporter_appeals_a_dismissal_from_the_page(room, make_user, moderator):
    reporter = make_user()
    message = post_message(room, make_user(), "insulte")
    report = actions.do_file_report(actor=reporter, category="harassment", message=message)
    actions.do_dismiss_report(report, actor=moderator, reason="Pas d'insulte.")
    client = Client()
    client.force_login(reporter)
    url = f"/decisions/reports/{report.pk}/"
    assert url in client.get("/decisions/").content.decode()
    assert 'name="text"' in client.get(url).content.decode()
    assert client.post(url, {"text": "Si, relisez."}).status_code == 302
    assert Appeal.objects.get().report == report
    other = Client()
    other.force_login(make_user())
    assert other.get(url).status_code == 404
