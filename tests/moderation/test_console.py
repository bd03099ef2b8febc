"""The live console's moves (moderation/actions/console.py): each changes the
report, writes its audit entry and pushes to every open console once committed;
the senior tier and the compliance tier; the thread with the reporter and who
may read and write it; the report page's forms (admin_console.py)."""

import pytest
from django.test import Client

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import Refused
from moderation import actions
from moderation.console import CONSOLE_GROUP
from moderation.models import EscalationTier, ReportStatus, ReportThreadMessage
from tests.conftest import grant_looks, staff_client
from tests.moderation.conftest import post_message


def audit_rows(event: AuditEvent, **filters):
    return list(AuditEntry.objects.filter(event=int(event), **filters).order_by("seq"))


@pytest.fixture
def reporter(make_user):
    return make_user("temoin")


@pytest.fixture
def report(room, make_user, reporter):
    message = post_message(room, make_user("auteur"), "texte signalé")
    return actions.do_file_report(actor=reporter, category="hate", message=message)


@pytest.fixture
def senior(make_staff):
    return make_staff("senior_moderator")


def pushed(events) -> list[dict]:
    return [event["frame"] for event in events() if event["type"] == "console.event"]


def test_an_urgent_report_is_pushed_as_new_and_a_low_one_only_moves_the_counts(
    room, make_user, listen, django_capture_on_commit_callbacks
):
    consoles = listen(CONSOLE_GROUP)
    message = post_message(room, make_user("auteur"), "texte")
    with django_capture_on_commit_callbacks(execute=True):
        urgent = actions.do_file_report(actor=make_user(), category="child_safety", message=message)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_file_report(actor=make_user(), category="spam", target_user=make_user("x"))
    frames = pushed(consoles)
    assert [frame["type"] for frame in frames] == ["report.new", "report.updated"]
    assert frames[0]["report"]["id"] == urgent.pk and frames[0]["event"] == "filed"
    assert frames[0]["counts"]["urgent"] == 1
    assert frames[1]["report"]["severity"] == 4 and frames[1]["counts"]["open"] == 2
    assert frames[0]["report"]["url"] == f"/admin/moderation/report/{urgent.pk}/decide/"


def test_claim_and_release_push_and_audit(
    report, moderator, other_moderator, senior, listen, django_capture_on_commit_callbacks
):
    consoles = listen(CONSOLE_GROUP)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_claim_report(report, actor=moderator)
    # Another moderator may not take it back; a senior may.
    with pytest.raises(Refused) as refusal:
        actions.do_release_report(report, actor=other_moderator)
    assert refusal.value.code == "forbidden"
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_release_report(report, actor=senior, reason="Il est parti.")
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN and report.claimed_by is None
    (row,) = audit_rows(AuditEvent.REPORT_RELEASED, target_id=str(report.pk))
    assert row.actor_id == senior.pk and row.details == {"held_by": moderator.pk}
    assert row.reason == "Il est parti."
    frames = pushed(consoles)
    assert [(f["event"], f["by"]) for f in frames] == [
        ("claimed", moderator.username),
        ("released", senior.username),
    ]
    assert frames[0]["report"]["claimed_by"] == moderator.username
    with pytest.raises(Refused) as refusal:
        actions.do_release_report(report, actor=moderator)
    assert refusal.value.code == "conflict"


def test_reassign_hands_the_report_to_another_moderator(
    report, moderator, other_moderator, make_user, listen, django_capture_on_commit_callbacks
):
    consoles = listen(CONSOLE_GROUP)
    actions.do_claim_report(report, actor=moderator)
    with pytest.raises(Refused) as refusal:
        actions.do_reassign_report(report, actor=moderator, to_user=make_user("membre"))
    assert refusal.value.code == "invalid"
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_reassign_report(
            report, actor=moderator, to_user=other_moderator, reason="Je pars."
        )
    report.refresh_from_db()
    assert report.claimed_by == other_moderator and report.status == ReportStatus.CLAIMED
    (row,) = audit_rows(AuditEvent.REPORT_REASSIGNED, target_id=str(report.pk))
    assert row.details == {"from": moderator.pk, "to": other_moderator.pk}
    (frame,) = pushed(consoles)
    assert frame["event"] == "reassigned"
    assert frame["report"]["claimed_by"] == other_moderator.username
    # The one who handed it on holds it no more.
    with pytest.raises(Refused):
        actions.do_release_report(report, actor=moderator)


