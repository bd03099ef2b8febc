"""Reporters' reputation (moderation/reputation.py): precision with a prior, the
queue's order, and a message hidden pending review when reliable reporters flag
it and no moderator is online (moderation/actions/pending_hides.py)."""

import pytest
from django.urls import reverse

from audit.events import AuditEvent
from audit.models import AuditEntry
from moderation import actions, queries, reputation
from moderation.models import Report, ReportStatus, StatementOfReasons
from moderation.staff_presence import mark_active, moderators_online
from rooms.models import Message
from rooms.notify import room_group
from tests.conftest import staff_client
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _thresholds(settings):
    # Three upheld reports of three make a good reporter: (3 + 1) / (3 + 2) = 0.8.
    settings.MODERATION_AUTOHIDE_MIN_DECIDED = 3
    settings.MODERATION_AUTOHIDE_MIN_PRECISION = 0.8


def upheld_history(reporters, room, make_user, moderator, count=3):
    """Each of `reporters` reported `count` messages, all removed by a moderator."""
    for number in range(count):
        message = post_message(room, make_user(), f"insulte {number}")
        for reporter in reporters:
            report = actions.do_file_report(actor=reporter, category="harassment", message=message)
        actions.do_decide_report(report, actor=moderator, decision="Insulte.", remove_message=True)


def dismissed_history(reporter, room, make_user, moderator, count):
    for number in range(count):
        message = post_message(room, make_user(), f"banal {number}")
        report = actions.do_file_report(actor=reporter, category="harassment", message=message)
        actions.do_dismiss_report(report, actor=moderator, reason="Rien de répréhensible.")


@pytest.fixture
def good_reporters(make_user, room, moderator):
    first, second = make_user("fiable1"), make_user("fiable2")
    upheld_history([first, second], room, make_user, moderator)
    return first, second


# --- precision ---------------------------------------------------------------------------------


def test_a_new_reporter_is_neutral_and_precision_follows_decisions(make_user, room, moderator):
    newcomer, careful, careless = make_user(), make_user(), make_user()
    assert reputation.reputation_of(newcomer).precision == 0.5
    assert not reputation.reputation_of(newcomer).is_good
    upheld_history([careful], room, make_user, moderator, count=4)
    dismissed_history(careless, room, make_user, moderator, count=4)
    standing = reputation.reputation_of(careful)
    assert (standing.upheld, standing.decided) == (4, 4)
    assert standing.precision == pytest.approx(5 / 6) and standing.is_good
    assert reputation.reputation_of(careless).precision == pytest.approx(1 / 6)
    # A report still open counts for nothing yet.
    actions.do_file_report(
        actor=careful, category="spam", message=post_message(room, make_user(), "pub")
    )
    assert reputation.reputation_of(careful).decided == 4


def test_precision_prior_comes_from_settings(settings, make_user):
    settings.MODERATION_REPUTATION_PRIOR_UPHELD = 3
    settings.MODERATION_REPUTATION_PRIOR_DECIDED = 4
    assert reputation.reputation_of(make_user()).precision == 0.75


# --- the queue ---------------------------------------------------------------------------------


def test_reliable_reporters_come_first_within_a_severity(make_user, room, moderator):
    careful, careless = make_user(), make_user()
    upheld_history([careful], room, make_user, moderator, count=4)
    dismissed_history(careless, room, make_user, moderator, count=4)
    by_careless = actions.do_file_report(
        actor=careless, category="hate", message=post_message(room, make_user(), "a")
    )
    by_newcomer = actions.do_file_report(
        actor=make_user(), category="hate", message=post_message(room, make_user(), "b")
    )
    by_careful = actions.do_file_report(
        actor=careful, category="harassment", message=post_message(room, make_user(), "c")
    )
    spam_by_careful = actions.do_file_report(
        actor=careful, category="spam", message=post_message(room, make_user(), "d")
    )
    threat = actions.do_file_report(
        actor=careful, category="threat", message=post_message(room, make_user(), "e")
    )
    child = actions.do_file_report(
        actor=careless, category="child_safety", message=post_message(room, make_user(), "f")
    )
    order = list(queries.open_queue().values_list("pk", flat=True))
    # Child safety first whatever its reporter; severity before reputation.
    assert order == [
        child.pk,
        threat.pk,
        by_careful.pk,
        by_newcomer.pk,
        by_careless.pk,
        spam_by_careful.pk,
    ]
    by_careful.refresh_from_db()
    assert by_careful.reporter_weight == pytest.approx(5 / 6)


def test_a_group_sums_its_reporters(make_user, room):
    message = post_message(room, make_user(), "x")
    first = actions.do_file_report(actor=make_user(), category="hate", message=message)
    actions.do_file_report(actor=make_user(), category="hate", message=message)
    first.refresh_from_db()
    assert first.reporter_weight == pytest.approx(1.0)


# --- hidden pending review ---------------------------------------------------------------------


def flag(message, reporters):
    report = None
    for reporter in reporters:
        report = actions.do_file_report(actor=reporter, category="hate", message=message)
    return Report.objects.get(pk=report.duplicate_of_id or report.pk)


