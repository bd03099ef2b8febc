"""A room moderator's kick on the embedded default (SQLite, in-memory layer, one
daphne, as `make run`): the member's open socket closes with 4403 after the
`restriction` frame, the member cannot come back (socket and history API) until
the kick ends, then can, and the trail holds the measure and verifies.
tests/moderation/test_room_moderators_live.py proves the same kick on PostgreSQL.

The kick lasts one minute (`ROOM_MODERATOR_DURATIONS=1,10` for this server), so the
test sees it end by itself: nothing is edited in the database to shorten it."""

import asyncio
import datetime
import json
import subprocess
import sys

from websockets.exceptions import ConnectionClosed

from rooms.protocol import CloseCode
from tests import embedded
from tests.rooms.test_revocation_embedded import Browser
from tests.servers import ROOT
from tests.wsclient import close_code, joined, next_frame, open_ws

ROOM = "salon"
MEMBER, MODERATOR = "person0", "person1"  # tests/embedded.py's accounts
# A reconnection is tried this often while the kick lasts, and no closer to its end
# than SAFETY (the server's clock decides; a try in flight at the end could go either way).
RETRY_SECONDS = 5
SAFETY = datetime.timedelta(seconds=3)

TRAIL_QUERY = """
import json
from audit.events import AuditEvent
from audit.models import AuditEntry
from moderation.models import RoomModeratorAction
action = RoomModeratorAction.objects.select_related("sanction").get()
fields = ("actor_id", "target_id", "details")
entries = {
    event.name: list(AuditEntry.objects.filter(event=event).values(*fields))
    for event in (AuditEvent.ROOM_MODERATOR_ACTED, AuditEvent.SANCTION_ISSUED)
}
print(json.dumps({
    "action": {"id": action.pk, "kind": action.kind, "actor": action.actor.username,
               "member": action.target_user.username, "sanction": action.sanction_id},
    "sanction": {"kind": action.sanction.kind, "room": action.sanction.room.slug},
    "entries": entries,
}))
"""


def _run(var_dir, *args: str) -> subprocess.CompletedProcess:
    """A management command on the embedded database, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=embedded.embedded_env(var_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _admitted(server, session: str) -> bool:
    """Whether the room lets the member in now: a socket that is not closed on
    them (its presence frame names them), or 4403."""
    ws = await open_ws(server, ROOM, session)
    try:
        await joined(ws, MEMBER)
        return True
    except ConnectionClosed:
        assert ws.close_code == CloseCode.FORBIDDEN, ws.close_code
        return False
    finally:
        await ws.close()


async def test_a_room_moderators_kick_on_sqlite_closes_refuses_then_ends(
    embedded_template, tmp_path
):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 2, ROOM, moderator=MODERATOR)
    server = await asyncio.to_thread(
        embedded.start_embedded,
        var_dir,
        tmp_path / "daphne.log",
        ROOM_MODERATOR_DURATIONS="1,10",
    )
    try:
        member = Browser(server, cookies[MEMBER])
        moderator = Browser(server, cookies[MODERATOR])
        ws = await open_ws(server, ROOM, member.session_key)
        await joined(ws, MEMBER)
        history = f"/api/rooms/{ROOM}/messages/"
        assert (await asyncio.to_thread(member.get_json, history))[0] == 200

        # The moderator's "Modérer" dialog posts this (static/moderation/room-moderate.js).
        status, body = await asyncio.to_thread(
            moderator.post_json,
            f"/api/rooms/{ROOM}/moderation/restrict/",
            {"user": MEMBER, "kind": "kick", "duration_minutes": 1, "reason": "Flood."},
        )
        assert status == 201, body
        assert (body["kind"], body["user"]) == ("kick", MEMBER)
        ends_at = datetime.datetime.fromisoformat(body["ends_at"])

        frame = await next_frame(ws, "restriction")
        assert (frame["measure"], frame["scope"]) == ("kick", "room")
        assert await close_code(ws) == CloseCode.FORBIDDEN

        # While the kick lasts: every new socket refused with 4403, the history too.
        tries = 0
        while datetime.datetime.now(datetime.UTC) + SAFETY < ends_at:
            assert not await _admitted(server, member.session_key)
            assert (await asyncio.to_thread(member.get_json, history))[0] == 403
            tries += 1
            await asyncio.sleep(RETRY_SECONDS)
        assert tries >= 2, tries  # seen refused more than once, well before the end

        # Once it has ended (by the server's clock, this machine's): back in, and heard.
        await asyncio.sleep(
            max(0.0, (ends_at - datetime.datetime.now(datetime.UTC)).total_seconds()) + 1
        )
        assert (await asyncio.to_thread(member.get_json, history))[0] == 200
        back = await open_ws(server, ROOM, member.session_key)
        await joined(back, MEMBER)
        await back.send(
            json.dumps({"type": "message.send", "body": "me revoilà", "client_id": "b1"})
        )
        assert (await next_frame(back, "message.new"))["body"] == "me revoilà"
        await back.close()
        log = server.log()
        assert "Traceback" not in log, log[-3000:]
    finally:
        server.kill()

    # The trail: the measure, its sanction with the room moderator named, and a chain
    # that verifies (what `audit_verify` tells an operator).
    result = await asyncio.to_thread(_run, var_dir, "shell", "-c", TRAIL_QUERY)
    assert result.returncode == 0, result.stderr
    trail = json.loads(result.stdout.strip().splitlines()[-1])
    action = trail["action"]
    assert (action["kind"], action["actor"], action["member"]) == ("kick", MODERATOR, MEMBER)
    assert trail["sanction"] == {"kind": "kick", "room": ROOM}
    [acted] = trail["entries"]["ROOM_MODERATOR_ACTED"]
    assert acted["target_id"] == str(action["id"])
    assert acted["details"]["kind"] == "kick"
    assert acted["details"]["sanction"] == action["sanction"]
    [issued] = trail["entries"]["SANCTION_ISSUED"]
    assert issued["actor_id"] == acted["actor_id"]
    assert issued["details"].get("room_moderator") is True, issued
    verified = await asyncio.to_thread(_run, var_dir, "audit_verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
