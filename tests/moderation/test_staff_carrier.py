"""Staff actions on messages are content operations carried by the staff member's own
request: a removal or a release through the back office or the staff API records that
request's address, port and protocol, marked as a staff action, never as the author's."""

import json

import pytest

from accounts.records import Carrier
from core.refusals import Refused
from moderation import actions
from moderation.models import (
    AppealStatus,
    FilterAction,
    FilterKind,
    FilterRule,
    HeldMessage,
    HeldStatus,
    StatementOfReasons,
)
from rooms import actions as room_actions
from rooms.models import ContentOperation
from tests.conftest import grant_model_looks
from tests.moderation.conftest import post_message, verified_client

pytestmark = pytest.mark.django_db

STAFF_DESK = {"REMOTE_ADDR": "198.51.100.23", "REMOTE_PORT": "52100"}


def _operations(message_id) -> list[tuple]:
    return list(
        ContentOperation.objects.filter(content_id=message_id)
        .order_by("id")
        .values_list("kind", "actor_id", "staff_member_id", "ip_address", "port", "protocol")
    )


def _held(room, author, body="https://exemple.fr") -> HeldMessage:
    FilterRule.objects.get_or_create(name="liens", kind=FilterKind.LINKS, action=FilterAction.HOLD)
    with pytest.raises(Refused):  # held for review
        room_actions.do_post_message(room, body, actor=author)
    return HeldMessage.objects.get(author=author, status=HeldStatus.PENDING)


def test_a_removal_through_the_staff_api_records_the_moderators_request(room, make_user, moderator):
    author = make_user("auteur")
    message = post_message(room, author, "insulte")
    client = verified_client(moderator)
    client.get("/decisions/")  # the csrftoken cookie
    response = client.delete(
        f"/api/moderation/messages/{message.pk}/",
        json.dumps({"reason": "Insulte."}),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
        **STAFF_DESK,
    )

    assert response.status_code == 204
    assert _operations(message.pk) == [
        ("create", author.pk, None, None, None, ""),
        ("delete", moderator.pk, moderator.pk, "198.51.100.23", 52100, "http"),
    ]


def test_a_release_from_the_admin_is_the_authors_creation_carried_by_the_moderator(
    room, make_user, moderator
):
    author = make_user("auteur")
    held = _held(room, author)
    client = grant_model_looks(verified_client(moderator))

    client.post("/admin/moderation/heldmessage/bulk/release/", {"ids": str(held.pk)}, **STAFF_DESK)

    held.refresh_from_db()
    assert held.status == HeldStatus.RELEASED
    # The author wrote it; the moderator's request published it, and says so.
    assert _operations(held.message_id) == [
        ("create", author.pk, moderator.pk, "198.51.100.23", 52100, "http"),
    ]
    operation = ContentOperation.objects.get(content_id=held.message_id)
    assert operation.is_staff_action and operation.connection_id is None


def test_a_removal_from_the_admin_message_list_records_the_moderators_request(
    room, make_user, moderator
):
    author = make_user("auteur")
    message = post_message(room, author, "pub")
    client = grant_model_looks(verified_client(moderator))

    response = client.post(
        "/admin/rooms/message/bulk/remove/",
        {"ids": str(message.pk), "reason": "Publicité.", "ground": "", "legal_provision": ""},
        **STAFF_DESK,
    )

    assert response.status_code == 302
    assert _operations(message.pk)[-1] == (
        "delete",
        moderator.pk,
        moderator.pk,
        "198.51.100.23",
        52100,
        "http",
    )


def test_a_refusal_reversed_on_appeal_publishes_through_the_deciders_request(
    room, make_user, moderator, other_moderator
):
    author = make_user("auteur")
    held = _held(room, author)
    actions.do_reject_held_message(held, actor=moderator, reason="Lien douteux.")
    statement = StatementOfReasons.objects.get(held_message=held)
    appeal = actions.do_file_appeal(statement, actor=author, text="C'est mon site.")
    desk = Carrier(None, "2001:db8::23", 52200, "https")

    actions.do_decide_appeal(
        appeal, actor=other_moderator, reverse_decision=True, answer="Lien sûr.", via=desk
    )

    appeal.refresh_from_db()
    held.refresh_from_db()
    assert appeal.status == AppealStatus.REVERSED and held.status == HeldStatus.RELEASED
    assert _operations(held.message_id) == [
        ("create", author.pk, other_moderator.pk, "2001:db8::23", 52200, "https"),
    ]


def test_a_members_own_post_is_never_a_staff_action(room, make_user):
    author = make_user("auteur")
    via = Carrier(None, "192.0.2.8", 40000, "https")
    message = room_actions.do_post_message(room, "bonjour", actor=author, via=via).message
    (operation,) = ContentOperation.objects.filter(content_id=message.pk)
    assert not operation.is_staff_action and operation.staff_member_id is None


def test_a_removal_on_an_authority_order_records_the_officers_request(room, make_user, make_staff):
    author, officer = make_user("auteur"), make_staff("compliance")
    message = post_message(room, author, "contenu visé")
    desk = Carrier(None, "198.51.100.40", 53000, "https")

    actions.remove_message_on_order(
        message,
        actor=officer,
        order_reference="INJ-2026-7",
        authority="OCLCTIC",
        legal_provision="CP-421-2-5",
        via=desk,
    )

    assert _operations(message.pk)[-1] == (
        "delete",
        officer.pk,
        officer.pk,
        "198.51.100.40",
        53000,
        "https",
    )