def test_two_good_reporters_and_no_moderator_hide_the_message(
    good_reporters, room, make_user, mailoutbox, listen, django_capture_on_commit_callbacks
):
    author = make_user("auteur")
    message = post_message(room, author, "propos haineux")
    room_events = listen(room_group(room.pk))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_file_report(actor=good_reporters[0], category="hate", message=message)
    message.refresh_from_db()
    assert message.deleted_at is None  # one good reporter is not enough
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_file_report(actor=good_reporters[1], category="hate", message=message)
    message.refresh_from_db()
    assert message.deleted_at is not None and message.deleted_by is None
    assert message.body == "propos haineux"
    [event] = room_events()
    assert event == {"type": "room.message_deleted", "id": message.pk}
    primary = Report.objects.get(target_message=message, duplicate_of__isnull=True)
    assert primary.hidden_pending_review and primary.is_open
    [statement] = StatementOfReasons.objects.filter(user=author)
    assert statement.measure == "removal" and statement.message == message
    assert statement.automated_decision == "fully" and statement.decided_by is None
    assert "provisoire" in statement.facts
    assert [mail.to for mail in mailoutbox if author.email in mail.to] == [[author.email]]
    [entry] = AuditEntry.objects.filter(event=AuditEvent.MESSAGE_HIDDEN_PENDING_REVIEW)
    assert entry.details["good_reporters"] == sorted(u.pk for u in good_reporters)


def test_one_good_reporter_and_a_new_one_do_not_hide(good_reporters, room, make_user):
    message = post_message(room, make_user(), "limite")
    primary = flag(message, [good_reporters[0], make_user()])
    message.refresh_from_db()
    assert message.deleted_at is None and not primary.hidden_pending_review


def test_nothing_is_hidden_while_a_moderator_is_online(
    good_reporters, room, make_user, other_moderator
):
    # An OTP-verified request of a moderator marks them online (the middleware).
    staff_client(other_moderator).get(reverse("admin:index"))
    assert moderators_online() == [other_moderator.pk]
    message = post_message(room, make_user(), "limite")
    primary = flag(message, good_reporters)
    message.refresh_from_db()
    assert message.deleted_at is None and not primary.hidden_pending_review


def test_who_counts_as_online(make_staff, moderator, settings):
    assert moderators_online() == []
    # A session without its second factor does not count.
    staff_client(moderator, otp_verified=False).get(reverse("admin:index"))
    assert moderators_online() == []
    # Staff who may not decide reports (compliance) do not count either.
    officer = make_staff("compliance")
    mark_active(officer)
    assert moderators_online() == []
    client = staff_client(moderator)
    client.get(reverse("admin:index"))
    assert moderators_online() == [moderator.pk]
    client.logout()
    assert moderators_online() == []


def test_dismissal_restores_a_message_hidden_pending_review(
    good_reporters, room, make_user, moderator, listen, django_capture_on_commit_callbacks
):
    message = post_message(room, make_user(), "ironie mal comprise")
    primary = flag(message, good_reporters)
    room_events = listen(room_group(room.pk))
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_dismiss_report(primary, actor=moderator, reason="Second degré évident.")
    message.refresh_from_db()
    primary.refresh_from_db()
    assert message.deleted_at is None
    assert not primary.hidden_pending_review and primary.status == ReportStatus.DISMISSED
    # The room gets it back (`message.new` with its original id).
    [event] = room_events()
    assert event["restored"] is True and event["message"]["id"] == message.pk
    provisional = StatementOfReasons.objects.get(message=message)
    assert provisional.ends_at is not None
    [entry] = AuditEntry.objects.filter(event=AuditEvent.PENDING_HIDE_REVERSED)
    assert entry.actor_id == moderator.pk and entry.details["restored"] is True
    # The reporters' precision pays for it.
    assert reputation.reputation_of(good_reporters[0]).decided == 4


def test_a_removal_confirms_a_message_hidden_pending_review(
    good_reporters, room, make_user, moderator
):
    author = make_user("auteur")
    message = post_message(room, author, "propos haineux")
    primary = flag(message, good_reporters)
    actions.do_decide_report(
        primary, actor=moderator, decision="Propos haineux.", remove_message=True
    )
    message.refresh_from_db()
    primary.refresh_from_db()
    assert message.deleted_at is not None
    assert not primary.hidden_pending_review and primary.status == ReportStatus.ACTIONED
    # The provisional statement, then the moderator's own.
    statements = StatementOfReasons.objects.filter(user=author).order_by("created")
    assert [s.automated_decision for s in statements] == ["fully", "not"]
    assert statements[1].decided_by == moderator and statements[0].ends_at is None
    assert AuditEntry.objects.filter(event=AuditEvent.PENDING_HIDE_CONFIRMED).count() == 1
    assert AuditEntry.objects.filter(event=AuditEvent.MESSAGE_REMOVED).count() == 4


def test_a_sanction_without_removal_restores_the_message(
    good_reporters, room, make_user, moderator
):
    message = post_message(room, make_user(), "limite")
    primary = flag(message, good_reporters)
    actions.do_decide_report(
        primary, actor=moderator, decision="Ton à revoir.", sanction_kind="warn"
    )
    assert Message.objects.get(pk=message.pk).deleted_at is None


def test_the_queue_shows_hidden_pending_review(good_reporters, room, make_user, moderator):
    from tests.conftest import grant_model_looks

    message = post_message(room, make_user(), "propos haineux")
    flag(message, good_reporters)
    client = grant_model_looks(staff_client(moderator))
    page = client.get(reverse("admin:moderation_report_changelist"))
    assert "masqué en attente d&#x27;examen" in page.content.decode()
