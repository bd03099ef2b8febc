"""Child safety (issue 16 item 8): the self-declared-minor, request-to-a-minor and
sextortion signals as rooms' post path runs them, and the PHAROS notification
(DSA Art. 18) a child-safety decision opens."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import RefusalCode, Refused
from moderation import actions, detection, policy_hooks, queries
from moderation.models import (
    EscalationItem,
    EscalationReason,
    Report,
    ReportCategory,
    ReportSource,
    SafetySignal,
    SafetySignalKind,
    Severity,
    ThreatEscalation,
)
from rooms import actions as room_actions
from rooms.models import ContactRequest, Message, RoomKind, room_group
from tests.conftest import otp_verified

pytestmark = pytest.mark.django_db


def audit_events(event: AuditEvent):
    return list(AuditEntry.objects.filter(event=int(event)).order_by("seq"))


def post(room, user, body):
    return room_actions.do_post_message(room, body, actor=user).message


def signals(kind):
    return list(SafetySignal.objects.filter(kind=kind))


@pytest.fixture
def adult(make_user):
    return make_user("adulte")


@pytest.fixture
def minor(make_user):
    return make_user("collegienne")


@pytest.fixture
def direct(adult, minor):
    room = room_actions.do_open_direct_room(minor, actor=adult)
    post(room, adult, "salut")
    room_actions.do_accept_contact_request(ContactRequest.objects.get(room=room), actor=minor)
    return room


# --- the text patterns (the labelled set measures them: test_signal_quality.py) --------------


@pytest.mark.parametrize(
    "text",
    [
        "j'ai 14 ans",
        "jai 13ans",
        "14 ans et toi ?",
        "je suis en 4e",
        "je suis en troisième",
        "je suis au collège",
        "née en 2012",
        "je suis mineure",
        "J\u2019ai 15 ans",
    ],
)
def test_self_declared_minors(text):
    assert detection.declared_minor(detection.chat_fold(text), year=2026)


@pytest.mark.parametrize(
    "text",
    [
        "mon fils a 14 ans",
        "il y a 14 ans",
        "j'ai 14 ans d'expérience",
        "depuis mes 14 ans",
        "j'ai 41 ans",
        "la 4e saison",
        "je suis née en 1992",
    ],
)
def test_hard_negatives_are_not_minors(text):
    assert not detection.declared_minor(detection.chat_fold(text), year=2026)


def test_a_year_of_birth_is_read_against_the_current_year():
    folded = detection.chat_fold("je suis née en 2008")
    assert detection.declared_minor(folded, year=2024)  # 16 then
    assert not detection.declared_minor(folded, year=2026)  # 18 now


@pytest.mark.parametrize(
    "text",
    [
        "envoie-moi d'autres photos sinon je les envoie à tes parents",
        "paye 200€ ou je diffuse",
        "j'ai tes nudes",
    ],
)
def test_sextortion(text):
    assert detection.sextortion(detection.chat_fold(text))


@pytest.mark.parametrize(
    "text",
    [
        "envoie moi les photos de la soirée",
        "tu viens ou je t'envoie le lien ?",
        "je paye ou tu payes ?",
    ],
)
def test_not_sextortion(text):
    assert not detection.sextortion(detection.chat_fold(text))


# --- the signals on the post path -----------------------------------------------------------


def test_a_minor_in_a_conversation_with_an_adult_is_urgent_and_not_refused(
    direct, adult, minor, listen, django_capture_on_commit_callbacks
):
    events = listen(room_group(direct.id))
    with django_capture_on_commit_callbacks(execute=True):
        message = post(direct, minor, "jai 14 ans et toi ?")
    # Delivered like any other message: stored, sent to the room, nothing else.
    assert Message.objects.filter(pk=message.pk, deleted_at__isnull=True).exists()
    sent = events()
    assert [event["type"] for event in sent] == ["room.message"]
    assert "signal" not in str(sent) and "report" not in str(sent)
    [signal] = signals(SafetySignalKind.SELF_DECLARED_MINOR)
    assert signal.user == minor and signal.details["with_member"] == adult.pk
    [report] = Report.objects.filter(safety_signal=signal)
    assert report.category == ReportCategory.CHILD_SAFETY
    assert report.severity == Severity.URGENT
    assert report.source == ReportSource.AUTOMATIC
    assert report.target_user == minor
    # The conversation is attached: the adult's first words and the minor's.
    assert [entry["body"] for entry in report.context][-2:] == ["salut", "jai 14 ans et toi ?"]
    [row] = audit_events(AuditEvent.SAFETY_SIGNAL_RAISED)
    assert (
        row.details["kind"] == "self_declared_minor" and row.details["category"] == "child_safety"
    )


def test_the_minor_is_told_nothing_either(direct, minor):
    # The author's own post goes through: no refusal, no error frame to give away the signal.
    post(direct, minor, "je suis en 4e")
    assert Message.objects.filter(room=direct, author=minor).count() == 1


def test_a_request_after_a_minor_declared_themself_is_child_safety(direct, adult, minor):
    post(direct, minor, "j'ai 13 ans")
    post(direct, adult, "envoie une photo de toi")
    [signal] = signals(SafetySignalKind.MINOR_CONTACT_REQUEST)
    assert signal.user == adult and signal.details["minor"] == minor.pk
    report = Report.objects.get(safety_signal=signal)
    assert report.category == ReportCategory.CHILD_SAFETY
    assert report.severity == Severity.URGENT and report.target_user == adult
    # The escalation carries the minor as the person to protect.
    escalation = actions.do_escalate_threat(report, actor=None)
    assert escalation.information["victim"] == {"id": minor.pk, "username": "collegienne"}


def test_the_same_request_without_a_minor_raises_no_child_safety_signal(direct, adult):
    post(direct, adult, "envoie une photo de toi")
    assert not signals(SafetySignalKind.MINOR_CONTACT_REQUEST)
    assert not Report.objects.filter(category=ReportCategory.CHILD_SAFETY).exists()


def test_a_declaration_counts_for_a_while_in_a_public_room_only(make_room, make_user):
    public = make_room(kind=RoomKind.PUBLIC, slug="ados")
    young, stranger = make_user(), make_user()
    post(public, young, "15 ans et vous ?")
    SafetySignal.objects.update(created=timezone.now() - timedelta(hours=2))
    post(public, stranger, "t'as snap ?")
    assert not signals(SafetySignalKind.MINOR_CONTACT_REQUEST)
    SafetySignal.objects.update(created=timezone.now() - timedelta(minutes=20))
    post(public, stranger, "tu habites ou ?")
    assert len(signals(SafetySignalKind.MINOR_CONTACT_REQUEST)) == 1


def test_the_minor_signal_is_raised_in_each_room(make_room, make_user, adult, minor, direct):
    post(direct, minor, "j'ai 14 ans")
    public = make_room(kind=RoomKind.PUBLIC, slug="jeux")
    post(public, minor, "j'ai 14 ans")
    post(direct, minor, "jai 14 ans je te dis")  # cool-down: once per room
    assert len(signals(SafetySignalKind.SELF_DECLARED_MINOR)) == 2


def test_sextortion_is_urgent_and_child_safety_when_a_minor_spoke(direct, adult, minor, room):
    post(room, adult, "paye 200€ ou je diffuse")
    [first] = signals(SafetySignalKind.SEXTORTION)
    report = Report.objects.get(safety_signal=first)
    assert report.category == ReportCategory.SEXUAL_CONTENT
    assert report.severity == Severity.URGENT
    post(direct, minor, "j'ai 14 ans")
    post(direct, adult, "envoie-moi d'autres photos sinon je les envoie à tes parents")
    second = SafetySignal.objects.filter(kind=SafetySignalKind.SEXTORTION, room=direct).get()
    assert second.details["minor"] == minor.pk
    assert Report.objects.get(safety_signal=second).category == ReportCategory.CHILD_SAFETY


def test_hard_negatives_raise_nothing(room, make_user):
    author = make_user()
    for text in ("mon fils a 14 ans", "j'ai 14 ans d'expérience", "la 4e saison est nulle"):
        post(room, author, text)
    assert not SafetySignal.objects.exists()


def test_staff_messages_are_not_scanned(room, moderator):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=moderator).update(verified=True)
    moderator.age_verified_at = timezone.now()
    moderator.save(update_fields=["age_verified_at"])
    # Moderators quote what they moderate (with their second factor: staff powers).
    post(room, otp_verified(moderator), "un membre a écrit « j'ai 14 ans » : je regarde")
    assert not SafetySignal.objects.exists()


def test_the_signals_never_refuse(direct, adult):
    # Even a sextortion threat is delivered: the moderators act, not the pattern.
    message = post(direct, adult, "j'ai tes nudes")
    assert message.pk and signals(SafetySignalKind.SEXTORTION)


# --- the PHAROS step (DSA Art. 18) ------------------------------------------------------------


@pytest.fixture
def child_report(direct, minor):
    post(direct, minor, "j'ai 14 ans")
    return Report.objects.get(category=ReportCategory.CHILD_SAFETY)


def decide(report, moderator):
    return actions.do_decide_report(
        report, actor=moderator, decision="Compte mineur fermé.", sanction_kind="ban"
    )


def test_deciding_a_child_safety_case_opens_a_pending_pharos_notification(
    child_report, moderator, adult, minor
):
    decide(child_report, moderator)
    [escalation] = ThreatEscalation.objects.filter(report=child_report)
    assert escalation.reason == EscalationReason.CHILD_SAFETY
    # The minor's own declaration: the minor is the person to protect, the adult of
    # the conversation the suspect whose account and connections are prepared.
    assert escalation.information["victim"]["id"] == minor.pk
    assert escalation.information["suspect"]["id"] == adult.pk
    assert escalation.authority == "pharos" and escalation.is_pending
    assert list(queries.pending_escalations()) == [escalation]
    [row] = audit_events(AuditEvent.THREAT_ESCALATED)
    assert row.details["reason"] == "child_safety" and row.details["dsa_article"] == 18
    assert row.actor_id == moderator.pk


def test_dismissing_a_child_safety_case_opens_none(child_report, moderator):
    actions.do_dismiss_report(child_report, actor=moderator, reason="Plaisanterie entre adultes.")
    assert not ThreatEscalation.objects.exists()


def test_recording_the_pharos_report_keeps_what_was_sent(child_report, moderator):
    decide(child_report, moderator)
    escalation = ThreatEscalation.objects.get()
    with pytest.raises(Refused) as refused:
        actions.do_mark_escalation_transmitted(escalation, actor=moderator, authority="pharos")
    assert refused.value.code == RefusalCode.INVALID  # PHAROS always gives a number
    actions.do_mark_escalation_transmitted(
        escalation,
        actor=moderator,
        authority="pharos",
        reference="PHAROS-2026-000123",
        category="minors_sexual",
        items=[EscalationItem.MESSAGE, EscalationItem.CONTEXT, EscalationItem.SUSPECT_ACCOUNT],
        summary="Un membre de 14 ans déclaré, conversation jointe.",
    )
    escalation.refresh_from_db()
    assert not escalation.is_pending and escalation.transmitted_by == moderator
    sent = escalation.transmitted_content
    assert sent["category"] == "minors_sexual"
    assert sent["items"] == ["message", "context", "suspect_account"]
    refs = sent["content_references"]
    # The context's texts are referenced by their hash, not copied again.
    bodies = [entry["body"] for entry in escalation.information["context"]]
    assert [ref["sha256"] for ref in refs["context"]] == [
        hashlib.sha256(body.encode()).hexdigest() for body in bodies
    ]
    assert "connections" not in refs  # not ticked, not recorded as sent
    [row] = audit_events(AuditEvent.ESCALATION_TRANSMITTED)
    assert row.details["reference"] == "PHAROS-2026-000123"
    assert row.details["dsa_article"] == 18 and row.details["reason"] == "child_safety"
    assert list(queries.pending_escalations()) == []
    # Recorded once.
    with pytest.raises(Refused) as again:
        actions.do_mark_escalation_transmitted(
            escalation, actor=moderator, authority="pharos", reference="X"
        )
    assert again.value.code == RefusalCode.CONFLICT


def test_a_notification_may_be_declined_with_a_reason(child_report, moderator):
    decide(child_report, moderator)
    escalation = ThreatEscalation.objects.get()
    with pytest.raises(Refused):
        actions.do_decline_escalation(escalation, actor=moderator, reason="  ")
    actions.do_decline_escalation(
        escalation, actor=moderator, reason="Mineur seul, aucun échange avec un adulte."
    )
    escalation.refresh_from_db()
    assert escalation.declined_by == moderator and not escalation.is_pending
    [row] = audit_events(AuditEvent.ESCALATION_DECLINED)
    assert row.reason == "Mineur seul, aucun échange avec un adulte."


def test_the_notifications_are_counted_for_the_transparency_report(child_report, moderator):
    decide(child_report, moderator)
    escalation = ThreatEscalation.objects.get()
    actions.do_mark_escalation_transmitted(
        escalation, actor=moderator, authority="pharos", reference="P-1", category="csam"
    )
    now = timezone.now()
    figures = queries.authority_notifications(now - timedelta(days=1), now + timedelta(days=1))
    assert figures["prepared"] == 1 and figures["transmitted"] == 1
    assert figures["transmitted_by_reason"] == {"threat_to_life": 0, "child_safety": 1}
    assert figures["transmitted_by_authority"]["pharos"] == 1
    assert figures["declined"] == 0
    assert figures["median_hours_to_transmit"] is not None
    before = queries.authority_notifications(now - timedelta(days=3), now - timedelta(days=2))
    assert before["transmitted"] == 0


def test_the_windows_are_what_the_docs_say():
    assert timedelta(hours=1) == policy_hooks.MINOR_DECLARED_WINDOW_PUBLIC
    assert timedelta(days=7) == policy_hooks.MINOR_DECLARED_WINDOW_PRIVATE
