"""Raid mode on the embedded default (SQLite, in-memory layer, no Redis, one daphne,
as `make run`): a wave of sign-ups through the form, as browsers send it, trips it;
the sign-up page then explains the pause, and a recent account's `POST /api/dm/`
gets 403 with the reason."""

import asyncio
import re
import urllib.request

from tests import embedded
from tests.rooms.test_revocation_embedded import Browser

ROOM = "salon"
THRESHOLD = 6
PASSWORD = "Tr3s-long-mot-de-passe!"


def _sign_up(server, number: int) -> int:
    return Browser(server).post_form(
        "/accounts/signup/",
        {
            "email": f"vague{number}@example.org",
            "username": f"Vague_{number}",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "date_of_birth": "1994-03-02",
        },
    )


def _page(server, path: str) -> tuple[int, str]:
    return Browser(server)._open(urllib.request.Request(server.url + path))  # noqa: S310


async def test_a_wave_of_signups_trips_raid_mode_on_sqlite(embedded_template, tmp_path):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    # Two accounts made just now: recent, and already counted by the sign-up wave.
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 2, ROOM)
    server = await asyncio.to_thread(
        embedded.start_embedded,
        var_dir,
        tmp_path / "daphne.log",
        RAID_SIGNUPS_THRESHOLD=str(THRESHOLD),
        RAID_SIGNUPS_WINDOW_SECONDS="60",
        ACCOUNT_RATE_LIMITS="off",
    )
    try:
        status, html = await asyncio.to_thread(_page, server, "/accounts/signup/")
        assert status == 200 and 'name="password1"' in html
        assert "raid-banner" not in html
        statuses = [await asyncio.to_thread(_sign_up, server, number) for number in range(4)]
        # The fourth sign-up made the sixth account of the minute: raid mode is on.
        assert statuses == [302] * 4
        status, html = await asyncio.to_thread(_page, server, "/accounts/signup/")
        assert status == 200
        assert "Inscriptions suspendues" in html and 'name="password1"' not in html
        assert re.search(r'id="raid-banner"', html)
        status, body = await asyncio.to_thread(
            Browser(server, cookies["person0"]).post_json, "/api/dm/", {"username": "person1"}
        )
        assert status == 403 and "Mode raid" in body["detail"]
        log = server.log()
        assert "Traceback" not in log, log[-3000:]
    finally:
        server.kill()
