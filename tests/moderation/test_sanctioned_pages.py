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


def test_a_banned_member_reloading_the_room_reads_the_decision_and_its_appeal(
    make_user, make_room, moderator
):
    """The refused page names the measure, its end and links the statement of
    reasons and its appeal form (rooms/_restriction.html)."""
    person = make_user("exclu")
    room = make_room(slug="salle")
    client = signed_in(person)
    sanction = actions.do_issue_sanction(
        person, actor=moderator, kind="ban", room=room, duration_minutes=60, reason="Motif."
    )
    statement = StatementOfReasons.objects.get(sanction=sanction)

    page = client.get(f"/rooms/{room.slug}/")

    assert page.status_code == 403
    assert page.context["restriction"].measure == "ban"
    html = page.content.decode()
    assert "Bannissement de ce salon" in html
    assert f'data-until="{sanction.ends_at.isoformat()}"' in html
    assert f'href="{statement.get_absolute_url()}"' in html
    assert f'href="{statement.get_absolute_url()}#appeal"' in html
    decision = client.get(statement.get_absolute_url())
    assert 'id="appeal"' in decision.content.decode()


def test_a_muted_member_gets_the_banner_and_a_locked_composer_on_load(
    make_user, make_room, moderator
):
    person = make_user("muette")
    room = make_room(slug="parloir")
    actions.do_issue_sanction(person, actor=moderator, kind="mute", reason="Motif.")
    page = signed_in(person).get(f"/rooms/{room.slug}/")
    assert page.status_code == 200
    frame = page.context["restriction_frame"]
    assert (frame["measure"], frame["scope"], frame["until"]) == ("mute", "site", None)
    html = page.content.decode()
    assert "Mise en sourdine sur tout le site" in html
    assert "à titre définitif" in html
    assert 'id="chat-restriction"' in html


def test_a_site_banned_member_signs_in_again_and_reaches_decisions_and_appeal(make_user, moderator):
    """A ban closes sockets and rooms, never the account: signed out, the member
    signs in again and finds the decision under "Mes décisions"."""
    from tests.conftest import DEFAULT_PASSWORD

    person = make_user("revenant")
    actions.do_issue_sanction(person, actor=moderator, kind="ban", reason="Motif.")
    statement = StatementOfReasons.objects.get(user=person)
    client = Client()
    signed = client.post("/accounts/login/", {"login": "revenant", "password": DEFAULT_PASSWORD})
    assert signed.status_code == 302
    decisions = client.get("/decisions/")
    assert decisions.status_code == 200
    assert statement.get_absolute_url() in decisions.content.decode()
    assert 'href="/decisions/"' in client.get("/rooms/").content.decode()  # in the navigation
    page = client.get(statement.get_absolute_url())
    assert page.status_code == 200 and page.context["form"] is not None
