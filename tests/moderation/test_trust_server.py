"""The trust levels through the real server (the embedded default under daphne,
gates on): a new account's fourth new conversation in the hour is refused by
`POST /api/dm/` with 429 `rate_limited`, and its link in a room gets an error
frame `forbidden` saying what unlocks it, on a socket that stays open."""

import asyncio
import json

from tests import embedded
from tests.rooms.test_revocation_embedded import Browser
from tests.wsclient import joined, next_frame, open_ws

ROOM = "salon"


async def test_new_accounts_are_limited_through_the_api_and_the_socket(embedded_template, tmp_path):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 5, ROOM)
    server = await asyncio.to_thread(
        embedded.start_embedded, var_dir, tmp_path / "daphne.log", TRUST_GATES="on"
    )
    try:
        newcomer = Browser(server, cookies["person0"])
        for number in (1, 2, 3):
            status, body = await asyncio.to_thread(
                newcomer.post_json, "/api/dm/", {"username": f"person{number}"}
            )
            assert status == 200, body
        status, body = await asyncio.to_thread(
            newcomer.post_json, "/api/dm/", {"username": "person4"}
        )
        assert status == 429
        assert body["error"] == "rate_limited"
        assert "3 nouvelles conversations dans l'heure" in body["detail"]
        assert "la limite passe à 10 par heure" in body["detail"]

        ws = await open_ws(server, ROOM, cookies["person0"])
        await joined(ws, "person0")
        frame = {"type": "message.send", "body": "https://exemple.fr", "client_id": "t-1"}
        await ws.send(json.dumps(frame))
        refused = await next_frame(ws, "error")
        assert (refused["code"], refused["client_id"]) == ("forbidden", "t-1")
        assert "« membre » (1)" in refused["detail"]
        await ws.send(json.dumps({"type": "message.send", "body": "bonjour", "client_id": "t-2"}))
        echoed = await next_frame(ws, "message.new")
        assert (echoed["client_id"], echoed["body"]) == ("t-2", "bonjour")
        await ws.close()
    finally:
        server.kill()
