"""Moderation's policy checks as rooms runs them: sanctions, automatic filters
(block, hold, flag, mute) and safety signals, through rooms' own post action."""

import pytest

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import RefusalCode, Refused
from moderation import actions, policy_hooks
from moderation.models import (
    FilterAction,
    FilterKind,
    FilterRule,
    HeldMessage,
    HeldStatus,
    Report,
    ReportSource,
    SafetySignal,
    SafetySignalKind,
    Sanction,
    Severity,
    StatementOfReasons,
)
from rooms import actions as room_actions
from rooms import policy
from rooms.models import ContactRequest, Message, room_group
from tests.conftest import otp_verified

pytestmark = pytest.mark.django_db


def audit_events(event: AuditEvent):
    return list(AuditEntry.objects.filter(event=int(event)).order_by("seq"))


def post(room, user, body):
    return room_actions.do_post_message(room, body, actor=user)


def refusal_of(room, user, body) -> Refused:
    with pytest.raises(Refused) as refused:
        post(room, user, body)
    return refused.value


def rule(kind, action, pattern="", room=None, **fields):
    return FilterRule.objects.create(
        name=f"{kind}-{action}", kind=kind, action=action, pattern=pattern, room=room, **fields
    )


def test_rooms_asks_moderation_through_the_registered_hooks(room, make_user, moderator):
    # What each hook answers, asked through rooms' own questions (rooms/policy.py).
    banned, muted, writer = make_user(), make_user(), make_user()
    actions.do_issue_sanction(banned, actor=moderator, kind="ban", reason="r")
    actions.do_issue_sanction(muted, actor=moderator, kind="mute", reason="r")
    assert policy.can_join(banned, room).close_code == 4403
    assert policy.can_join(muted, room)
    assert policy.can_post(muted, room, "bonjour").code == RefusalCode.MUTED
    rule(FilterKind.WORDS, FilterAction.BLOCK, "viagra")
    assert policy.can_post(writer, room, "du viagra").code == RefusalCode.FILTERED
    # A text a moderator reviewed skips the filters, never the sanctions.
    assert policy.can_post(writer, room, "du viagra", reviewed=True)
    assert policy.can_post(muted, room, "bonjour", reviewed=True).code == RefusalCode.MUTED


def test_ban_refuses_joining_here_or_everywhere(room, make_room, make_user, moderator):
    user, other_room = make_user(), make_room()
    actions.do_issue_sanction(user, actor=moderator, kind="ban", room=room, reason="r")
    verdict = policy.can_join(user, room)
    assert not verdict and verdict.close_code == 4403
    assert policy.can_join(user, other_room)
    actions.do_issue_sanction(user, actor=moderator, kind="ban", reason="r")
    assert not policy.can_join(user, other_room)


def test_a_ban_does_not_sign_out_or_deactivate(room, make_user, moderator, client):
    user = make_user()
    actions.do_issue_sanction(user, actor=moderator, kind="ban", reason="r")
    user.refresh_from_db()
    assert user.is_active
    client.force_login(user)
    page = client.get("/decisions/")
    assert page.status_code == 200


def test_block_refuses_with_filtered_and_stores_nothing(room, make_user):
    rule(FilterKind.WORDS, FilterAction.BLOCK, "arnaque\nviagra")
    user = make_user()
    refused = refusal_of(room, user, "Du VIAGRA pas cher")
    assert refused.code == RefusalCode.FILTERED
    assert not Message.objects.exists()
    post(room, user, "rien à voir")  # no match, no objection


def test_a_room_rule_applies_only_in_its_room(room, make_room, make_user):
    rule(FilterKind.REGEX, FilterAction.BLOCK, r"\bcasino\d+\b", room=room)
    user = make_user()
    assert refusal_of(room, user, "va sur casino777").code == RefusalCode.FILTERED
    post(make_room(), user, "va sur casino777")


