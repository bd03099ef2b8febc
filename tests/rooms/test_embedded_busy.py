"""On the embedded default, a write lock held longer than the busy timeout
(another process writing to the SQLite file) refuses the post with
`unavailable` and its client_id: stored nothing, the socket stays open, and the
client's resend is stored once the lock is gone. Never a silent drop."""

import asyncio
import json
import sqlite3

from tests import embedded
from tests.wsclient import joined, next_frame, open_ws


async def test_a_busy_database_answers_unavailable_and_the_resend_is_stored(
    embedded_template, tmp_path
):
    var_dir = tmp_path / "var"
    embedded.copy_database(embedded_template, var_dir)
    cookies = await asyncio.to_thread(embedded.make_accounts, var_dir, 1, "salon")
    server = await asyncio.to_thread(
        embedded.start_embedded, var_dir, tmp_path / "daphne.log", DATABASE_BUSY_TIMEOUT="1"
    )
    try:
        ws = await open_ws(server, "salon", cookies["person0"])
        await joined(ws, "person0")
        frame = {"type": "message.send", "body": "patience", "client_id": "b-1"}

        # Another writer holds SQLite's write lock for longer than the timeout.
        other = sqlite3.connect(var_dir / embedded.DATABASE_FILE, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await ws.send(json.dumps(frame))
            refused = await next_frame(ws, "error")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert refused["code"] == "unavailable"
        assert refused["client_id"] == "b-1"

        await ws.send(json.dumps(frame))  # the same socket: it stayed open
        echoed = await next_frame(ws, "message.new")
        assert (echoed["client_id"], echoed["body"]) == ("b-1", "patience")
        await ws.close()
    finally:
        server.kill()
    stored = sqlite3.connect(var_dir / embedded.DATABASE_FILE)
    count = stored.execute("SELECT count(*) FROM rooms_message WHERE client_id = 'b-1'")
    assert count.fetchone()[0] == 1
    stored.close()
