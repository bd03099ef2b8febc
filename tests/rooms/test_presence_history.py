"""Who could have seen a message: the answer from the presence intervals, and the
staff page behind its own stated reason, reached from the message and the report."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.access import REASON_FIELD
from audit.events import AuditEvent
from audit.models import LookedAtPerson
from moderation import actions as moderation_actions
from rooms.models import Message, PresenceInterval, RoomKind, RoomMembership
from rooms.presence import PRESENCE_TTL_SECONDS
from rooms.presence_history import present_around
from tests.audit.conftest import entries_since, last_seq
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db
REASON = "Signalement 42 : qui a lu la menace ?"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def scene(make_user, make_room):
    """A message at `moment` in a room where each person came and went at known times."""
    moment = timezone.now() - timedelta(hours=2)
    room = make_room(slug="place")
    other_room = make_room(slug="autre-salon")
    people = {
        name: make_user(name)
        for name in ("p_autrice", "p_tout", "p_parti", "p_venu", "p_proche", "p_mort", "p_ailleurs")
    }
    message = Message.objects.create(
        room=room, author=people["p_autrice"], body="la menace <b>", created=moment
    )

    def was(name, start, end, *, seen=None, in_room=room):
        return PresenceInterval.objects.create(
            room=in_room,
            user=people[name],
            started_at=moment + start,
            ended_at=None if end is None else moment + end,
            seen_at=moment + (seen if seen is not None else (end or timedelta(0))),
        )

    was("p_autrice", -10 * MINUTE, 5 * MINUTE)
    was("p_tout", -60 * MINUTE, None, seen=2 * 60 * MINUTE)  # still there (refreshed now)
    was("p_parti", -30 * MINUTE, -3 * MINUTE)  # left before
    was("p_venu", 2 * MINUTE, 20 * MINUTE)  # came after
    was("p_proche", -9 * MINUTE, -timedelta(seconds=30))  # left half a minute before
    # Its process died 10 minutes before the message, the interval never closed.
    was("p_mort", -40 * MINUTE, None, seen=-10 * MINUTE)
    was("p_ailleurs", -60 * MINUTE, 60 * MINUTE, in_room=other_room)
    return {"message": message, "room": room, "people": people, "moment": moment}


def names(answer, *, at_moment=None):
    return sorted(p.username for p in answer if at_moment is None or p.at_moment == at_moment)


def test_the_answer_names_those_present_at_the_moment_and_no_one_else(scene):
    answer = present_around(scene["room"], scene["moment"])
    assert names(answer) == ["p_autrice", "p_tout"]
    assert all(p.at_moment for p in answer)
    still = next(p for p in answer if p.username == "p_tout")
    assert still.ended_at is None  # still in the room
    gone = next(p for p in answer if p.username == "p_autrice")
    assert gone.ended_at == scene["moment"] + 5 * MINUTE


def test_a_window_adds_those_around_the_moment_apart(scene):
    answer = present_around(scene["room"], scene["moment"], timedelta(minutes=5))
    assert names(answer, at_moment=True) == ["p_autrice", "p_tout"]
    assert names(answer, at_moment=False) == ["p_parti", "p_proche", "p_venu"]
    assert answer[0].at_moment and not answer[-1].at_moment  # those present first
    wide = present_around(scene["room"], scene["moment"], timedelta(minutes=15))
    # The dead process's interval ended at its last refresh, 10 minutes before.
    assert "p_mort" in names(wide, at_moment=False)
    assert "p_ailleurs" not in names(wide)


def test_an_open_interval_of_a_live_socket_runs_to_now(scene, make_user):
    late = make_user("tard")
    PresenceInterval.objects.create(
        room=scene["room"],
        user=late,
        started_at=scene["moment"] - MINUTE,
        ended_at=None,
        seen_at=timezone.now() - timedelta(seconds=PRESENCE_TTL_SECONDS // 3),
    )
    assert "tard" in names(present_around(scene["room"], scene["moment"]))


def presence_url(message) -> str:
    return reverse("admin:rooms_messagepresence_change", args=[message.pk])


def test_the_page_asks_a_reason_for_each_message_then_records_the_look(scene, make_staff):
    moderator = make_staff("moderator")
    client = staff_client(moderator)
    url = presence_url(scene["message"])
    before = last_seq()

    refused = client.get(url)
    assert refused.status_code == 403
    assert f'name="{REASON_FIELD}"' in refused.text
    assert "p_autrice" not in refused.text and "p_tout" not in refused.text
    assert entries_since(before) == []
    # A reason too short is refused too, and records nothing.
    assert client.post(url, {REASON_FIELD: "x"}).status_code == 403
    assert entries_since(before) == []

    assert client.post(url, {REASON_FIELD: REASON}).status_code == 302
    page = client.get(url, {"window": "5"})
    assert page.status_code == 200
    for name in ("p_autrice", "p_tout", "p_parti", "p_proche", "p_venu"):
        assert name in page.text
    assert "p_ailleurs" not in page.text and "p_mort" not in page.text
    assert "la menace" not in page.text  # the text is on the message's own page
    [look] = entries_since(before)
    assert look.event == AuditEvent.VIEW_PRESENCE
    assert (look.actor_id, look.reason) == (moderator.pk, REASON)
    assert (look.target_type, look.target_id) == ("rooms.messagepresence", str(scene["message"].pk))
    assert look.details["window_minutes"] == 5 and look.details["rows"] == 5
    shown = {
        scene["people"][name].pk
        for name in ("p_autrice", "p_tout", "p_parti", "p_proche", "p_venu")
    }
    assert set(look.details["people"]) == shown
    assert look.details["rooms"] == [scene["room"].pk]
    assert (
        set(LookedAtPerson.objects.filter(seq=look.seq).values_list("person_id", flat=True))
        == shown
    )

    # The reason covers this message, not another one.
    other = Message.objects.create(room=scene["room"], author=scene["people"]["p_tout"], body="x")
    assert client.get(presence_url(other)).status_code == 403


def test_a_member_or_unverified_staff_never_sees_it(scene, make_user, make_staff, client):
    url = presence_url(scene["message"])
    client.force_login(make_user("curieux"))
    assert client.get(url).status_code in (302, 403)
    unverified = staff_client(make_staff("moderator"), otp_verified=False)
    response = unverified.get(url)
    assert response.status_code in (302, 403) and "p_tout" not in response.text


def test_reached_from_the_message_page_and_from_the_report(scene, make_staff, make_room):
    moderator = make_staff("moderator")
    client = staff_client(moderator)
    message = scene["message"]
    page = client.get(reverse("admin:rooms_message_change", args=[message.pk]))
    assert page.status_code == 200
    assert presence_url(message) in page.text
    # A private room's message, and the report about it, link to the same page.
    private = make_room(RoomKind.PRIVATE, slug="cercle")
    secret = Message.objects.create(room=private, author=scene["people"]["p_tout"], body="chut")
    RoomMembership.objects.create(room=private, user=scene["people"]["p_parti"])
    report = moderation_actions.do_file_report(
        actor=scene["people"]["p_parti"], category="threat", message=secret
    )
    decide = reverse("admin:moderation_report_decide", args=[report.pk])
    client.post(reverse("admin:moderation_report_changelist"), {REASON_FIELD: REASON})
    client.post(decide, {REASON_FIELD: REASON})
    assert presence_url(secret) in client.get(decide).text
