"""Statements of reasons as the DSA Transparency Database expects them (issue 16,
item 4): the legal provision of an illegal-content decision, what a decision
followed, automated detection, and statements for held-message rejections,
filter blocks and the admin's bulk removals."""

import pytest

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import RefusalCode, Refused
from moderation import actions
from moderation.dsa import AutomatedDecision, DsaCategory, SourceType
from moderation.legal_provisions import PROVISIONS, provision
from moderation.models import (
    FilterAction,
    FilterKind,
    FilterRule,
    Ground,
    HeldMessage,
    Measure,
    Notice,
    Report,
    ReportSource,
    Sanction,
    StatementOfReasons,
    TrustedFlagger,
)
from rooms import actions as room_actions
from rooms.models import Message
from tests.conftest import grant_model_looks, staff_client
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db


def audit_rows(event):
    return list(AuditEntry.objects.filter(event=int(event)).order_by("seq"))


@pytest.fixture
def author(make_user):
    return make_user("auteur")


@pytest.fixture
def reporter(make_user):
    return make_user("temoin")


@pytest.fixture
def message(room, author, reporter):
    from rooms.models import RoomMembership

    RoomMembership.objects.get_or_create(room=room, user=reporter)
    return post_message(room, author, "un message haineux")


# --- the legal provision ------------------------------------------------------------------------


def test_the_catalogue_covers_what_a_moderator_meets():
    codes = {item.code for item in PROVISIONS}
    # Harassment, threats, hate, CSAM and grooming, non-consensual images, fraud.
    assert {"CP-222-33-2-2", "CP-222-17", "L1881-24", "L1881-33", "CP-227-23"} <= codes
    assert {"CP-227-22-1", "CP-226-2-1", "CP-313-1"} <= codes
    assert len(codes) == len(PROVISIONS), "codes are unique"
    assert all(item.url.startswith("https://www.legifrance.gouv.fr/") for item in PROVISIONS)
    assert provision("CP-227-23").category == DsaCategory.PROTECTION_OF_MINORS


def test_an_illegal_content_decision_must_name_its_provision(message, moderator):
    with pytest.raises(Refused) as refusal:
        actions.do_remove_message(message, actor=moderator, reason="r", ground=Ground.ILLEGAL)
    assert refusal.value.code == RefusalCode.INVALID
    assert "legal_provision" in refusal.value.detail
    message.refresh_from_db()
    assert message.deleted_at is None
    assert not StatementOfReasons.objects.exists()
    # R11 ("Rien d'illégal") alone is the illegal-content ground too.
    with pytest.raises(Refused):
        actions.do_remove_message(message, actor=moderator, reason="r", clause="R11")


@pytest.mark.parametrize(
    ("ground", "code"),
    [(None, "CP-999"), (Ground.TERMS_HATE, "L1881-24"), (None, ["L1881-24"])],
)
def test_an_unknown_provision_or_one_with_a_terms_ground_is_refused(
    message, moderator, ground, code
):
    with pytest.raises(Refused) as refusal:
        actions.do_remove_message(
            message, actor=moderator, reason="r", ground=ground, legal_provision=code
        )
    assert refusal.value.code == RefusalCode.INVALID
    assert not StatementOfReasons.objects.exists()


