"""Raid mode (moderation/raid.py, moderation/actions/raid_mode.py): the switch,
the wave detector through the real flows, each effect, expiry and the audit trail."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client
from django.utils import timezone

from audit.events import AuditEvent
from audit.models import AuditEntry
from core.refusals import RefusalCode, Refused
from moderation import actions
from moderation.models import HeldMessage, HeldStatus, RaidMode, RaidTrigger, StatementOfReasons
from rooms import actions as room_actions
from rooms import policy
from rooms.models import ContactRequest, Message, RoomMembership
from tests.conftest import grant_model_looks
from tests.moderation.conftest import verified_client

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "Tr3s-long-mot-de-passe!"


@pytest.fixture(autouse=True)
def _fast_signups(settings):
    # Hundreds of sign-ups: allauth's per-address limit and Argon2 are not under test here.
    settings.ACCOUNT_RATE_LIMITS = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def established(make_user, name=None):
    """A member who joined long before any raid."""
    user = make_user(name)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=90))
    user.refresh_from_db()
    return user


def sign_up(client: Client, number: int):
    return client.post(
        "/accounts/signup/",
        {
            "email": f"raider{number}@example.org",
            "username": f"Raider_{number}",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "date_of_birth": "1995-06-14",
        },
    )


def open_dm(client: Client, username: str):
    return client.post(
        "/api/dm/", json.dumps({"username": username}), content_type="application/json"
    )


def member_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start_site_raid(moderator, **kwargs) -> RaidMode:
    return actions.do_start_raid_mode(actor=moderator, reason="Vague de faux comptes.", **kwargs)


def time_passes(delta: timedelta) -> None:
    """The clock moves on by `delta`: every row the wave detector counts gets older."""
    User.objects.update(date_joined=F("date_joined") - delta)
    RoomMembership.objects.update(joined_at=F("joined_at") - delta)
    ContactRequest.objects.update(created_at=F("created_at") - delta)


# --- the simulated raid, through the real flows ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_wave_of_signups_through_the_form_trips_raid_mode_and_pauses_signups(settings):
    settings.RAID_SIGNUPS_THRESHOLD = 150
    settings.RAID_SIGNUPS_WINDOW_SECONDS = 60
    client = Client()
    answers = [sign_up(client, number).status_code for number in range(200)]
    # The first 150 went through (a redirect to the next step); the wave then
    # tripped raid mode, and the sign-up page refused the 50 others cleanly.
    assert answers[:150] == [302] * 150
    assert User.objects.filter(username__startswith="Raider_").count() == 150
    raid = RaidMode.objects.get()
    assert (raid.room, raid.trigger, raid.started_by) == (None, RaidTrigger.SIGNUPS, None)
    assert raid.figures == {"count": 150, "threshold": 150, "window_seconds": 60}
    assert raid.ends_at - raid.started_at == timedelta(minutes=60)
    entry = AuditEntry.objects.get(event=AuditEvent.RAID_MODE_TRIPPED)
    assert entry.actor_id is None and entry.target_id == str(raid.pk)
    assert entry.details["figures"] == raid.figures
    page = Client().get("/accounts/signup/")
    assert "Inscriptions suspendues" in page.content.decode()
    assert 'name="password1"' not in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_wave_of_new_conversations_from_recent_accounts_trips_raid_mode(make_user, settings):
    settings.RAID_DIRECT_CONVERSATIONS_THRESHOLD = 100
    targets = [established(make_user) for _ in range(20)]
    raiders = [make_user(f"new{number}") for number in range(130)]
    answers = [
        open_dm(member_client(raider), targets[number % len(targets)].username).status_code
        for number, raider in enumerate(raiders)
    ]
    assert answers[:100] == [200] * 100
    assert answers[100:] == [403] * 30
    raid = RaidMode.objects.get()
    assert raid.trigger == RaidTrigger.DIRECT_CONVERSATIONS
    assert raid.figures["count"] == 100
    # An established member still starts conversations during the raid.
    veteran = established(make_user)
    assert open_dm(member_client(veteran), targets[0].username).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_wave_of_arrivals_in_one_room_trips_that_rooms_raid_mode(make_user, make_room, settings):
    settings.RAID_JOINS_THRESHOLD = 120
    room, other = make_room(slug="place"), make_room(slug="calme")
    for number in range(150):
        # What the room's socket does when it opens (rooms.consumers.RoomConsumer.connect).
        room_actions.do_enter_room(room, f"chan-{number}", actor=make_user(f"arrival{number}"))
    raid = RaidMode.objects.get()
    assert (raid.room, raid.trigger, raid.figures["count"]) == (room, RaidTrigger.JOINS, 120)
    assert raid.figures["room"] == "place"
    assert policy.effective_slow_mode(room) == 30
    assert policy.effective_slow_mode(other) == 0
    # A room's raid leaves the rest of the site alone: sign-ups stay open.
    assert sign_up(Client(), 1).status_code == 302


def test_a_quiet_day_does_not_trip_raid_mode(
    make_user, make_room, django_capture_on_commit_callbacks
):
    """A busy but normal day at the default thresholds: 150 sign-ups, as many
    arrivals in one room and 50 new conversations from new members, spread
    over 24 hours."""
    room = make_room(slug="place")
    veterans = [established(make_user) for _ in range(10)]
    client = Client()
    step = timedelta(hours=24) / 150
    for number in range(150):
        with django_capture_on_commit_callbacks(execute=True):
            assert sign_up(client, number).status_code == 302
            newcomer = User.objects.get(username=f"Raider_{number}")
            room_actions.do_enter_room(room, f"chan-{number}", actor=newcomer)
            if number % 3 == 0:
                room_actions.do_open_direct_room(veterans[number % 10], actor=newcomer)
        time_passes(step)
    assert not RaidMode.objects.exists()
    assert not AuditEntry.objects.filter(event=AuditEvent.RAID_MODE_TRIPPED).exists()


# --- the switch ----------------------------------------------------------------------------


def test_staff_switch_raid_mode_on_from_the_back_office_with_a_reason(moderator, room):
    client = verified_client(moderator)
    page = client.get("/admin/moderation/raidmode/add/")
    assert page.status_code == 200
    refused = client.post("/admin/moderation/raidmode/add/", {"room": "", "reason": ""})
    assert refused.status_code == 200 and not RaidMode.objects.exists()
    response = client.post(
        "/admin/moderation/raidmode/add/",
        {"room": room.pk, "duration_minutes": 30, "reason": "Raid annoncé sur un forum."},
    )
    assert response.status_code == 302
    raid = RaidMode.objects.get()
    assert (raid.room, raid.trigger, raid.started_by) == (room, RaidTrigger.MANUAL, moderator)
    assert raid.ends_at - raid.started_at == timedelta(minutes=30)
    entry = AuditEntry.objects.get(event=AuditEvent.RAID_MODE_STARTED)
    assert (entry.actor_id, entry.reason, entry.target_id) == (
        moderator.pk,
        "Raid annoncé sur un forum.",
        str(raid.pk),
    )
    assert entry.details["room"] == room.pk
    # Every back-office page then says so, with the way to end it.
    home = client.get("/admin/").content.decode()
    assert "Mode raid en cours" in home and "Général" in home


def test_the_switch_needs_the_second_factor(moderator):
    client = verified_client(moderator, otp_verified=False)
    response = client.post("/admin/moderation/raidmode/add/", {"reason": "Essai."})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not RaidMode.objects.exists()


def test_staff_extend_then_end_raid_mode_with_a_reason(moderator):
    raid = start_site_raid(moderator, duration_minutes=20)
    client = verified_client(moderator)
    url = "/admin/moderation/raidmode/bulk/{}/"
    client.post(
        url.format("extend"), {"ids": str(raid.pk), "minutes": 40, "reason": "Ça continue."}
    )
    raid.refresh_from_db()
    assert raid.ends_at - raid.started_at == timedelta(minutes=60)
    extended = AuditEntry.objects.get(event=AuditEvent.RAID_MODE_EXTENDED)
    assert (extended.actor_id, extended.reason) == (moderator.pk, "Ça continue.")
    client.post(url.format("end"), {"ids": str(raid.pk), "reason": "C'est calme."})
    raid.refresh_from_db()
    assert raid.ended_at is not None and raid.ended_by == moderator
    assert not raid.is_active
    ended = AuditEntry.objects.get(event=AuditEvent.RAID_MODE_ENDED)
    assert (ended.actor_id, ended.reason) == (moderator.pk, "C'est calme.")
    assert "Mode raid en cours" not in client.get("/admin/").content.decode()
    assert "/accounts/signup/" in Client().get("/accounts/signup/").content.decode()


def test_one_raid_mode_at_a_time_per_scope(moderator, room):
    start_site_raid(moderator)
    with pytest.raises(Refused) as refused:
        start_site_raid(moderator)
    assert refused.value.code == RefusalCode.CONFLICT
    # The site's covers every room: a room's would add nothing.
    with pytest.raises(Refused):
        start_site_raid(moderator, room=room)


def test_raid_mode_expires_by_itself(moderator, make_user, room):
    raid = start_site_raid(moderator, duration_minutes=5)
    newcomer = make_user()
    assert "Inscriptions suspendues" in Client().get("/accounts/signup/").content.decode()
    # Its end comes: nothing runs, every check compares with the clock.
    raid.started_at = timezone.now() - timedelta(minutes=6)
    raid.ends_at = timezone.now() - timedelta(minutes=1)
    raid.save(update_fields=["started_at", "ends_at"])
    assert 'name="password1"' in Client().get("/accounts/signup/").content.decode()
    room_actions.do_post_message(room, "bonjour", actor=newcomer)
    room_actions.do_post_message(room, "me revoilà", actor=newcomer)  # slow mode back to 0
    assert Message.objects.filter(author=newcomer).count() == 2
    assert policy.effective_slow_mode(room) == 0
    assert "raid-banner" not in member_client(newcomer).get("/rooms/").content.decode()


# --- each effect ---------------------------------------------------------------------------


def test_signups_paused_the_page_explains_and_the_form_creates_nothing(moderator):
    start_site_raid(moderator)
    page = Client().get("/accounts/signup/")
    html = page.content.decode()
    assert "Inscriptions suspendues" in html and "mode raid" in html
    response = sign_up(Client(), 1)
    assert "Inscriptions suspendues" in response.content.decode()
    assert not User.objects.filter(username="Raider_1").exists()


def test_first_messages_of_recent_accounts_are_held_for_review(
    moderator, make_user, room, settings
):
    settings.RAID_FIRST_MESSAGES_HELD = 1
    raid = start_site_raid(moderator)
    newcomer, veteran = make_user("nouveau"), established(make_user, "ancien")
    with pytest.raises(Refused) as refused:
        room_actions.do_post_message(room, "salut tout le monde", actor=newcomer)
    assert refused.value.code == RefusalCode.FILTERED
    assert "Mode raid" in refused.value.detail
    held = HeldMessage.objects.get()
    assert (held.author, held.room, held.rule, held.body) == (
        newcomer,
        room,
        None,
        "salut tout le monde",
    )
    assert held.raid_mode == raid
    entry = AuditEntry.objects.filter(event=AuditEvent.MESSAGE_HELD).get()
    assert entry.details["raid_mode"] == raid.pk
    # An established member is not held.
    room_actions.do_post_message(room, "bienvenue", actor=veteran)
    # Released by a moderator, the message is published; the next one is not held.
    message = actions.do_release_held_message(held, actor=moderator)
    assert message.author == newcomer
    assert HeldMessage.objects.get().status == HeldStatus.RELEASED
    settings.RAID_SLOW_MODE_SECONDS = 0
    room_actions.do_post_message(room, "merci", actor=newcomer)
    assert Message.objects.filter(author=newcomer).count() == 2


def test_a_rooms_raid_holds_only_there(moderator, make_user, make_room):
    here, elsewhere = make_room(slug="ici"), make_room(slug="ailleurs")
    actions.do_start_raid_mode(actor=moderator, room=here, reason="Arrivées en masse.")
    newcomer = make_user()
    with pytest.raises(Refused):
        room_actions.do_post_message(here, "coucou", actor=newcomer)
    room_actions.do_post_message(elsewhere, "coucou", actor=newcomer)
    assert Message.objects.filter(room=elsewhere).count() == 1


def test_slow_mode_is_raised_then_restored(moderator, make_user, make_room, settings):
    settings.RAID_SLOW_MODE_SECONDS = 45
    room = make_room(slug="lent", slow_mode_seconds=10)
    veteran = established(make_user)
    raid = start_site_raid(moderator)
    assert policy.effective_slow_mode(room) == 45
    room_actions.do_post_message(room, "un", actor=veteran)
    with pytest.raises(Refused) as refused:
        room_actions.do_post_message(room, "deux", actor=veteran)
    assert refused.value.code == RefusalCode.RATE_LIMITED and "45" in refused.value.detail
    page = member_client(veteran).get("/rooms/lent/").content.decode()
    assert "toutes les 45 secondes" in page and "Mode raid sur tout le site" in page
    # The room's own setting was never touched: ending the raid restores it.
    room.refresh_from_db()
    assert room.slow_mode_seconds == 10
    actions.do_end_raid_mode(raid, actor=moderator, reason="Fini.")
    assert policy.effective_slow_mode(room) == 10


def test_new_conversations_from_recent_accounts_are_frozen(moderator, make_user):
    start_site_raid(moderator)
    newcomer, veteran, target = make_user(), established(make_user), established(make_user)
    refused = open_dm(member_client(newcomer), target.username)
    assert refused.status_code == 403
    assert "Mode raid" in refused.json()["detail"]
    page = member_client(newcomer).post(f"/dm/{target.username}/")
    assert page.status_code == 403 and "Mode raid" in page.content.decode()
    assert not ContactRequest.objects.filter(sender=newcomer).exists()
    assert open_dm(member_client(veteran), target.username).status_code == 200


def test_banners_site_wide_and_in_the_room(moderator, make_user, make_room):
    here = make_room(slug="ici", name="Ici")
    make_room(slug="ailleurs")
    reader = make_user()
    client = member_client(reader)
    assert "raid-banner" not in client.get("/rooms/ici/").content.decode()
    actions.do_start_raid_mode(actor=moderator, room=here, reason="Arrivées en masse.")
    assert "Mode raid dans ce salon" in client.get("/rooms/ici/").content.decode()
    assert "raid-banner" not in client.get("/rooms/ailleurs/").content.decode()
    assert "raid-banner" not in client.get("/rooms/").content.decode()
    start_site_raid(moderator)
    assert "Mode raid sur tout le site" in client.get("/rooms/").content.decode()
    assert "Mode raid sur tout le site" in Client().get("/").content.decode()


def test_an_edit_is_not_held_slow_mode_and_hold_are_about_new_messages(
    moderator, make_user, room, settings
):
    settings.RAID_FIRST_MESSAGES_HELD = 3
    settings.RAID_SLOW_MODE_SECONDS = 0
    newcomer = make_user()
    message = room_actions.do_post_message(room, "bonjour", actor=newcomer).message
    start_site_raid(moderator)
    edited = room_actions.do_edit_message(message.pk, "bonjour à tous", actor=newcomer)
    assert edited.body == "bonjour à tous"
    assert not HeldMessage.objects.exists()
    with pytest.raises(Refused):  # a new message is held: one published, three needed
        room_actions.do_post_message(room, "et re-bonjour", actor=newcomer)
    assert HeldMessage.objects.count() == 1


def test_a_refused_raid_hold_says_raid_mode_in_its_statement(moderator, make_user, room):
    start_site_raid(moderator)
    newcomer = make_user()
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "achetez mes crypto", actor=newcomer)
    held = HeldMessage.objects.get()
    actions.do_reject_held_message(held, actor=moderator, reason="Publicité.")
    statement = StatementOfReasons.objects.get(user=newcomer)
    assert "retenu par le mode raid" in statement.facts
    assert "achetez mes crypto" in statement.facts
    client = grant_model_looks(verified_client(moderator), "moderation")
    page = client.get("/admin/moderation/heldmessage/?status__exact=rejected")
    assert page.status_code == 200
    assert "Mode raid · tout le site" in page.content.decode()  # why it was held
