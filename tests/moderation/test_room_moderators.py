"""Room moderators (docs/moderation.md, "Modérateurs de salon"): their actions
(state, audit rows, statements, on-commit effects), the API's permissions, the
second factor, the limits, and staff's reversal."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.sessions import verify_second_factor
from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import RefusalCode, Refused
from moderation import actions
from moderation.models import (
    Measure,
    Report,
    ReportSource,
    RoomModeratorAction,
    RoomModeratorActionKind,
    Sanction,
    SanctionKind,
    StatementOfReasons,
)
from rooms.models import ContentOperation, Message, RoomMembership, RoomRole, room_group, user_group
from tests.conftest import grant_model_looks, staff_client
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db


def audit_rows(event: AuditEvent, **filters):
    return list(AuditEntry.objects.filter(event=int(event), **filters).order_by("seq"))


def appoint(room, user, role=RoomRole.MODERATOR):
    RoomMembership.objects.update_or_create(room=room, user=user, defaults={"role": role})
    return user


def with_second_factor(user):
    """`user` with a confirmed TOTP app, as a verified session sees them."""
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "default"}
    )
    return verify_second_factor(user, {DEVICE_ID_SESSION_KEY: device.persistent_id})


def member_client(user, *, otp_verified=True) -> Client:
    client = Client()
    client.force_login(user)
    if otp_verified:
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, confirmed=True, defaults={"name": "default"}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def post_json(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


@pytest.fixture
def owner(make_user, room):
    return appoint(room, make_user("proprio"), RoomRole.OWNER)


@pytest.fixture
def room_mod(make_user, room):
    return appoint(room, make_user("modo"))


@pytest.fixture
def member(make_user):
    return make_user("membre")


@pytest.fixture
def said(room, member):
    return post_message(room, member, "un message déplacé")


def url(room, what=""):
    return f"/api/rooms/{room.slug}/moderation/{what}"


# --- the actions ---------------------------------------------------------------------------------


def test_hiding_a_message_tells_the_author_the_room_and_the_trail(
    room, room_mod, said, listen, mailoutbox, django_capture_on_commit_callbacks
):
    room_events = listen(room_group(room.pk))
    with django_capture_on_commit_callbacks(execute=True):
        action = actions.do_hide_message_as_room_moderator(
            said, actor=with_second_factor(room_mod), room=room, reason="Hors sujet.", clause="R4"
        )
    said.refresh_from_db()
    assert said.deleted_at is not None and said.deleted_by_id == room_mod.pk
    assert (action.kind, action.role, action.message_id) == ("hide", "moderator", said.pk)
    statement = action.statement
    assert (statement.user_id, statement.measure, statement.decided_by_id) == (
        said.author_id,
        Measure.REMOVAL,
        room_mod.pk,
    )
    assert statement.clause == "R4" and "Hors sujet." in statement.facts
    # Not a staff action: the content operation names no staff member.
    operation = ContentOperation.objects.get(content_id=said.pk, kind="delete")
    assert operation.staff_member_id is None
    [removed] = audit_rows(AuditEvent.MESSAGE_REMOVED, target_id=str(said.pk))
    assert removed.actor_id == room_mod.pk and removed.details["room_moderator"] is True
    [acted] = audit_rows(AuditEvent.ROOM_MODERATOR_ACTED)
    assert acted.details["kind"] == "hide" and acted.details["room"] == room.pk
    assert acted.details["role"] == "moderator" and acted.target_id == str(action.pk)
    assert room_events() == [{"type": "room.message_deleted", "id": said.pk}]
    assert [mail.to for mail in mailoutbox] == [[said.author.email]]


@pytest.mark.parametrize(
    ("kind", "event"),
    [
        ("mute", {"type": "user.restriction", "room": None}),
        ("kick", {"type": "user.close", "code": 4403, "room": None}),
    ],
)
def test_a_mute_or_a_kick_is_timed_in_the_room_and_reaches_open_sockets(
    room, room_mod, member, kind, event, listen, mailoutbox, django_capture_on_commit_callbacks
):
    member_events = listen(user_group(member.pk))
    with django_capture_on_commit_callbacks(execute=True):
        action = actions.do_restrict_member_as_room_moderator(
            member,
            actor=with_second_factor(room_mod),
            room=room,
            kind=kind,
            duration_minutes=60,
            reason="Insultes répétées.",
        )
    sanction = action.sanction
    assert (sanction.kind, sanction.room_id, sanction.issued_by_id) == (kind, room.pk, room_mod.pk)
    assert sanction.is_active
    assert round((sanction.ends_at - sanction.starts_at).total_seconds()) == 3600
    assert action.statement == StatementOfReasons.objects.get(sanction=sanction)
    assert "Général" in action.statement.scope
    [issued] = audit_rows(AuditEvent.SANCTION_ISSUED)
    assert issued.details["room_moderator"] is True and issued.details["room"] == room.pk
    assert audit_rows(AuditEvent.ROOM_MODERATOR_ACTED)[0].details["sanction"] == sanction.pk
    assert member_events() == [{**event, "room": room.pk}]
    assert [mail.to for mail in mailoutbox] == [[member.email]]


def test_only_the_allowed_durations(room, room_mod, member, settings):
    settings.ROOM_MODERATOR_MAX_MINUTES = 60
    actor = with_second_factor(room_mod)
    for minutes in (1440, 15, None, True, "60"):
        with pytest.raises(Refused) as refused:
            actions.do_restrict_member_as_room_moderator(
                member, actor=actor, room=room, kind="mute", duration_minutes=minutes, reason="x"
            )
        assert refused.value.code == RefusalCode.INVALID
    with pytest.raises(Refused):
        actions.do_restrict_member_as_room_moderator(
            member, actor=actor, room=room, kind="ban", duration_minutes=60, reason="x"
        )
    assert not Sanction.objects.exists()


def test_who_a_room_moderator_may_act_on(room, owner, room_mod, make_user, make_staff):
    other_mod = appoint(room, make_user("autre-modo"))
    staff = make_staff()
    moderator = with_second_factor(room_mod)
    for target in (owner, other_mod, staff, room_mod):
        with pytest.raises(Refused) as refused:
            actions.do_restrict_member_as_room_moderator(
                target, actor=moderator, room=room, kind="mute", duration_minutes=10, reason="x"
            )
        assert refused.value.code in (RefusalCode.FORBIDDEN, RefusalCode.INVALID)
    with pytest.raises(Refused) as refused:
        actions.do_hide_message_as_room_moderator(
            post_message(room, owner, "règle du salon"), actor=moderator, room=room, reason="x"
        )
    assert refused.value.code == RefusalCode.FORBIDDEN
    # The owner acts on a moderator.
    action = actions.do_restrict_member_as_room_moderator(
        other_mod,
        actor=with_second_factor(owner),
        room=room,
        kind="kick",
        duration_minutes=10,
        reason="Abus de ses droits.",
    )
    assert action.role == "owner" and action.sanction.user_id == other_mod.pk
    assert not AuditEntry.objects.filter(
        event=AuditEvent.SANCTION_ISSUED, details__user=staff.pk
    ).exists()


def test_not_in_another_room_and_not_without_a_second_factor(
    room, room_mod, member, said, make_room
):
    elsewhere = make_room(slug="ailleurs")
    with pytest.raises(Refused) as refused:
        actions.do_restrict_member_as_room_moderator(
            member,
            actor=with_second_factor(room_mod),
            room=elsewhere,
            kind="mute",
            duration_minutes=10,
            reason="x",
        )
    assert refused.value.code == RefusalCode.FORBIDDEN
    # A message of the room, named with another room's slug: not found there.
    appoint(elsewhere, room_mod)
    with pytest.raises(Refused) as refused:
        actions.do_hide_message_as_room_moderator(
            said, actor=with_second_factor(room_mod), room=elsewhere, reason="x"
        )
    assert refused.value.code == RefusalCode.NOT_FOUND
    with pytest.raises(Refused) as refused:
        # A fresh instance: the session behind it never passed the second factor.
        fresh = type(room_mod).objects.get(pk=room_mod.pk)
        actions.do_hide_message_as_room_moderator(said, actor=fresh, room=room, reason="x")
    assert refused.value.code == RefusalCode.OTP_REQUIRED
    assert "/accounts/otp/" in refused.value.detail
    assert not RoomModeratorAction.objects.exists()


def test_room_moderators_are_rate_limited(room, room_mod, make_user, settings):
    settings.ROOM_MODERATOR_ACTIONS_PER_HOUR = 2
    actor = with_second_factor(room_mod)
    for _number in range(2):
        actions.do_restrict_member_as_room_moderator(
            make_user(), actor=actor, room=room, kind="mute", duration_minutes=10, reason="x"
        )
    with pytest.raises(Refused) as refused:
        actions.do_restrict_member_as_room_moderator(
            make_user(), actor=actor, room=room, kind="mute", duration_minutes=10, reason="x"
        )
    assert refused.value.code == RefusalCode.RATE_LIMITED
    assert Sanction.objects.count() == 2


def test_escalating_files_a_report_marked_as_a_room_moderators(room, room_mod, said):
    action = actions.do_escalate_to_staff(
        actor=with_second_factor(room_mod),
        room=room,
        note="Il menace un membre en privé, je préfère que l'équipe regarde.",
        category="threat",
        message=said,
    )
    report = action.report
    assert report.source == ReportSource.ROOM_MODERATOR
    assert report.get_source_display() == "transmis par un modérateur de salon"
    assert (report.reporter_id, report.target_message_id, report.room_id) == (
        room_mod.pk,
        said.pk,
        room.pk,
    )
    assert report.details.startswith("Il menace")
    assert any(line["id"] == said.pk for line in report.context)
    assert audit_rows(AuditEvent.REPORT_FILED)[0].target_id == str(report.pk)
    assert audit_rows(AuditEvent.ROOM_MODERATOR_ACTED)[0].details["report"] == report.pk
    with pytest.raises(Refused) as refused:
        actions.do_reverse_room_moderator_action(action, actor=None, reason="x")
    assert refused.value.code == RefusalCode.INVALID_STATUS


# --- staff's reversal ----------------------------------------------------------------------------


def test_staff_reverse_a_hide_and_a_kick_and_the_member_is_told(
    room, room_mod, member, said, moderator, listen, mailoutbox, django_capture_on_commit_callbacks
):
    actor = with_second_factor(room_mod)
    hidden = actions.do_hide_message_as_room_moderator(said, actor=actor, room=room, reason="x")
    kicked = actions.do_restrict_member_as_room_moderator(
        member, actor=actor, room=room, kind="kick", duration_minutes=60, reason="x"
    )
    room_events = listen(room_group(room.pk))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_reverse_room_moderator_action(hidden, actor=moderator, reason="Message correct.")
        actions.do_reverse_room_moderator_action(kicked, actor=moderator, reason="Excessif.")
    said.refresh_from_db()
    kicked.refresh_from_db()
    assert said.deleted_at is None
    assert kicked.sanction.lifted_by_id == moderator.pk and not kicked.sanction.is_active
    assert kicked.reversed_by_id == moderator.pk and kicked.reversal_reason == "Excessif."
    assert [event["type"] for event in room_events()] == ["room.message"]
    reversed_entries = audit_rows(AuditEvent.ROOM_MODERATOR_ACTION_REVERSED)
    assert [entry.target_id for entry in reversed_entries] == [str(hidden.pk), str(kicked.pk)]
    assert audit_rows(AuditEvent.SANCTION_LIFTED)[0].actor_id == moderator.pk
    assert audit_rows(AuditEvent.ROOM_MESSAGE_RESTORED)[0].actor_id == moderator.pk
    assert [mail.to for mail in mailoutbox] == [[member.email], [member.email]]
    assert "Général" in mailoutbox[1].body and "Excessif." in mailoutbox[1].body
    with pytest.raises(Refused) as refused:
        actions.do_reverse_room_moderator_action(kicked, actor=moderator, reason="encore")
    assert refused.value.code == RefusalCode.CONFLICT


def test_the_back_office_lists_and_reverses_room_moderators_actions(
    room, room_mod, member, moderator
):
    action = actions.do_restrict_member_as_room_moderator(
        member,
        actor=with_second_factor(room_mod),
        room=room,
        kind="mute",
        duration_minutes=10,
        reason="x",
    )
    client = grant_model_looks(staff_client(moderator), "moderation")
    listing = client.get(reverse("admin:moderation_roommoderatoraction_changelist"))
    assert listing.status_code == 200
    assert "Actions des modérateurs de salon" in listing.text and "modo" in listing.text
    bulk = reverse("admin:moderation_roommoderatoraction_bulk", args=["reverse"])
    answer = client.post(bulk, {"ids": str(action.pk), "reason": "Mesure injustifiée."})
    assert answer.status_code == 302
    action.refresh_from_db()
    assert action.reversed_by_id == moderator.pk
    assert action.sanction.lifted_at is not None


# --- the API -------------------------------------------------------------------------------------


def test_the_api_asks_for_a_room_moderator_with_a_second_factor(
    room, room_mod, member, said, make_user, make_room
):
    payload = {"message": said.pk, "reason": "Hors sujet."}
    plain = post_json(member_client(make_user("passant")), url(room, "hide/"), payload)
    assert (plain.status_code, plain.json()["error"]) == (403, "forbidden")
    without = post_json(member_client(room_mod, otp_verified=False), url(room, "hide/"), payload)
    assert (without.status_code, without.json()["error"]) == (403, "otp_required")
    assert "/accounts/otp/" in without.json()["detail"]
    other = make_room(slug="autre")
    elsewhere = post_json(member_client(room_mod), url(other, "hide/"), payload)
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (403, "forbidden")
    anonymous = post_json(Client(), url(room, "hide/"), payload)
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/json"
    assert not Message.objects.filter(deleted_at__isnull=False).exists()

    client = member_client(room_mod)
    menu = client.get(url(room))
    assert menu.json() == {
        "room": room.slug,
        "role": "moderator",
        "durations": [10, 60, 1440],
        "categories": menu.json()["categories"],
    }
    done = post_json(client, url(room, "hide/"), payload)
    assert done.status_code == 201 and done.json()["kind"] == "hide"
    again = post_json(client, url(room, "hide/"), payload)
    assert again.status_code == 404


def test_the_api_refuses_acting_on_the_owner_staff_or_another_moderator(
    room, owner, room_mod, make_user, make_staff
):
    client = member_client(room_mod)
    other_mod = appoint(room, make_user("autre-modo"))
    for target in (owner, make_staff(), other_mod):
        answer = post_json(
            client,
            url(room, "restrict/"),
            {"user": target.username, "kind": "kick", "duration_minutes": 10, "reason": "x"},
        )
        assert (answer.status_code, answer.json()["error"]) == (403, "forbidden"), target
    assert not Sanction.objects.exists()
    by_owner = post_json(
        member_client(owner),
        url(room, "restrict/"),
        {"user": other_mod.username, "kind": "mute", "duration_minutes": 10, "reason": "x"},
    )
    assert by_owner.status_code == 201
    assert by_owner.json()["user"] == other_mod.username and by_owner.json()["kind"] == "mute"


def test_the_api_escalates_and_needs_csrf(room, room_mod, said):
    client = member_client(room_mod)
    answer = post_json(
        client,
        url(room, "escalate/"),
        {"message": said.pk, "category": "harassment", "note": "À regarder."},
    )
    assert answer.status_code == 201
    assert Report.objects.get(pk=answer.json()["report"]).source == "room_moderator"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(room_mod)
    refused = post_json(strict, url(room, "escalate/"), {"user": said.author.username})
    assert (refused.status_code, refused.json()["error"]) == (403, "csrf")


def test_no_access_to_personal_data_through_the_menu(room, room_mod, said):
    """What the API answers names pseudonyms and ids, never an e-mail."""
    client = member_client(room_mod)
    answers = [
        client.get(url(room)).text,
        post_json(
            client,
            url(room, "restrict/"),
            {"user": said.author.username, "kind": "mute", "duration_minutes": 10, "reason": "x"},
        ).text,
    ]
    assert all(said.author.email not in text for text in answers)
    assert RoomModeratorAction.objects.get().kind == RoomModeratorActionKind.MUTE
    assert Sanction.objects.get().kind == SanctionKind.MUTE