def test_the_statement_names_and_links_the_provision(
    message, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_remove_message(
            message, actor=moderator, reason="Appel à la haine.", legal_provision="L1881-24"
        )
    statement = StatementOfReasons.objects.get(message=message)
    assert statement.ground == Ground.ILLEGAL and statement.clause == "R11"
    assert statement.legal_provision == "L1881-24"
    assert statement.category == DsaCategory.ILLEGAL_OR_HARMFUL_SPEECH
    assert "Loi du 29 juillet 1881, art. 24" in statement.explanation
    assert "legifrance.gouv.fr" in statement.explanation
    assert "règle R11" in statement.explanation  # the rule cited with it
    assert statement.content_date == message.created
    assert audit_rows(AuditEvent.MESSAGE_REMOVED)[0].details["legal_provision"] == "L1881-24"
    [mail] = mailoutbox
    assert "Loi du 29 juillet 1881, art. 24" in mail.body


def test_the_member_page_shows_the_provision_source_and_category(message, moderator, author):
    actions.do_remove_message(message, actor=moderator, reason="r", legal_provision="CP-222-17")
    statement = StatementOfReasons.objects.get()
    page = staff_client(author, otp_verified=False).get(statement.get_absolute_url())
    assert page.status_code == 200
    assert "Code pénal, art. 222-17" in page.text
    assert "initiative propre" in page.text  # no report behind it
    assert "violence" in page.text


# --- what the decision followed ------------------------------------------------------------------


def _decide(report, moderator, **fields):
    return actions.do_decide_report(
        report, actor=moderator, decision="Décision.", remove_message=True, **fields
    )


@pytest.mark.parametrize(
    ("category", "expected"),
    [("harassment", SourceType.ARTICLE_16), ("spam", SourceType.OTHER_NOTIFICATION)],
)
def test_a_members_report_is_a_notice_unless_it_is_only_about_the_terms(
    message, reporter, moderator, category, expected
):
    report = actions.do_file_report(actor=reporter, category=category, message=message)
    _decide(report, moderator)
    statement = StatementOfReasons.objects.get()
    assert statement.source_type == expected
    assert statement.report == report
    assert not statement.automated_detection


def test_a_trusted_flaggers_report_and_a_public_notice(message, reporter, moderator):
    TrustedFlagger.objects.create(user=reporter, organisation="Association")
    flagged = actions.do_file_report(actor=reporter, category="hate", message=message)
    _decide(flagged, moderator)
    assert StatementOfReasons.objects.get().source_type == SourceType.TRUSTED_FLAGGER

    other = post_message(message.room, message.author, "encore")
    notice = Notice.objects.create(
        explanation="illégal", location="https://chat.example/", good_faith=True
    )
    from_notice = Report.objects.create(
        category="threat",
        source=ReportSource.NOTICE,
        notice=notice,
        target_message=other,
        target_user=other.author,
        severity=1,
        deadline=notice.created,
    )
    _decide(from_notice, moderator, legal_provision="CP-222-17")
    statement = StatementOfReasons.objects.get(message=other)
    assert statement.source_type == SourceType.ARTICLE_16
    assert statement.category == DsaCategory.VIOLENCE


def test_a_filter_flag_decided_by_a_moderator_says_automated_detection(
    room, make_user, moderator, django_capture_on_commit_callbacks
):
    FilterRule.objects.create(
        name="coordonnées", kind=FilterKind.CONTACT, action=FilterAction.FLAG, category="scam"
    )
    with django_capture_on_commit_callbacks(execute=True):
        room_actions.do_post_message(room, "écris-moi : a@example.org", actor=make_user())
    report = Report.objects.get(source=ReportSource.AUTOMATIC)
    _decide(report, moderator)
    statement = StatementOfReasons.objects.get()
    assert statement.automated_detection is True
    assert statement.automated_decision == AutomatedDecision.NOT_AUTOMATED
    assert statement.source_type == SourceType.VOLUNTARY
    assert statement.category == DsaCategory.SCAMS_AND_FRAUD


# --- held messages, filter blocks ------------------------------------------------------------


def test_rejecting_a_held_message_writes_its_statement(
    room, make_user, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    FilterRule.objects.create(
        name="coordonnées",
        kind=FilterKind.CONTACT,
        action=FilterAction.HOLD,
        ground=Ground.TERMS_PERSONAL_DATA,
    )
    sender = make_user("expediteur")
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "appelle-moi au 06 12 34 56 78", actor=sender)
    held = HeldMessage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_reject_held_message(held, actor=moderator, reason="Coordonnées en public.")
    statement = StatementOfReasons.objects.get()
    assert (statement.user, statement.measure) == (sender, Measure.REJECTION)
    assert statement.message is None  # it never reached the room
    assert "06 12 34 56 78" in statement.facts and "Coordonnées en public." in statement.facts
    assert (statement.ground, statement.clause) == (Ground.TERMS_PERSONAL_DATA, "R6")
    assert statement.automated_detection is True
    assert statement.automated_decision == AutomatedDecision.PARTIALLY
    assert statement.decided_by == moderator
    assert statement.content_date == held.created
    [row] = audit_rows(AuditEvent.HELD_MESSAGE_REJECTED)
    assert row.details["statement"] == statement.pk
    [mail] = mailoutbox
    assert mail.to == [sender.email]


def test_a_rejection_may_rest_on_the_law(room, make_user, moderator):
    FilterRule.objects.create(name="mots", kind=FilterKind.WORDS, pattern="sale", action="hold")
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "sale race", actor=make_user())
    held = HeldMessage.objects.get()
    with pytest.raises(Refused):
        actions.do_reject_held_message(held, actor=moderator, reason="r", ground=Ground.ILLEGAL)
    actions.do_reject_held_message(held, actor=moderator, reason="r", legal_provision="L1881-33")
    assert StatementOfReasons.objects.get().legal_provision == "L1881-33"


def test_a_filter_block_writes_a_fully_automated_statement(room, make_user, mailoutbox):
    FilterRule.objects.create(
        name="arnaques",
        kind=FilterKind.WORDS,
        pattern="viagra",
        action=FilterAction.BLOCK,
        ground=Ground.TERMS_SCAM,
    )
    sender = make_user("vendeur")
    with pytest.raises(Refused) as refusal:
        room_actions.do_post_message(room, "Du VIAGRA pas cher", actor=sender)
    assert refusal.value.code == RefusalCode.FILTERED
    assert not Message.objects.exists()
    statement = StatementOfReasons.objects.get()
    assert (statement.user, statement.measure) == (sender, Measure.BLOCK)
    assert statement.automated_decision == AutomatedDecision.FULLY
    assert statement.automated_detection and statement.decided_by is None
    assert (statement.ground, statement.clause) == (Ground.TERMS_SCAM, "R9")
    assert statement.category == DsaCategory.SCAMS_AND_FRAUD
    assert "VIAGRA" in statement.facts
    [row] = audit_rows(AuditEvent.MESSAGE_BLOCKED)
    assert row.target_id == str(statement.pk) and row.actor_id is None
    assert mailoutbox == []  # the sender saw the refusal; the statement waits on the page