def test_hold_keeps_the_message_for_review_then_release_posts_it(
    room, make_user, moderator, django_capture_on_commit_callbacks
):
    rule(FilterKind.LINKS, FilterAction.HOLD, "wikipedia.org")
    user = make_user()
    post(room, user, "voir https://fr.wikipedia.org/wiki/Paris")  # allowed domain
    refused = refusal_of(room, user, "clique https://bit.ly/xyz")
    assert refused.code == RefusalCode.FILTERED
    [held] = HeldMessage.objects.all()
    assert held.body == "clique https://bit.ly/xyz" and held.status == HeldStatus.PENDING
    assert Message.objects.count() == 1
    assert audit_events(AuditEvent.MESSAGE_HELD)[0].target_id == str(held.pk)
    with django_capture_on_commit_callbacks(execute=True):
        message = actions.do_release_held_message(held, actor=moderator)
    assert message.body == "clique https://bit.ly/xyz" and message.author == user
    assert audit_events(AuditEvent.HELD_MESSAGE_RELEASED)


def test_a_held_message_can_be_rejected(room, make_user, moderator):
    rule(FilterKind.CONTACT, FilterAction.HOLD)
    refusal_of(room, make_user(), "appelle-moi au 06 12 34 56 78")
    held = HeldMessage.objects.get()
    actions.do_reject_held_message(held, actor=moderator, reason="Coordonnées.")
    held.refresh_from_db()
    assert held.status == HeldStatus.REJECTED
    assert audit_events(AuditEvent.HELD_MESSAGE_REJECTED)[0].reason == "Coordonnées."


def test_flag_lets_the_message_through_and_queues_it(
    room, make_user, django_capture_on_commit_callbacks
):
    rule(FilterKind.CONTACT, FilterAction.FLAG, category="scam")
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        result = post(room, user, "écris-moi : jean.dupont@example.org")
    [report] = Report.objects.all()
    assert report.source == ReportSource.AUTOMATIC
    assert report.category == "scam"
    assert report.target_user == user
    assert report.target_message == result.message  # linked once stored
    assert report.context[-1]["body"] == "écris-moi : jean.dupont@example.org"
    assert audit_events(AuditEvent.MESSAGE_FLAGGED)[0].actor_id is None


def test_mute_lets_the_message_through_then_mutes_the_author(room, make_user):
    rule(FilterKind.WORDS, FilterAction.MUTE, "connard", mute_minutes=20)
    user = make_user()
    post(room, user, "espèce de connard")
    [mute] = Sanction.objects.all()
    assert mute.kind == "mute" and mute.automated and mute.issued_by is None
    statement = StatementOfReasons.objects.get(sanction=mute)
    assert statement.automated_decision == "fully" and statement.automated_detection
    assert statement.decided_by is None
    assert refusal_of(room, user, "bonjour").code == RefusalCode.MUTED
    assert audit_events(AuditEvent.SANCTION_ISSUED)[0].details["automated"] is True


def test_flood_rule(room, make_user):
    rule(FilterKind.FLOOD, FilterAction.BLOCK, flood_count=3, flood_seconds=60)
    user = make_user()
    for number in range(3):
        post(room, user, f"message {number}")
    assert refusal_of(room, user, "encore").code == RefusalCode.FILTERED


def test_staff_are_not_filtered(room, moderator):
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    EmailAddress.objects.filter(user=moderator).update(verified=True)
    moderator.age_verified_at = timezone.now()
    moderator.save(update_fields=["age_verified_at"])
    rule(FilterKind.WORDS, FilterAction.BLOCK, "viagra")
    # Only with their second factor: a password alone gives no staff powers.
    with pytest.raises(Refused) as refused:
        post(room, moderator, "le mot viagra est filtré ici")
    assert refused.value.code == RefusalCode.FILTERED
    stored = post(room, otp_verified(moderator), "le mot viagra est filtré ici").message
    assert Message.objects.get(pk=stored.pk).body == "le mot viagra est filtré ici"
    assert not Report.objects.exists()


# --- safety signals ----------------------------------------------------------------------------


def test_a_request_to_move_to_another_app_is_raised(room, make_user):
    user = make_user()
    post(room, user, "ajoute moi sur snap c'est plus simple")
    [signal] = SafetySignal.objects.all()
    assert signal.kind == SafetySignalKind.MOVE_TO_OTHER_APP
    [report] = Report.objects.filter(safety_signal=signal)
    assert report.severity == Severity.HIGH
    assert report.source == ReportSource.AUTOMATIC
    [row] = audit_events(AuditEvent.SAFETY_SIGNAL_RAISED)
    assert row.details["kind"] == "move_to_other_app"
    # Raised once per cool-down, not for every message.
    post(room, user, "viens sur whatsapp")
    assert SafetySignal.objects.count() == 1


