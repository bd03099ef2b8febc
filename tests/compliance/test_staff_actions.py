"""A staff action's content operation in what compliance hands out: the requisition
package says whose connection its address is, the address look-up names the staff member,
and a member's own export never shows the staff member's address."""

import json
import zipfile

import pytest
from django.utils import timezone

from accounts.records import Carrier
from compliance import actions
from compliance.actions import do_export_own_data, do_look_up_address
from moderation import actions as moderation_actions
from rooms import actions as room_actions

pytestmark = pytest.mark.django_db

MEMBER = Carrier(None, "192.0.2.10", 41000, "https")
DESK = Carrier(None, "198.51.100.23", 52100, "https")


@pytest.fixture
def removed(make_user, make_room, make_staff):
    author, moderator = make_user("auteur"), make_staff("moderator")
    room = make_room("general")
    message = room_actions.do_post_message(room, "insulte", actor=author, via=MEMBER).message
    moderation_actions.do_remove_message(message, actor=moderator, reason="Insulte.", via=DESK)
    return author, moderator, message


def test_the_requisition_package_says_the_address_is_the_staff_members(
    removed, open_request, officer, second_officer, tmp_path, django_capture_on_commit_callbacks
):
    author, moderator, _message = removed
    request = open_request(accounts=[author], categories=["messages"])
    actions.do_verify_legal_request(request, actor=officer)
    actions.do_approve_legal_export(request, actor=second_officer)
    with django_capture_on_commit_callbacks(execute=True):  # the zip moves in on commit
        package = actions.do_export_legal_request(request, actor=officer, out_dir=tmp_path)
    with zipfile.ZipFile(package.path) as archive:
        (row,) = json.loads(archive.read("messages.json"))

    created, deleted = row["operations"]
    assert created["actor_id"] == author.pk
    assert (created["staff_action"], created["carried_by"], created["staff_member_id"]) == (
        False,
        "member",
        None,
    )
    assert (created["ip_address"], created["port"]) == ("192.0.2.10", 41000)
    assert deleted["actor_id"] == moderator.pk
    assert (deleted["staff_action"], deleted["carried_by"], deleted["staff_member_id"]) == (
        True,
        "staff",
        moderator.pk,
    )
    assert (deleted["ip_address"], deleted["port"], deleted["protocol"]) == (
        "198.51.100.23",
        52100,
        "https",
    )


def test_the_address_look_up_names_the_staff_member_not_the_author(
    make_user, make_room, make_staff, officer
):
    from core.refusals import Refused
    from moderation.models import FilterAction, FilterKind, FilterRule, HeldMessage

    author, moderator = make_user("auteur"), make_staff("moderator")
    room = make_room("general")
    FilterRule.objects.create(name="liens", kind=FilterKind.LINKS, action=FilterAction.HOLD)
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "https://exemple.fr", actor=author)
    message = moderation_actions.do_release_held_message(
        HeldMessage.objects.get(), actor=moderator, via=DESK
    )

    (row,) = do_look_up_address(
        ip_address=DESK.ip_address,
        port=DESK.port,
        when=timezone.now(),
        reason="Réquisition PV-2026-0099",
        actor=officer,
    )
    assert row["account_id"] == moderator.pk
    assert row["what"] == f"create #{message.pk} (staff action for account #{author.pk})"


def test_a_members_export_shows_a_staff_action_without_the_staff_address(removed):
    author, moderator, _message = removed
    mine = do_export_own_data(author, actor=author)["content_operations"]
    assert [(op["kind"], op["ip_address"]) for op in mine] == [("create", "192.0.2.10")]

    # The moderator's own export has their removal, with their own address.
    theirs = do_export_own_data(moderator, actor=moderator)["content_operations"]
    (removal,) = theirs
    assert (removal["kind"], removal["staff_action"], removal["ip_address"]) == (
        "delete",
        True,
        "198.51.100.23",
    )
    assert "staff_member_id" not in removal


def test_a_released_message_in_its_authors_export_hides_the_moderators_address(
    make_user, make_room, make_staff
):
    from core.refusals import Refused
    from moderation.models import FilterAction, FilterKind, FilterRule, HeldMessage

    author, moderator = make_user("auteur"), make_staff("moderator")
    room = make_room("general")
    FilterRule.objects.create(name="liens", kind=FilterKind.LINKS, action=FilterAction.HOLD)
    with pytest.raises(Refused):
        room_actions.do_post_message(room, "https://exemple.fr", actor=author)
    moderation_actions.do_release_held_message(HeldMessage.objects.get(), actor=moderator, via=DESK)

    (operation,) = do_export_own_data(author, actor=author)["content_operations"]
    assert operation["kind"] == "create" and operation["staff_action"] is True
    assert (operation["ip_address"], operation["port"], operation["protocol"]) == (None, None, "")
    assert "staff_member_id" not in operation
