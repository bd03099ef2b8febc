"""Ban and purge (moderation/actions/purges.py): one decision that bans a person
and hides their recent messages in every kind of room, with one statement."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.events import AuditEvent
from audit.models import AuditEntry
from compliance import dsa_export
from compliance.transparency import Period, build_report
from core.refusals import Refused
from moderation import actions
from moderation.models import AppealStatus, Sanction, StatementOfReasons
from rooms import actions as room_actions
from rooms.models import ContentOperation, Message, RoomKind
from rooms.notify import room_group, user_group
from tests.conftest import grant_model_looks
from tests.moderation.conftest import post_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def raider(make_user):
    return make_user("raider")


@pytest.fixture
def spread(raider, make_user, make_room):
    """The raider's messages: two public rooms, a private room, a direct
    conversation, and an old message that the purge must leave alone."""
    lobby = make_room(slug="lobby", name="Accueil")
    games = make_room(slug="jeux", name="Jeux")
    private = make_room(RoomKind.PRIVATE, owner=raider, slug="cercle", name="Cercle")
    direct = room_actions.do_open_direct_room(make_user("cible"), actor=raider)
    old = post_message(lobby, raider, "vieux message")
    Message.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=30))
    recent = [
        post_message(lobby, raider, "spam 1"),
        post_message(lobby, raider, "spam 2"),
        post_message(games, raider, "spam 3"),
        post_message(private, raider, "spam 4"),
        post_message(direct, raider, "spam 5"),
    ]
    bystander = post_message(lobby, make_user("temoin"), "bonjour")
    return {
        "rooms": (lobby, games, private, direct),
        "old": old,
        "recent": recent,
        "bystander": bystander,
    }


def ban_and_purge(user, moderator, **fields):
    return actions.do_ban_and_purge(
        user,
        actor=moderator,
        reason=fields.pop("reason", "Raid de spam dans plusieurs salons."),
        purge_hours=fields.pop("purge_hours", 24),
        ground=fields.pop("ground", "terms_spam"),
        **fields,
    )


def test_purge_hides_recent_messages_everywhere_with_one_statement(
    raider, spread, moderator, mailoutbox, listen, django_capture_on_commit_callbacks
):
    room_events = {room.pk: listen(room_group(room.pk)) for room in spread["rooms"]}
    raider_events = listen(user_group(raider.pk))

    with django_capture_on_commit_callbacks(execute=True):
        sanction = ban_and_purge(raider, moderator, duration_minutes=60 * 24 * 7)

    assert sanction.kind == "ban" and sanction.room is None
    for message in spread["recent"]:
        message.refresh_from_db()
        # Hidden, not deleted: the text stays for appeals and requisitions.
        assert message.deleted_at is not None and message.deleted_by == moderator
        assert message.body.startswith("spam")
    spread["old"].refresh_from_db()
    spread["bystander"].refresh_from_db()
    assert spread["old"].deleted_at is None
    assert spread["bystander"].deleted_at is None

    # One statement, the ban's, naming the count and the rooms, not each message.
    [statement] = StatementOfReasons.objects.filter(user=raider)
    assert statement.measure == "ban" and statement.sanction == sanction
    assert statement.purge_hours == 24
    assert sorted(statement.purged_messages) == sorted(m.pk for m in spread["recent"])
    assert "5 messages" in statement.facts
    assert "« Accueil »" in statement.facts and "« Jeux »" in statement.facts
    assert "« Cercle »" in statement.facts and "1 conversation privée" in statement.facts
    assert "spam 1" not in statement.facts
    assert [mail.to for mail in mailoutbox] == [[raider.email]]

    # Audit: the ban, and the purge naming every hidden message.
    [purged] = AuditEntry.objects.filter(event=AuditEvent.MESSAGES_PURGED)
    assert purged.actor_id == moderator.pk and purged.target_id == str(sanction.pk)
    assert purged.details["count"] == 5 and purged.details["hours"] == 24
    assert sorted(purged.details["messages"]) == sorted(m.pk for m in spread["recent"])
    assert sorted(purged.details["rooms"]) == sorted(room.pk for room in spread["rooms"])
    assert AuditEntry.objects.filter(event=AuditEvent.SANCTION_ISSUED).count() == 1
    # Each hidden message is a staff content operation, like any removal.
    assert ContentOperation.objects.filter(kind="delete", staff_member=moderator).count() == 5

    # Once committed: message.deleted in each room, then the person's sockets close.
    for room in spread["rooms"]:
        hidden = sorted(m.pk for m in spread["recent"] if m.room_id == room.pk)
        assert sorted(e["id"] for e in room_events[room.pk]()) == hidden
    assert raider_events() == [{"type": "user.close", "code": 4403, "room": None}]


def test_a_room_ban_still_purges_everywhere(raider, spread, moderator):
    lobby = spread["rooms"][0]
    sanction = ban_and_purge(raider, moderator, room=lobby, purge_hours=2)
    assert sanction.room == lobby
    assert Message.objects.filter(author=raider, deleted_at__isnull=False).count() == 5


def test_nothing_to_purge_still_bans_and_says_so(raider, moderator, make_room):
    old = post_message(make_room(), raider, "ancien")
    Message.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=5))
    ban_and_purge(raider, moderator, purge_hours=1)
    statement = StatementOfReasons.objects.get(user=raider)
    assert statement.purged_messages == []
    assert "aucun n'a été masqué" in statement.facts
    assert Message.objects.get(pk=old.pk).deleted_at is None


@pytest.mark.parametrize("hours", [0, -1, 24 * 8, "24", True, None])
def test_invalid_hours_are_refused_and_nothing_changes(raider, spread, moderator, hours):
    with pytest.raises(Refused) as refusal:
        ban_and_purge(raider, moderator, purge_hours=hours)
    assert refusal.value.code == "invalid"
    assert not Sanction.objects.exists()
    assert not Message.objects.filter(deleted_at__isnull=False).exists()


def test_a_refused_ban_hides_nothing(spread, moderator, make_staff):
    with pytest.raises(Refused):
        ban_and_purge(make_staff(), moderator)
    with pytest.raises(Refused):
        ban_and_purge(spread["recent"][0].author, moderator, duration_minutes=0)
    assert not Message.objects.filter(deleted_at__isnull=False).exists()
    assert not StatementOfReasons.objects.exists()


def test_transparency_and_dsa_export_count_the_purge(raider, spread, moderator):
    sanction = ban_and_purge(raider, moderator)
    today = timezone.localdate()
    report = build_report(Period(today, today))
    assert report["actions"]["purges"] == {"decisions": 1, "messages_hidden": 5}
    assert report["actions"]["message_deletions"]["by_moderators"] == 5
    # One measure, counted once, that restricts both the account and the content.
    own = report["template"]["own_initiative"]
    assert own["purges"] == {"decisions": 1, "messages_hidden": 5}
    assert own["measures_by_restriction"] == {"visibility": 1, "provision": 0, "account": 1}
    assert report["actions"]["total"] == 1
    submission = dsa_export.validate(
        sanction.statement.pk, dsa_export.submission(sanction.statement)
    )
    assert submission["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert submission["decision_account"] == "DECISION_ACCOUNT_TERMINATED"


def test_an_appeal_reversed_lifts_the_ban_and_restores_the_messages(
    raider, spread, moderator, other_moderator
):
    sanction = ban_and_purge(raider, moderator)
    appeal = actions.do_file_appeal(sanction.statement, actor=raider, text="Compte piraté.")
    actions.do_decide_appeal(
        appeal, actor=other_moderator, reverse_decision=True, answer="Piratage établi."
    )
    appeal.refresh_from_db()
    sanction.refresh_from_db()
    assert appeal.status == AppealStatus.REVERSED and sanction.lifted_at is not None
    assert not Message.objects.filter(author=raider, deleted_at__isnull=False).exists()
    assert AuditEntry.objects.filter(event=AuditEvent.ROOM_MESSAGE_RESTORED).count() == 5


# --- the moderator API -------------------------------------------------------------------------


def post_sanction(client, **data):
    return client.post(
        reverse("moderation:api_sanctions"), json.dumps(data), content_type="application/json"
    )


def test_api_bans_and_purges_with_purge_hours(raider, spread, moderator_client):
    response = post_sanction(
        moderator_client,
        user="raider",
        kind="ban",
        room=None,
        duration_minutes=None,
        reason="Raid.",
        purge_hours=24,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "ban" and body["ends_at"] is None and body["purged_messages"] == 5
    assert Message.objects.filter(author=raider, deleted_at__isnull=False).count() == 5


def test_api_without_purge_hours_is_unchanged(raider, spread, moderator_client):
    response = post_sanction(
        moderator_client, user="raider", kind="ban", room=None, duration_minutes=60, reason="R."
    )
    assert response.status_code == 201
    assert "purged_messages" not in response.json()
    assert not Message.objects.filter(deleted_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("kind", "hours"), [("mute", 24), ("ban", "24"), ("ban", 0), ("ban", 10_000)]
)
def test_api_refuses_a_bad_purge(raider, spread, moderator_client, kind, hours):
    response = post_sanction(
        moderator_client, user="raider", kind=kind, room=None, reason="R.", purge_hours=hours
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid"
    assert not Sanction.objects.exists()


# --- the admin -----------------------------------------------------------------------------------


def test_admin_ban_and_purge_form(raider, spread, moderator_client):
    url = reverse("admin:moderation_sanction_purge_add")
    page = moderator_client.get(url + "?user=raider")
    assert page.status_code == 200 and b'value="raider"' in page.content
    listing = grant_model_looks(moderator_client).get(
        reverse("admin:moderation_sanction_changelist")
    )
    assert url.encode() in listing.content
    response = moderator_client.post(
        url,
        {
            "user": "raider",
            "purge_hours": "24",
            "ground": "terms_spam",
            "reason": "Raid de spam.",
        },
    )
    assert response.status_code == 302, response.content
    assert Sanction.objects.get(user=raider).kind == "ban"
    assert Message.objects.filter(author=raider, deleted_at__isnull=False).count() == 5


def test_admin_ban_and_purge_needs_a_second_factor(raider, moderator):
    from tests.conftest import staff_client

    client = staff_client(moderator, otp_verified=False)
    response = client.get(reverse("admin:moderation_sanction_purge_add"))
    assert response.status_code in (302, 403)
    assert not Sanction.objects.exists()


def test_message_list_leads_to_the_form_for_one_author(raider, spread, moderator_client):
    lobby_message = spread["recent"][0]
    changelist = reverse("admin:rooms_message_changelist")
    response = moderator_client.post(
        changelist,
        {"action": "ban_and_purge_author", "_selected_action": [lobby_message.pk]},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("purge/?user=raider")
    mixed = moderator_client.post(
        changelist,
        {
            "action": "ban_and_purge_author",
            "_selected_action": [lobby_message.pk, spread["bystander"].pk],
        },
        follow=True,
    )
    assert "un seul auteur" in mixed.content.decode()


# --- bulk removals: a statement each, counted -----------------------------------------------------


def test_bulk_removal_from_the_private_list_writes_statements_and_counts(
    raider, spread, moderator_client
):
    private = spread["rooms"][2]
    [in_private] = [m for m in spread["recent"] if m.room_id == private.pk]
    client = grant_model_looks(moderator_client)
    changelist = reverse("admin:rooms_privateroommessage_changelist")
    response = client.post(
        changelist, {"action": "bulk_remove", "_selected_action": [in_private.pk]}
    )
    assert response.status_code == 302
    confirm = response["Location"]
    assert confirm.startswith(reverse("admin:rooms_privateroommessage_bulk", args=["remove"]))
    response = client.post(confirm, {"ids": str(in_private.pk), "reason": "Spam.", "clause": "R10"})
    assert response.status_code == 302
    [statement] = StatementOfReasons.objects.all()
    assert statement.measure == "removal" and statement.message == in_private
    in_private.refresh_from_db()
    assert in_private.deleted_at is not None
    today = timezone.localdate()
    report = build_report(Period(today, today))
    assert report["actions"]["by_measure"]["removal"] == 1
    own = report["template"]["own_initiative"]
    assert own["measures_by_restriction"]["visibility"] == 1
    assert own["purges"] == {"decisions": 0, "messages_hidden": 0}
