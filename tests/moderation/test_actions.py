"""Moderation actions: state, audit rows and on-commit effects."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import Refused
from moderation import actions, queries
from moderation.dsa import AutomatedDecision, DsaCategory, SourceType
from moderation.models import (
    Appeal,
    AppealStatus,
    Ground,
    Measure,
    ModerationRecord,
    Notice,
    Report,
    ReportSource,
    ReportStatus,
    Sanction,
    Severity,
    StatementOfReasons,
    ThreatEscalation,
    TrustedFlagger,
)
from rooms.models import Message, RoomKind, room_group, user_group
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db


def audit_rows(event: AuditEvent, **filters):
    return list(AuditEntry.objects.filter(event=int(event), **filters).order_by("seq"))


@pytest.fixture
def author(make_user):
    return make_user("auteur")


@pytest.fixture
def reporter(make_user):
    return make_user("temoin")


@pytest.fixture
def reported(room, author, make_user):
    """A message with 15 messages before and 15 after it."""
    other = make_user("bavard")
    for number in range(15):
        post_message(room, other, f"avant {number}")
    message = post_message(room, author, "le message signalé")
    for number in range(15):
        post_message(room, other, f"après {number}")
    return message


# --- filing ------------------------------------------------------------------------------------


def test_a_message_report_keeps_the_context_even_after_deletion(reported, reporter):
    report = actions.do_file_report(
        actor=reporter, category="harassment", details="il insiste", message=reported
    )
    assert report.source == ReportSource.USER
    assert report.target_user == reported.author
    assert report.room == reported.room
    assert report.severity == Severity.HIGH
    bodies = [entry["body"] for entry in report.context]
    assert bodies == [f"avant {n}" for n in range(5, 15)] + ["le message signalé"] + [
        f"après {n}" for n in range(10)
    ]
    Message.objects.filter(room=reported.room).update(deleted_at=timezone.now(), body="")
    report.refresh_from_db()
    assert report.context[10]["body"] == "le message signalé"
    [row] = audit_rows(AuditEvent.REPORT_FILED, target_id=str(report.pk))
    assert row.actor_id == reporter.pk
    assert row.details["category"] == "harassment"
    assert row.details["message"] == reported.pk


def test_a_profile_report_snapshots_the_accounts_recent_messages(room, author, reporter):
    post_message(room, author, "bonjour tout le monde")
    report = actions.do_file_report(actor=reporter, category="scam", target_user=author)
    assert report.target_message is None
    assert report.target_user == author
    assert [entry["body"] for entry in report.context] == ["bonjour tout le monde"]
    assert report.severity == Severity.NORMAL
    assert audit_rows(AuditEvent.REPORT_FILED, target_id=str(report.pk))


@pytest.mark.parametrize(
    ("category", "severity"),
    [
        ("child_safety", Severity.URGENT),
        ("threat", Severity.URGENT),
        ("harassment", Severity.HIGH),
        ("hate", Severity.HIGH),
        ("sexual_content", Severity.HIGH),
        ("scam", Severity.NORMAL),
        ("illegal_other", Severity.NORMAL),
        ("spam", Severity.LOW),
        ("other", Severity.LOW),
    ],
)
def test_severity_and_deadline_follow_the_category(reported, reporter, category, severity):
    report = actions.do_file_report(actor=reporter, category=category, message=reported)
    assert report.severity == severity
    assert report.deadline > report.created


def test_reports_refuse_bad_input(reported, reporter, author):
    with pytest.raises(Refused) as refusal:
        actions.do_file_report(actor=reporter, category="rude", message=reported)
    assert refusal.value.code == "invalid"
    with pytest.raises(Refused):
        actions.do_file_report(
            actor=reporter, category="spam", details="x" * 2001, message=reported
        )
    with pytest.raises(Refused):
        actions.do_file_report(actor=author, category="spam", message=reported)
    with pytest.raises(Refused):
        actions.do_file_report(actor=reporter, category="spam", target_user=reporter)
    assert not Report.objects.exists()
    assert not audit_rows(AuditEvent.REPORT_FILED)


def test_a_message_of_a_private_room_the_reporter_cannot_read_is_not_found(
    make_room, make_user, reporter
):
    owner = make_user()
    private = make_room(RoomKind.PRIVATE, owner=owner)
    message = post_message(private, owner, "secret")
    with pytest.raises(Refused) as refusal:
        actions.do_file_report(actor=reporter, category="spam", message=message)
    assert refusal.value.code == "not_found"


def test_reports_on_one_message_are_grouped(reported, make_user):
    first = actions.do_file_report(actor=make_user(), category="spam", message=reported)
    second = actions.do_file_report(actor=make_user(), category="threat", message=reported)
    again = actions.do_file_report(actor=second.reporter, category="threat", message=reported)
    assert again == second  # the same person counts once
    first.refresh_from_db()
    assert second.duplicate_of == first
    assert first.reporter_count == 2
    assert first.severity == Severity.URGENT  # raised by the more severe report
    assert list(queries.open_queue()) == [first]


def test_a_trusted_flagger_is_marked(reported, make_user):
    flagger = make_user()
    TrustedFlagger.objects.create(user=flagger, organisation="e-Enfance")
    report = actions.do_file_report(actor=flagger, category="hate", message=reported)
    assert report.source == ReportSource.TRUSTED_FLAGGER
    assert report.is_trusted_flagger


def test_queue_order(room, make_user):
    def message():
        return post_message(room, make_user(), "texte")

    spam_old = actions.do_file_report(actor=make_user(), category="spam", message=message())
    hate = actions.do_file_report(actor=make_user(), category="hate", message=message())
    hate_twice = actions.do_file_report(actor=make_user(), category="hate", message=message())
    actions.do_file_report(actor=make_user(), category="hate", message=hate_twice.target_message)
    flagger = make_user()
    TrustedFlagger.objects.create(user=flagger, organisation="Point de Contact")
    hate_flagger = actions.do_file_report(actor=flagger, category="hate", message=message())
    child = actions.do_file_report(actor=make_user(), category="child_safety", message=message())
    threat = actions.do_file_report(actor=make_user(), category="threat", message=message())
    Report.objects.filter(pk=spam_old.pk).update(created=timezone.now() - timedelta(days=3))
    assert list(queries.open_queue()) == [child, threat, hate_flagger, hate_twice, hate, spam_old]


def test_threat_to_life_creates_an_escalation_record(reported, reporter):
    report = actions.do_file_report(
        actor=reporter, category="threat", message=reported, threat_to_life=True
    )
    [escalation] = ThreatEscalation.objects.filter(report=report)
    info = escalation.information
    assert info["suspect"]["username"] == "auteur"
    assert info["message"]["body"] == "le message signalé"
    assert info["authorities"] == {
        "pharos": "https://www.internet-signalement.gouv.fr",
        "police": "17",
        "emergency": "112",
    }
    [row] = audit_rows(AuditEvent.THREAT_ESCALATED)
    assert row.details["report"] == report.pk
    actions.do_mark_escalation_transmitted(
        escalation, actor=reporter, authority="pharos", reference="PH-42"
    )
    assert audit_rows(AuditEvent.ESCALATION_TRANSMITTED)[0].details["reference"] == "PH-42"


def test_an_alert_attaches_the_conversation(make_user, mailoutbox):
    from rooms import actions as room_actions

    victim, stranger = make_user("victime"), make_user("inconnu")
    direct = room_actions.do_open_direct_room(victim, actor=stranger)
    post_message(direct, stranger, "viens seule")
    report = actions.do_file_alert(direct, actor=victim, details="j'ai peur", threat_to_life=True)
    assert report.source == ReportSource.ALERT
    assert report.severity == Severity.URGENT
    assert report.target_user == stranger
    assert [entry["body"] for entry in report.context] == ["viens seule"]
    assert ThreatEscalation.objects.filter(report=report).exists()
    assert audit_rows(AuditEvent.REPORT_FILED, target_id=str(report.pk))
    outsider = make_user()
    with pytest.raises(Refused):
        actions.do_file_alert(direct, actor=outsider)


def test_a_public_notice_is_acknowledged_and_finds_the_message(
    reported, mailoutbox, django_capture_on_commit_callbacks
):
    url = f"http://127.0.0.1:8000/rooms/{reported.room.slug}/#message-{reported.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        notice = actions.do_file_notice(
            category="illegal_other",
            explanation="Vente de stupéfiants.",
            location=url,
            good_faith=True,
            email="citoyen@example.org",
        )
    [report] = Report.objects.filter(notice=notice)
    assert report.source == ReportSource.NOTICE
    assert report.target_message == reported
    assert report.reporter is None
    assert notice.acknowledged_at is not None
    [mail] = mailoutbox
    assert mail.to == ["citoyen@example.org"]
    # A reference, never the submitted URL: the form must relay nobody's content.
    assert url not in mail.body and "#message-" not in mail.body
    assert f"Référence de la notification : {notice.pk}" in mail.body
    [row] = audit_rows(AuditEvent.NOTICE_FILED)
    assert row.actor_id is None
    assert row.details["report"] == report.pk


@pytest.mark.parametrize(
    "fields",
    [
        {"location": "http://a.example/", "good_faith": False},
        {"location": "javascript:alert(1)", "good_faith": True},
        {"location": "http://a.example/", "good_faith": True, "email": "pas-une-adresse"},
    ],
)
def test_a_bad_notice_is_refused(fields):
    with pytest.raises(Refused):
        actions.do_file_notice(category="spam", explanation="x", **fields)
    assert not Notice.objects.exists()


# --- deciding ----------------------------------------------------------------------------------


def test_claim_then_decide_removes_bans_and_tells_everyone(
    reported,
    make_user,
    moderator,
    other_moderator,
    mailoutbox,
    listen,
    django_capture_on_commit_callbacks,
):
    room_events = listen(room_group(reported.room_id))
    author_events = listen(user_group(reported.author_id))
    first = actions.do_file_report(actor=make_user(), category="hate", message=reported)
    second = actions.do_file_report(actor=make_user(), category="hate", message=reported)
    actions.do_claim_report(second, actor=moderator)  # claims the group's primary
    first.refresh_from_db()
    assert first.status == ReportStatus.CLAIMED and first.claimed_by == moderator
    with pytest.raises(Refused) as refusal:
        actions.do_claim_report(first, actor=other_moderator)
    assert refusal.value.code == "conflict"
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_decide_report(
            first,
            actor=moderator,
            decision="Propos haineux répétés.",
            remove_message=True,
            sanction_kind="ban",
            duration_minutes=60 * 24,
        )
    reported.refresh_from_db()
    assert reported.deleted_at is not None and reported.deleted_by == moderator
    for report in (first, second):
        report.refresh_from_db()
        assert report.status == ReportStatus.ACTIONED
        assert report.decision == "Propos haineux répétés."
    [ban] = Sanction.objects.all()
    assert ban.kind == "ban" and ban.room is None and ban.report == first
    assert ban.ends_at - ban.starts_at == timedelta(days=1)
    measures = sorted(StatementOfReasons.objects.values_list("measure", flat=True))
    assert measures == ["ban", "removal"]
    # The author gets two statements, each reporter the outcome.
    recipients = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients == sorted(
        [reported.author.email] * 2 + [first.reporter.email, second.reporter.email]
    )
    # Once committed, the room hides the message and the banned author's sockets close.
    assert room_events() == [{"type": "room.message_deleted", "id": reported.id}]
    assert author_events() == [{"type": "user.close", "code": 4403, "room": None}]
    assert ModerationRecord.objects.get(user=reported.author).violations == 2
    assert audit_rows(AuditEvent.REPORT_CLAIMED)
    [decided] = audit_rows(AuditEvent.REPORT_ACTIONED)
    assert decided.details["group"] == [first.pk, second.pk]
    # No ground nor rule given: the category's (hate) rule, R5, on every record.
    assert decided.details["clause"] == "R5"
    assert {first.clause, second.clause, ban.clause} == {"R5"}
    assert set(StatementOfReasons.objects.values_list("clause", flat=True)) == {"R5"}
    # Reporters are told which rule was applied, with its link.
    [outcome] = [mail for mail in mailoutbox if first.reporter.email in mail.to]
    assert "R5 · Pas de haine ni de discrimination" in outcome.body
    assert "/rules/#R5" in outcome.body
    assert audit_rows(AuditEvent.MESSAGE_REMOVED)[0].details["clause"] == "R5"
    assert audit_rows(AuditEvent.MESSAGE_REMOVED)[0].target_id == str(reported.pk)
    assert audit_rows(AuditEvent.SANCTION_ISSUED)[0].details["kind"] == "ban"
    with pytest.raises(Refused):
        actions.do_dismiss_report(first, actor=moderator, reason="déjà fait")


def test_dismissing_as_manifestly_unfounded_marks_the_group_and_counts(
    reported, make_user, moderator
):
    # The warning and the suspension that may follow: tests/moderation/test_misuse.py.
    first, second = make_user(), make_user()
    report = actions.do_file_report(actor=first, category="spam", message=reported)
    actions.do_file_report(actor=second, category="spam", message=reported)
    actions.do_dismiss_report(
        report, actor=moderator, reason="Rien à redire.", manifestly_unfounded=True
    )
    assert Report.objects.filter(manifestly_unfounded=True).count() == 2
    assert ModerationRecord.objects.get(user=first).unfounded_reports == 1
    assert ModerationRecord.objects.get(user=second).unfounded_reports == 1
    [dismissal] = audit_rows(AuditEvent.REPORT_DISMISSED)
    assert dismissal.details["manifestly_unfounded"] is True
    assert not audit_rows(AuditEvent.REPORTING_SUSPENDED)


# --- sanctions, statements, appeals --------------------------------------------------------------


def test_a_sanction_needs_a_reason_and_a_valid_duration(author, moderator):
    for kwargs in (
        {"kind": "ban", "reason": ""},
        {"kind": "slap", "reason": "r"},
        {"kind": "mute", "reason": "r", "duration_minutes": 0},
        {"kind": "mute", "reason": "r", "duration_minutes": "10"},
    ):
        with pytest.raises(Refused):
            actions.do_issue_sanction(author, actor=moderator, **kwargs)
    assert not Sanction.objects.exists()
    assert not audit_rows(AuditEvent.SANCTION_ISSUED)


def test_the_statement_of_reasons_says_everything_art_17_asks(
    room, author, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sanction = actions.do_issue_sanction(
            author,
            actor=moderator,
            kind="mute",
            room=room,
            duration_minutes=90,
            reason="Insultes envers plusieurs membres.",
            ground=Ground.TERMS_HARASSMENT,
        )
    statement = sanction.statement
    assert statement.user == author
    assert statement.measure == Measure.MUTE
    assert statement.scope == "le salon « Général »"
    assert statement.ends_at - statement.starts_at == timedelta(minutes=90)
    assert statement.facts == "Insultes envers plusieurs membres."
    assert not statement.automated_detection
    assert statement.automated_decision == AutomatedDecision.NOT_AUTOMATED
    # What the DSA Transparency Database asks: own initiative, its category, the EEA.
    assert statement.source_type == SourceType.VOLUNTARY
    assert statement.category == DsaCategory.NON_CONSENSUAL_BEHAVIOUR
    assert "FR" in statement.territorial_scope and len(statement.territorial_scope) == 30
    assert statement.ground == Ground.TERMS_HARASSMENT
    # The ground's usual rule is cited and linked (R4, "Pas de harcèlement").
    assert statement.clause == sanction.clause == "R4"
    assert "règle R4" in statement.explanation
    assert "http://127.0.0.1:8000/rules/#R4" in statement.explanation
    assert "/decisions/" in statement.redress and "article 21" in statement.redress
    assert statement.decided_by == moderator
    assert statement.appeal_until - statement.created >= timedelta(days=182)
    [row] = audit_rows(AuditEvent.SANCTION_ISSUED)
    assert row.reason == "Insultes envers plusieurs membres."
    assert row.details["room"] == room.pk
    assert row.details["clause"] == "R4"
    # The mail names the rule and links it.
    [mail] = mailoutbox
    assert "R4 · Pas de harcèlement" in mail.body
    assert "http://127.0.0.1:8000/rules/#R4" in mail.body


def test_a_kick_without_duration_is_temporary(room, author, moderator):
    kick = actions.do_issue_sanction(author, actor=moderator, kind="kick", room=room, reason="r")
    assert kick.ends_at - kick.starts_at == timedelta(minutes=actions.DEFAULT_KICK_MINUTES)


def test_timed_sanctions_expire_by_themselves(room, author, moderator):
    mute = actions.do_issue_sanction(
        author, actor=moderator, kind="mute", duration_minutes=30, reason="r"
    )
    assert queries.active_sanctions(author, room, ["mute"]).get() == mute
    # Move the sanction half an hour into the past: it has run its course.
    Sanction.objects.filter(pk=mute.pk).update(
        starts_at=mute.starts_at - timedelta(minutes=31),
        ends_at=mute.ends_at - timedelta(minutes=31),
    )
    assert not queries.active_sanctions(author, room, ["mute"]).exists()


def test_lifting_a_sanction(author, moderator):
    ban = actions.do_issue_sanction(author, actor=moderator, kind="ban", reason="r")
    actions.do_lift_sanction(ban, actor=moderator, reason="Erreur de personne.")
    ban.refresh_from_db()
    assert not ban.is_active
    assert audit_rows(AuditEvent.SANCTION_LIFTED)[0].reason == "Erreur de personne."
    with pytest.raises(Refused):
        actions.do_lift_sanction(ban, actor=moderator, reason="encore")


def test_an_appeal_is_refused_to_the_deciding_moderator(
    author, moderator, other_moderator, mailoutbox
):
    ban = actions.do_issue_sanction(author, actor=moderator, kind="ban", reason="Spam.")
    appeal = actions.do_file_appeal(ban.statement, actor=author, text="Ce n'était pas moi.")
    with pytest.raises(Refused) as refusal:
        actions.do_decide_appeal(appeal, actor=moderator, reverse_decision=True, answer="ok")
    assert refusal.value.code == "forbidden"
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.OPEN
    actions.do_decide_appeal(
        appeal, actor=other_moderator, reverse_decision=True, answer="Compte piraté, établi."
    )
    appeal.refresh_from_db()
    ban.refresh_from_db()
    assert appeal.status == AppealStatus.REVERSED and appeal.decided_by == other_moderator
    assert ban.lifted_at is not None
    assert audit_rows(AuditEvent.APPEAL_FILED)[0].target_id == str(appeal.pk)
    assert audit_rows(AuditEvent.APPEAL_DECIDED)[0].actor_id == other_moderator.pk
    assert audit_rows(AuditEvent.SANCTION_LIFTED)


def test_appeals_are_open_six_months_once_and_only_to_the_user(author, moderator, make_user):
    warning = actions.do_issue_sanction(author, actor=moderator, kind="warn", reason="r")
    statement = warning.statement
    with pytest.raises(Refused):
        actions.do_file_appeal(statement, actor=make_user(), text="moi aussi")
    StatementOfReasons.objects.filter(pk=statement.pk).update(
        appeal_until=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(Refused):
        actions.do_file_appeal(statement, actor=author, text="trop tard")
    StatementOfReasons.objects.filter(pk=statement.pk).update(
        appeal_until=timezone.now() + timedelta(days=1)
    )
    actions.do_file_appeal(statement, actor=author, text="je conteste")
    with pytest.raises(Refused):
        actions.do_file_appeal(statement, actor=author, text="deux fois")
    assert Appeal.objects.count() == 1


def test_a_reversed_removal_puts_the_message_back(reported, moderator, other_moderator):
    actions.do_remove_message(reported, actor=moderator, reason="Hors sujet.")
    statement = StatementOfReasons.objects.get(message=reported)
    appeal = actions.do_file_appeal(statement, actor=reported.author, text="Pas hors sujet.")
    actions.do_decide_appeal(appeal, actor=other_moderator, reverse_decision=True, answer="Soit.")
    reported.refresh_from_db()
    assert reported.deleted_at is None


def test_the_users_own_moderation_data_for_export(reported, reporter, moderator):
    report = actions.do_file_report(actor=reporter, category="spam", message=reported)
    actions.do_decide_report(
        report, actor=moderator, decision="Spam avéré.", sanction_kind="mute", duration_minutes=5
    )
    author_data = queries.user_export(reported.author)
    assert [s["kind"] for s in author_data["sanctions"]] == ["mute"]
    assert author_data["statements_of_reasons"][0]["facts"] == "Spam avéré."
    reporter_data = queries.user_export(reporter)
    assert reporter_data["reports"][0]["decision"] == "Spam avéré."
    assert reporter_data["sanctions"] == []


def test_the_recipient_of_a_held_first_contact_can_report_it(make_user):
    from rooms import actions as room_actions

    recipient, sender = make_user(), make_user()
    direct = room_actions.do_open_direct_room(recipient, actor=sender)
    first = post_message(direct, sender, "t'as quel âge ?")
    report = actions.do_file_report(actor=recipient, category="child_safety", message=first)
    assert report.target_user == sender and report.severity == Severity.URGENT


def test_a_reporter_contests_a_dismissal_and_another_moderator_reopens_it(
    reported, reporter, moderator, other_moderator
):
    report = actions.do_file_report(actor=reporter, category="harassment", message=reported)
    with pytest.raises(Refused):
        actions.do_file_report_appeal(report, actor=reporter, text="Pas encore décidé.")
    actions.do_dismiss_report(report, actor=moderator, reason="Rien de grave.")
    report.refresh_from_db()
    assert report.can_appeal
    with pytest.raises(Refused) as refusal:
        actions.do_file_report_appeal(report, actor=moderator, text="Pas le mien.")
    assert refusal.value.code == "not_found"
    appeal = actions.do_file_report_appeal(report, actor=reporter, text="Il me harcèle depuis.")
    with pytest.raises(Refused):
        actions.do_decide_appeal(appeal, actor=moderator, reverse_decision=True, answer="Soit.")
    actions.do_decide_appeal(
        appeal, actor=other_moderator, reverse_decision=True, answer="À réexaminer."
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN and report.claimed_by is None
    assert list(queries.open_queue()) == [report]
    [filed] = audit_rows(AuditEvent.APPEAL_FILED)
    assert filed.details["report"] == report.pk
    assert audit_rows(AuditEvent.APPEAL_DECIDED)[0].details["report"] == report.pk


# --- the rule a decision cites (moderation/rules.py) -------------------------------------------


def test_a_sanction_cites_the_rule_the_moderator_chose(room, author, moderator):
    sanction = actions.do_issue_sanction(
        author,
        actor=moderator,
        kind="ban",
        reason="Rendez-vous piège proposé à un membre.",
        clause="R7",
    )
    # The ground follows from the rule when it is not given.
    assert (sanction.clause, sanction.ground) == ("R7", Ground.TERMS_VIOLENCE)
    statement = sanction.statement
    assert statement.clause == "R7"
    assert statement.cited_rule.get_absolute_url() == "/rules/#R7"
    [row] = audit_rows(AuditEvent.SANCTION_ISSUED)
    assert row.details["clause"] == "R7" and row.details["ground"] == "terms_violence"


def test_a_chosen_rule_and_a_chosen_ground_are_both_kept(room, author, moderator):
    sanction = actions.do_issue_sanction(
        author,
        actor=moderator,
        kind="warn",
        reason="r",
        ground=Ground.ILLEGAL,
        clause="R5",
        legal_provision="L1881-24",
    )
    assert (sanction.ground, sanction.clause) == (Ground.ILLEGAL, "R5")
    assert sanction.statement.legal_provision == "L1881-24"


def test_without_rule_nor_ground_nothing_is_cited(room, author, moderator):
    sanction = actions.do_issue_sanction(author, actor=moderator, kind="warn", reason="r")
    assert (sanction.ground, sanction.clause) == (Ground.TERMS_OTHER, "")
    assert sanction.statement.cited_rule is None
    assert "règle R" not in sanction.statement.explanation
    assert audit_rows(AuditEvent.SANCTION_ISSUED)[0].details["clause"] == ""


@pytest.mark.parametrize("clause", ["R99", "T1", "R13", "r4", 4, ["R4"]])
def test_an_unknown_or_non_citable_rule_is_refused_and_nothing_stored(
    room, author, moderator, clause
):
    with pytest.raises(Refused) as refusal:
        actions.do_issue_sanction(author, actor=moderator, kind="ban", reason="r", clause=clause)
    assert refusal.value.code == "invalid"
    assert "R1, R2" in refusal.value.detail
    assert not Sanction.objects.exists() and not StatementOfReasons.objects.exists()
    assert not audit_rows(AuditEvent.SANCTION_ISSUED)


def test_a_removal_cites_its_rule(reported, moderator):
    actions.do_remove_message(reported, actor=moderator, reason="Adresse publiée.", clause="R6")
    statement = StatementOfReasons.objects.get(message=reported)
    assert (statement.clause, statement.ground) == ("R6", Ground.TERMS_PERSONAL_DATA)
    [row] = audit_rows(AuditEvent.MESSAGE_REMOVED)
    assert row.details["clause"] == "R6"


def test_a_report_decision_records_the_chosen_rule(reported, reporter, moderator):
    report = actions.do_file_report(actor=reporter, category="harassment", message=reported)
    actions.do_decide_report(
        report, actor=moderator, decision="Insistance.", sanction_kind="warn", clause="R4"
    )
    report.refresh_from_db()
    assert report.clause == "R4"
    assert Sanction.objects.get().clause == "R4"
    [row] = audit_rows(AuditEvent.REPORT_ACTIONED)
    assert row.details["clause"] == "R4"


def test_a_bad_rule_leaves_the_report_open(reported, reporter, moderator):
    report = actions.do_file_report(actor=reporter, category="spam", message=reported)
    with pytest.raises(Refused):
        actions.do_decide_report(
            report, actor=moderator, decision="d", remove_message=True, clause="R0"
        )
    report.refresh_from_db()
    reported.refresh_from_db()
    assert report.is_open and report.clause == ""
    assert reported.deleted_at is None


def test_the_export_names_the_rule(reported, moderator):
    actions.do_remove_message(reported, actor=moderator, reason="Spam.", clause="R10")
    data = queries.user_export(reported.author)
    assert data["statements_of_reasons"][0]["clause"] == "R10"