def test_escalation_to_the_seniors_reserves_the_report_to_them(
    report, moderator, senior, listen, django_capture_on_commit_callbacks
):
    consoles = listen(CONSOLE_GROUP)
    actions.do_claim_report(report, actor=moderator)
    with pytest.raises(Refused):
        actions.do_escalate_report(report, actor=moderator, tier=EscalationTier.SENIOR, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_escalate_report(
            report, actor=moderator, tier=EscalationTier.SENIOR, reason="Cas limite."
        )
    report.refresh_from_db()
    assert report.escalated_to == EscalationTier.SENIOR and report.escalated_at is not None
    assert report.status == ReportStatus.OPEN and report.claimed_by is None
    (row,) = audit_rows(AuditEvent.REPORT_ESCALATED, target_id=str(report.pk))
    assert row.reason == "Cas limite."
    assert row.details == {"tier": "senior", "previous_tier": None, "held_by": moderator.pk}
    (frame,) = pushed(consoles)
    assert frame["event"] == "escalated" and frame["report"]["escalated_to"] == "senior"
    # A plain moderator can neither claim nor decide it now; a senior can.
    for attempt in (
        lambda: actions.do_claim_report(report, actor=moderator),
        lambda: actions.do_dismiss_report(report, actor=moderator, reason="Rien."),
    ):
        with pytest.raises(Refused) as refusal:
            attempt()
        assert refusal.value.code == "forbidden"
    actions.do_claim_report(report, actor=senior)
    actions.do_dismiss_report(report, actor=senior, reason="Rien d'illicite.")
    report.refresh_from_db()
    assert report.status == ReportStatus.DISMISSED and report.decided_by == senior


def test_a_compliance_officer_opens_and_works_what_is_handed_to_compliance(
    report, moderator, make_staff
):
    officer = make_staff("compliance")
    client = grant_looks(staff_client(officer), "moderation.report")
    decide = f"/admin/moderation/report/{report.pk}/decide/"
    assert client.get(decide).status_code == 403
    with pytest.raises(Refused):
        actions.do_claim_report(report, actor=officer)
    actions.do_escalate_report(
        report, actor=moderator, tier=EscalationTier.COMPLIANCE, reason="Question juridique."
    )
    assert client.get(decide).status_code == 200
    response = client.post(f"/admin/moderation/report/{report.pk}/release/")
    assert response.status_code == 302  # nobody holds it: said on the page
    actions.do_claim_report(report, actor=officer)
    report.refresh_from_db()
    assert report.claimed_by == officer


def test_the_thread_between_the_moderator_and_the_reporter(
    report,
    reporter,
    moderator,
    other_moderator,
    make_user,
    mailoutbox,
    listen,
    django_capture_on_commit_callbacks,
):
    consoles = listen(CONSOLE_GROUP)
    # The reporter cannot start it; a moderator who does not hold the report cannot write.
    with pytest.raises(Refused) as refusal:
        actions.do_post_report_thread_message(report, actor=reporter, body="Alors ?")
    assert refusal.value.code == "forbidden"
    actions.do_claim_report(report, actor=moderator)
    with pytest.raises(Refused) as refusal:
        actions.do_post_report_thread_message(report, actor=other_moderator, body="Bonjour")
    assert refusal.value.code == "forbidden"
    with pytest.raises(Refused):
        actions.do_post_report_thread_message(report, actor=make_user("curieux"), body="Moi ?")
    with django_capture_on_commit_callbacks(execute=True):
        question = actions.do_post_report_thread_message(
            report, actor=moderator, body="Avez-vous vu <b>d'autres</b> messages ?"
        )
    assert question.from_staff and question.author == moderator
    (row,) = audit_rows(AuditEvent.REPORT_THREAD_MESSAGE, target_id=str(report.pk))
    assert row.details == {"message": question.pk, "from_staff": True, "group": report.pk}
    assert "autres" not in str(row.details) and row.reason == ""
    (mail,) = mailoutbox
    assert mail.to == [reporter.email] and f"/decisions/reports/{report.pk}/" in mail.body
    assert "autres" not in mail.body  # the text stays on the site
    assert pushed(consoles)[-1]["event"] == "thread"

    # The reporter reads it, escaped, on their report's page and answers there.
    client = Client()
    client.force_login(reporter)
    page = client.get(f"/decisions/reports/{report.pk}/").content.decode()
    assert "Avez-vous vu &lt;b&gt;d&#x27;autres&lt;/b&gt; messages ?" in page
    assert "la modération vous a écrit" in client.get("/decisions/").content.decode()
    response = client.post(f"/decisions/reports/{report.pk}/thread/", {"body": "Oui, hier."})
    assert response.status_code == 302
    answer = ReportThreadMessage.objects.get(from_staff=False)
    assert answer.author == reporter and answer.body == "Oui, hier."
    # Nobody else reads or writes it.
    stranger = Client()
    stranger.force_login(make_user("autre"))
    assert stranger.get(f"/decisions/reports/{report.pk}/").status_code == 404
    assert (
        stranger.post(f"/decisions/reports/{report.pk}/thread/", {"body": "x"}).status_code == 404
    )
    # Once decided, the thread is closed.
    actions.do_dismiss_report(report, actor=moderator, reason="Rien.")
    with pytest.raises(Refused) as refusal:
        actions.do_post_report_thread_message(report, actor=reporter, body="Encore")
    assert refusal.value.code == "conflict"


def test_the_report_page_offers_the_moves_and_they_work(
    report, reporter, moderator, other_moderator, senior
):
    client = grant_looks(staff_client(moderator), "moderation.report")
    page = f"/admin/moderation/report/{report.pk}/decide/"
    body = client.get(page).content.decode()
    assert "Transmettre" in body and "Confier" in body
    assert "Prenez le signalement en charge pour écrire" in body
    client.post(f"/admin/moderation/report/{report.pk}/claim/")
    response = client.post(
        f"/admin/moderation/report/{report.pk}/thread/", {"body": "Une <i>question</i>"}
    )
    assert response.status_code == 302
    body = client.get(page).content.decode()
    assert "Une &lt;i&gt;question&lt;/i&gt;" in body
    client.post(
        f"/admin/moderation/report/{report.pk}/reassign/",
        {"reassign-to_user": other_moderator.pk, "reassign-reason": ""},
    )
    report.refresh_from_db()
    assert report.claimed_by == other_moderator
    grant_looks(staff_client(other_moderator), "moderation.report").post(
        f"/admin/moderation/report/{report.pk}/refer/",
        {"refer-tier": "senior", "refer-reason": "Au-dessus de moi."},
    )
    report.refresh_from_db()
    assert report.escalated_to == "senior" and report.claimed_by is None
    # A member of the team without the senior permission is refused with a message.
    response = client.post(f"/admin/moderation/report/{report.pk}/claim/", follow=True)
    assert "modérateur senior" in response.content.decode()
    report.refresh_from_db()
    assert report.claimed_by is None
    assert client.get(f"/admin/moderation/report/{report.pk}/release/").status_code == 403