def test_a_meetup_with_an_address_or_phone_is_raised(room, make_user):
    user = make_user()
    post(room, user, "on se voit demain ?")  # no address, no number: nothing
    assert not SafetySignal.objects.exists()
    post(room, user, "rendez-vous au 12 rue des Lilas à 16h")
    [signal] = SafetySignal.objects.all()
    assert signal.kind == SafetySignalKind.MEETUP_WITH_CONTACT


def test_opening_many_direct_conversations_is_raised(make_user):
    sender = make_user("collectionneur")
    for _number in range(policy_hooks.MASS_DIRECT_MESSAGES_COUNT - 1):
        post(room_actions.do_open_direct_room(make_user(), actor=sender), sender, "salut")
    assert not SafetySignal.objects.exists()
    # The signal comes with the first message after one conversation too many.
    post(room_actions.do_open_direct_room(make_user(), actor=sender), sender, "salut")
    [signal] = SafetySignal.objects.all()
    assert signal.kind == SafetySignalKind.MASS_DIRECT_MESSAGES
    assert signal.details["conversations_opened"] == policy_hooks.MASS_DIRECT_MESSAGES_COUNT
    assert Report.objects.get(safety_signal=signal).target_user == sender


def test_a_held_message_of_a_since_muted_author_is_not_released(room, make_user, moderator):
    rule(FilterKind.CONTACT, FilterAction.HOLD)
    author = make_user()
    refusal_of(room, author, "mon 06 12 34 56 78")
    actions.do_issue_sanction(author, actor=moderator, kind="mute", reason="r")
    with pytest.raises(Refused):
        actions.do_release_held_message(HeldMessage.objects.get(), actor=moderator)
    assert not Message.objects.exists()


# --- releasing a held message: rooms' one write path ------------------------------------------


def test_release_goes_through_rooms_store_and_tells_the_room(
    room, make_user, moderator, listen, django_capture_on_commit_callbacks
):
    rule(FilterKind.CONTACT, FilterAction.HOLD)
    author = make_user()
    refusal_of(room, author, "mon 06 12 34 56 78")
    events = listen(room_group(room.id))
    with django_capture_on_commit_callbacks(execute=True):
        message = actions.do_release_held_message(HeldMessage.objects.get(), actor=moderator)
    held = HeldMessage.objects.get()
    assert held.status == HeldStatus.RELEASED and held.message == message
    [event] = events()
    assert event["type"] == "room.message" and event["message"]["id"] == message.id
    assert event["message"]["body"] == "mon 06 12 34 56 78"
    assert audit_events(AuditEvent.HELD_MESSAGE_RELEASED)[0].details["message"] == message.pk


def test_a_held_message_is_not_released_into_an_archived_room(room, make_user, moderator):
    rule(FilterKind.CONTACT, FilterAction.HOLD)
    refusal_of(room, make_user(), "mon 06 12 34 56 78")
    room_actions.do_archive_room(room, actor=otp_verified(moderator), reason="Salon fermé.")
    with pytest.raises(Refused) as refused:
        actions.do_release_held_message(HeldMessage.objects.get(), actor=moderator)
    assert refused.value.code == RefusalCode.CONFLICT
    assert "archivé" in refused.value.detail
    assert not Message.objects.exists()
    assert HeldMessage.objects.get().status == HeldStatus.PENDING


def test_a_held_message_is_not_released_across_a_block(make_user, moderator):
    rule(FilterKind.CONTACT, FilterAction.HOLD)
    sender, recipient = make_user(), make_user()
    direct = room_actions.do_open_direct_room(recipient, actor=sender)
    post(direct, sender, "bonjour")
    room_actions.do_accept_contact_request(ContactRequest.objects.get(room=direct), actor=recipient)
    refusal_of(direct, sender, "mon 06 12 34 56 78")
    room_actions.do_block_user(sender, actor=recipient)
    with pytest.raises(Refused) as refused:
        actions.do_release_held_message(HeldMessage.objects.get(), actor=moderator)
    assert refused.value.code == RefusalCode.CONFLICT
    assert Message.objects.filter(room=direct).count() == 1
    assert HeldMessage.objects.get().status == HeldStatus.PENDING
