"""Naming a room moderator through the real server (the embedded default under
daphne): the owner makes a private room, invites, and names the member on the
members page (a form with its CSRF token, as a browser submits it); the member
is notified and cannot do the same through the API."""

import asyncio
import re
import urllib.error
import urllib.parse
import urllib.request

from tests import embedded
from tests.rooms.test_revocation_embedded import Browser


def _created_room(owner: Browser, name: str) -> str:
    """Submits the rooms list's "new private room" form; the path it redirects to."""
    status, html = _page(owner, "/rooms/")
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "name": name}).encode()
    request = urllib.request.Request(owner.server.url + "/rooms/new/", data=data)  # noqa: S310
    try:
        owner.opener.open(request, timeout=10)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
        return redirect.headers["Location"]
    raise AssertionError("no redirect to the new room")


def _page(browser: Browser, path: str) -> tuple[int, str]:
    return browser._open(urllib.request.Request(browser.server.url + path))  # noqa: S310


def _scenario(server, cookies) -> None:
    owner, member = Browser(server, cookies["person0"]), Browser(server, cookies["person1"])
    room = _created_room(owner, "Club des amis")
    slug = room.rstrip("/").rsplit("/", 1)[1]
    assert owner.post_form_from(room, f"{room}invite/", {"username": "person1"}) == 302
    status, inbox = member.get_json("/api/conversations/")
    invitation = inbox["invitations"][0]["id"]
    assert (
        member.post_form_from("/conversations/", f"/conversations/invitations/{invitation}/accept/")
        == 302
    )

    members = f"{room}members/"
    status, html = _page(owner, room)
    assert status == 200 and members in html  # the owner's room options link to it
    fields = {"username": "person1", "moderator": "1"}
    assert owner.post_form_from(members, members, fields) == 302
    status, html = _page(owner, members)
    assert status == 200 and "Retirer de la modération" in html

    status, body = member.get_json("/api/notifications/")
    assert [n["kind"] for n in body["notifications"]][:1] == ["room_moderator"]
    status, body = member.post_json(
        f"/api/rooms/{slug}/moderators/", {"username": "person0", "moderator": False}
    )
    assert (status, body["error"]) == (403, "forbidden")
    status, body = owner.post_json(
        f"/api/rooms/{slug}/moderators/", {"username": "person1", "moderator": False}
    )
    assert (status, body["role"]) == (200, "member")


async def test_the_owner_names_a_moderator_through_the_server(embedded_template, tmp_path):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 2, "salon")
    server = await asyncio.to_thread(embedded.start_embedded, var_dir, tmp_path / "daphne.log")
    try:
        await asyncio.to_thread(_scenario, server, cookies)
    finally:
        server.kill()
