"""A ban or a kick refuses the room's page and its history API (403) as it
refuses its socket, for the rooms it covers; the person still reads the
statement of reasons and may appeal."""

import pytest
from django.test import Client

from moderation import actions
from moderation.models import StatementOfReasons

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_and_history(client: Client, slug: str) -> tuple[int, int]:
    page = client.get(f"/rooms/{slug}/")
    history = client.get(f"/api/rooms/{slug}/messages/")
    return page.status_code, history.status_code


@pytest.mark.parametrize("kind", ["ban", "kick"])
def test_a_room_sanction_refuses_that_rooms_page_and_history(make_user, make_room, moderator, kind):
    person = make_user("sanctionne")
    room, elsewhere = make_room(slug="ici"), make_room(slug="ailleurs")
    client = signed_in(person)
    assert page_and_history(client, room.slug) == (200, 200)

    actions.do_issue_sanction(
        person,
        actor=moderator,
        kind=kind,
        room=room,
        duration_minutes=10 if kind == "kick" else None,
        reason="Motif.",
    )

    assert page_and_history(client, room.slug) == (403, 403)
    assert client.get(f"/api/rooms/{room.slug}/messages/").json()["error"] == "forbidden"
    assert page_and_history(client, elsewhere.slug) == (200, 200)


def test_a_site_wide_ban_refuses_every_room_but_not_the_statement_and_appeal(
    make_user, make_room, moderator
):
    person = make_user("banni")
    rooms = [make_room(slug="un"), make_room(slug="deux")]
    client = signed_in(person)
    actions.do_issue_sanction(person, actor=moderator, kind="ban", reason="Motif.")

    for room in rooms:
        assert page_and_history(client, room.slug) == (403, 403)
    statement = StatementOfReasons.objects.get(user=person)
    assert client.get(statement.get_absolute_url()).status_code == 200
    appealed = client.post(statement.get_absolute_url(), {"text": "Je conteste ce bannissement."})
    assert appealed.status_code in (200, 302)
    assert statement.appeals.count() == 1


def test_a_mute_still_lets_the_person_read(make_user, make_room, moderator):
    person = make_user("muet")
    room = make_room(slug="lecture")
    client = signed_in(person)
    actions.do_issue_sanction(
        person, actor=moderator, kind="mute", room=room, duration_minutes=10, reason="Motif."
    )
    assert page_and_history(client, room.slug) == (200, 200)
