"""DSA Art. 23 (terms clause T14): a warning first, then a timed suspension, over a window.

Thresholds are set small here; the defaults are in moderation/app_settings.py.
Time is moved by backdating the rows the assessment reads, or by setting the
clock past a suspension's end (no waiting, no timed assertion).
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import Refused
from moderation import actions
from moderation.models import (
    Measure,
    MisuseMeasure,
    MisuseStep,
    ModerationRecord,
    Report,
    Sanction,
    StatementOfReasons,
)
from moderation.rules import clause
from rooms import notify
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db

WINDOW_DAYS = 30


def audit_rows(event: AuditEvent, **filters):
    return list(AuditEntry.objects.filter(event=int(event), **filters).order_by("seq"))


@pytest.fixture(autouse=True)
def _thresholds(settings):
    settings.MODERATION_UNFOUNDED_REPORTS_MIN_DECIDED = 4
    settings.MODERATION_UNFOUNDED_REPORTS_PERCENT = 50
    settings.MODERATION_UNFOUNDED_REPORTS_WINDOW_DAYS = WINDOW_DAYS
    settings.MODERATION_REPORTING_SUSPENSION_DAYS = 10
    settings.MODERATION_ILLEGAL_CONTENT_THRESHOLD = 2
    settings.MODERATION_ILLEGAL_CONTENT_WINDOW_DAYS = WINDOW_DAYS
    settings.MODERATION_ILLEGAL_CONTENT_SUSPENSION_DAYS = 7


# --- Art. 23(2): manifestly unfounded reports ---------------------------------------------------


@pytest.fixture
def notifier(make_user):
    return make_user("signaleur")


def decide_a_report(room, notifier, make_user, moderator, *, unfounded: bool) -> Report:
    message = post_message(room, make_user(), "rien de mal")
    report = actions.do_file_report(actor=notifier, category="spam", message=message)
    actions.do_dismiss_report(
        report, actor=moderator, reason="Rien à redire.", manifestly_unfounded=unfounded
    )
    return report


def steps(user, kind):
    return list(MisuseMeasure.objects.filter(user=user, kind=kind))


@pytest.mark.parametrize(
    ("founded", "unfounded", "warned"),
    [
        (0, 3, False),  # one decided report short of the minimum
        (0, 4, True),  # at the minimum, all unfounded
        (3, 2, False),  # five decided, 40 %: under the proportion
        (2, 2, True),  # four decided, 50 %: at the proportion
    ],
)
def test_a_notifier_is_warned_at_the_thresholds_not_under(
    room, notifier, make_user, moderator, founded, unfounded, warned
):
    for _number in range(founded):
        decide_a_report(room, notifier, make_user, moderator, unfounded=False)
    for _number in range(unfounded):
        decide_a_report(room, notifier, make_user, moderator, unfounded=True)
    warnings = steps(notifier, MisuseStep.NOTIFIER_WARNING)
    assert len(warnings) == int(warned)
    assert not steps(notifier, MisuseStep.NOTIFIER_SUSPENSION)
    # A warning suspends nothing: the member may still report.
    decide_a_report(room, notifier, make_user, moderator, unfounded=False)
    if warned:
        [warning] = warnings
        statement = warning.statement
        assert (statement.user, statement.measure, statement.clause) == (
            notifier,
            Measure.WARN,
            "T14",
        )
        assert statement.decided_by == moderator
        assert f"{unfounded} de vos {founded + unfounded} signalements" in statement.facts
        assert warning.figures["manifestly_unfounded"] == unfounded
        [entry] = audit_rows(AuditEvent.MISUSE_WARNING_ISSUED)
        assert entry.target_id == str(notifier.pk)
        assert entry.details["step"] == MisuseStep.NOTIFIER_WARNING
        assert entry.details["statement"] == statement.pk
    else:
        assert not audit_rows(AuditEvent.MISUSE_WARNING_ISSUED)


@pytest.mark.parametrize(
    ("age_days", "warned"), [(WINDOW_DAYS - 1, True), (WINDOW_DAYS + 1, False)]
)
def test_only_reports_decided_within_the_window_count(
    room, notifier, make_user, moderator, age_days, warned
):
    for _number in range(3):
        decide_a_report(room, notifier, make_user, moderator, unfounded=True)
    Report.objects.filter(reporter=notifier).update(
        decided_at=timezone.now() - timedelta(days=age_days)
    )
    decide_a_report(room, notifier, make_user, moderator, unfounded=True)
    assert len(steps(notifier, MisuseStep.NOTIFIER_WARNING)) == int(warned)


def test_reporting_is_suspended_only_after_a_warning_and_then_ends_by_itself(
    room, notifier, make_user, moderator
):
    for _number in range(4):
        decide_a_report(room, notifier, make_user, moderator, unfounded=True)
    assert steps(notifier, MisuseStep.NOTIFIER_WARNING)
    assert not ModerationRecord.objects.get(user=notifier).reporting_suspended
    # The behaviour goes on after the warning: suspension.
    decide_a_report(room, notifier, make_user, moderator, unfounded=True)
    [suspension] = steps(notifier, MisuseStep.NOTIFIER_SUSPENSION)
    record = ModerationRecord.objects.get(user=notifier)
    assert record.reporting_suspended_until == suspension.ends_at
    assert suspension.ends_at - suspension.created == timedelta(days=10)
    statement = suspension.statement
    assert (statement.measure, statement.clause, statement.ends_at) == (
        Measure.REPORTING,
        "T14",
        suspension.ends_at,
    )
    # The warning came first, in the trail too.
    [warning_entry] = audit_rows(AuditEvent.MISUSE_WARNING_ISSUED)
    [suspension_entry] = audit_rows(AuditEvent.REPORTING_SUSPENDED)
    assert warning_entry.seq < suspension_entry.seq
    assert suspension_entry.details["statement"] == statement.pk
    # New reports are refused with the documented error...
    target = post_message(room, make_user(), "encore")
    with pytest.raises(Refused) as refusal:
        actions.do_file_report(actor=notifier, category="spam", message=target)
    assert refusal.value.code == "suspended"
    assert "T14" in str(refusal.value)
    just_before = suspension.ends_at - timedelta(minutes=1)
    with (
        mock.patch("django.utils.timezone.now", return_value=just_before),
        pytest.raises(Refused),
    ):
        actions.do_file_report(actor=notifier, category="spam", message=target)
    # ...until the end date, with nobody lifting anything.
    after = suspension.ends_at + timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=after):
        report = actions.do_file_report(actor=notifier, category="spam", message=target)
    assert report.reporter == notifier


def test_a_lapsed_warning_is_given_again_rather_than_a_suspension(
    room, notifier, make_user, moderator
):
    for _number in range(4):
        decide_a_report(room, notifier, make_user, moderator, unfounded=True)
    [warning] = steps(notifier, MisuseStep.NOTIFIER_WARNING)
    old = timezone.now() - timedelta(days=WINDOW_DAYS + 1)
    MisuseMeasure.objects.filter(pk=warning.pk).update(created=old)
    decide_a_report(room, notifier, make_user, moderator, unfounded=True)
    assert len(steps(notifier, MisuseStep.NOTIFIER_WARNING)) == 2
    assert not steps(notifier, MisuseStep.NOTIFIER_SUSPENSION)


def test_reversing_the_suspension_on_appeal_ends_it(
    room, notifier, make_user, moderator, other_moderator
):
    for _number in range(5):
        decide_a_report(room, notifier, make_user, moderator, unfounded=True)
    [suspension] = steps(notifier, MisuseStep.NOTIFIER_SUSPENSION)
    appeal = actions.do_file_appeal(
        suspension.statement, actor=notifier, text="Ils étaient fondés."
    )
    actions.do_decide_appeal(
        appeal, actor=other_moderator, reverse_decision=True, answer="Vous avez raison."
    )
    assert not ModerationRecord.objects.get(user=notifier).reporting_suspended
    target = post_message(room, make_user(), "encore")
    assert actions.do_file_report(actor=notifier, category="spam", message=target)


def test_the_terms_state_the_thresholds_from_the_settings(settings):
    text = " ".join(str(paragraph) for paragraph in clause("T14").paragraphs)
    assert "30 derniers jours, au moins 4 de vos signalements" in text
    assert "au moins 50 % d'entre eux" in text
    assert "pendant 10 jours" in text
    assert "au moins 2 de vos messages" in text and "pendant 7 jours" in text
    settings.MODERATION_REPORTING_SUSPENSION_DAYS = 45
    assert "pendant 45 jours" in " ".join(str(p) for p in clause("T14").paragraphs)


# --- Art. 23(1): manifestly illegal content ------------------------------------------------------

PROVISION = "CP-222-33-2-2"


@pytest.fixture
def provider(make_user):
    return make_user("auteur")


def remove_as_illegal(room, provider, moderator) -> StatementOfReasons:
    message = post_message(room, provider, "contenu illicite")
    actions.do_remove_message(
        message, actor=moderator, reason="Harcèlement.", legal_provision=PROVISION
    )
    return StatementOfReasons.objects.get(message=message)


def test_a_provider_is_warned_at_the_threshold_not_under(room, provider, moderator):
    remove_as_illegal(room, provider, moderator)
    # A removal on the terms alone does not count.
    actions.do_remove_message(
        post_message(room, provider, "hors sujet"), actor=moderator, reason="Spam.", clause="R10"
    )
    assert not MisuseMeasure.objects.filter(user=provider).exists()
    remove_as_illegal(room, provider, moderator)
    [warning] = MisuseMeasure.objects.filter(user=provider)
    assert warning.kind == MisuseStep.PROVIDER_WARNING
    assert (warning.sanction.kind, warning.sanction.room, warning.sanction.clause) == (
        "warn",
        None,
        "T14",
    )
    assert warning.statement == warning.sanction.statement
    assert warning.statement.decided_by == moderator
    assert [e.details["step"] for e in audit_rows(AuditEvent.MISUSE_WARNING_ISSUED)] == [
        MisuseStep.PROVIDER_WARNING
    ]
    # A warning only: the member still posts.
    assert post_message(room, provider, "je me calme")


@pytest.mark.parametrize(
    ("age_days", "warned"), [(WINDOW_DAYS - 1, True), (WINDOW_DAYS + 1, False)]
)
def test_only_illegal_content_within_the_window_counts(room, provider, moderator, age_days, warned):
    first = remove_as_illegal(room, provider, moderator)
    StatementOfReasons.objects.filter(pk=first.pk).update(
        created=timezone.now() - timedelta(days=age_days)
    )
    remove_as_illegal(room, provider, moderator)
    assert MisuseMeasure.objects.filter(user=provider).count() == int(warned)


def test_a_provider_is_banned_for_a_time_only_after_the_warning(
    room, provider, moderator, make_user, django_capture_on_commit_callbacks
):
    remove_as_illegal(room, provider, moderator)
    remove_as_illegal(room, provider, moderator)
    assert not Sanction.objects.filter(user=provider, kind="ban").exists()
    # Once more after the warning, through a report this time.
    message = post_message(room, provider, "encore illicite")
    report = actions.do_file_report(actor=make_user(), category="harassment", message=message)
    with django_capture_on_commit_callbacks() as callbacks:
        actions.do_decide_report(
            report,
            actor=moderator,
            decision="Harcèlement.",
            remove_message=True,
            legal_provision=PROVISION,
        )
    [suspension] = MisuseMeasure.objects.filter(kind=MisuseStep.PROVIDER_SUSPENSION)
    ban = suspension.sanction
    assert (ban.user, ban.kind, ban.room, ban.clause) == (provider, "ban", None, "T14")
    assert ban.ends_at - ban.starts_at == timedelta(days=7) == suspension.ends_at - ban.starts_at
    assert suspension.statement.measure == Measure.BAN
    assert suspension.statement.ends_at == ban.ends_at
    # The existing sanction path: its audit row and the sockets closed after commit.
    [entry] = audit_rows(AuditEvent.ACCOUNT_SUSPENDED_ART23)
    assert entry.details["sanction"] == ban.pk
    assert audit_rows(AuditEvent.MISUSE_WARNING_ISSUED)[0].seq < entry.seq
    assert any(getattr(cb, "func", None) is notify.close_user_sockets for cb in callbacks)
    with pytest.raises(Refused):
        post_message(room, provider, "je suis banni")
    # The ban ends by itself.
    after = ban.ends_at + timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=after):
        assert post_message(room, provider, "de retour")
    # It started the count afresh: the next illegal content is not a second ban at once.
    with mock.patch("django.utils.timezone.now", return_value=after):
        remove_as_illegal(room, provider, moderator)
    assert MisuseMeasure.objects.filter(user=provider).count() == 2