def test_an_automatic_filter_resting_on_the_law_needs_no_provision(room, make_user):
    FilterRule.objects.create(
        name="loi", kind=FilterKind.WORDS, pattern="interdit", action="mute", ground="illegal"
    )
    room_actions.do_post_message(room, "mot interdit", actor=make_user())
    statement = Sanction.objects.get().statement
    assert statement.ground == Ground.ILLEGAL and statement.legal_provision == ""
    assert statement.automated_decision == AutomatedDecision.FULLY


# --- the admin's bulk removal -------------------------------------------------------------------


def test_the_admins_bulk_removal_writes_a_statement_for_each(room, make_user, moderator, make_room):
    first = post_message(room, make_user("un"), "pub 1")
    second = post_message(room, make_user("deux"), "pub 2")
    client = staff_client(moderator)
    response = client.post(
        "/admin/rooms/message/",
        {"action": "bulk_remove", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    confirm = response["Location"]
    assert confirm.startswith("/admin/rooms/message/bulk/remove/")
    page = client.get(confirm)
    assert page.status_code == 200
    assert 'name="legal_provision"' in page.text and 'name="clause"' in page.text
    ids = f"{first.pk},{second.pk}"
    # Illegal content without its provision: refused for each, nothing removed.
    client.post(confirm, {"ids": ids, "reason": "Publicité.", "ground": "illegal"})
    assert not StatementOfReasons.objects.exists()
    response = client.post(confirm, {"ids": ids, "reason": "Publicité.", "clause": "R10"})
    assert response.status_code == 302
    statements = StatementOfReasons.objects.order_by("pk")
    assert [s.message for s in statements] == [first, second]
    assert {(s.measure, s.clause, s.decided_by) for s in statements} == {
        (Measure.REMOVAL, "R10", moderator)
    }
    first.refresh_from_db()
    assert first.deleted_by == moderator and first.deleted_at is not None
    assert len(audit_rows(AuditEvent.MESSAGE_REMOVED)) == 2


def test_the_decision_page_asks_the_provision_for_illegal_content(message, reporter, moderator):
    report = actions.do_file_report(actor=reporter, category="illegal_other", message=message)
    client = grant_model_looks(staff_client(moderator))  # the reason gate: tests/audit
    url = f"/admin/moderation/report/{report.pk}/decide/"
    page = client.get(url).text
    assert '<option value="CP-227-23">Code pénal, art. 227-23' in page
    # Ground illegal content (chosen: no default, issue 18): without a provision, refused.
    refused = client.post(
        url, {"outcome": "remove", "ground": "illegal", "reason": "Contenu illégal."}
    )
    assert refused.status_code == 200
    assert "disposition légale" in refused.text
    report.refresh_from_db()
    assert report.is_open and not StatementOfReasons.objects.exists()
    done = client.post(
        url,
        {
            "outcome": "remove",
            "ground": "illegal",
            "reason": "Contenu illégal.",
            "legal_provision": "CP-313-1",
        },
    )
    assert done.status_code == 302
    statement = StatementOfReasons.objects.get()
    assert statement.legal_provision == "CP-313-1"
    assert statement.category == DsaCategory.SCAMS_AND_FRAUD
    assert statement.source_type == SourceType.ARTICLE_16


def test_a_refusal_reversed_on_appeal_publishes_the_held_message(
    room, make_user, moderator, other_moderator
):
    FilterRule.objects.create(name="liens", kind=FilterKind.LINKS, action=FilterAction.HOLD)
    sender = make_user("expediteur")
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "ma recette : https://cuisine.example", actor=sender)
    held = HeldMessage.objects.get()
    actions.do_reject_held_message(held, actor=moderator, reason="Lien.")
    statement = StatementOfReasons.objects.get()
    assert statement.held_message == held
    appeal = actions.do_file_appeal(statement, actor=sender, text="C'est une recette.")
    actions.do_decide_appeal(
        appeal, actor=other_moderator, reverse_decision=True, answer="Lien inoffensif."
    )
    published = Message.objects.get()
    assert (published.author, published.body) == (sender, "ma recette : https://cuisine.example")
    held.refresh_from_db()
    assert held.status == "released" and held.message == published
    row = audit_rows(AuditEvent.HELD_MESSAGE_RELEASED)[-1]
    assert row.details["appeal"] == appeal.pk and row.details["published"] is True
    assert row.actor_id == other_moderator.pk
