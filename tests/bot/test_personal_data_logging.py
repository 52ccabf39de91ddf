"""No customer's personal data reaches the server's log as typed.

``kefu serve`` runs as a real process at debug level, so the websockets library prints every
frame (the customer's words in them) and uvicorn every request line (a query string the customer
put personal data in); the log shows them masked, and look-alikes as they were.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from core.settings import Settings
from tests.processes import prepare_database, running

pytestmark = pytest.mark.slow

RAW = ["4111111111111111", "13812345678", "ada.lovelace@example.com", "11010519491231002X"]


def test_personal_data_is_masked_in_the_server_log(settings: Settings) -> None:
    prepare_database(settings)
    env = {"KEFU_LOG_LEVEL": "debug"}
    with (
        running(settings, "server", env=env) as (server,),
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        started = http.post("/api/chat/conversations").json()
        cid, token = started["conversation_id"], started["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        url = server.url.replace("http", "ws", 1)
        with connect(
            f"{url}/api/chat/ws?conversation_id={cid}&token={token}&last_seq=0", proxy=None
        ) as ws:
            ws.send(json.dumps({"type": "message", "text": f"my card {RAW[0]}, call {RAW[1]}"}))
            deadline = time.monotonic() + 30
            while '"ack"' not in str(ws.recv(timeout=30)):
                assert time.monotonic() < deadline
        sent = http.post(
            f"/api/chat/conversations/{cid}/messages",
            headers=bearer,
            json={"text": f"mail {RAW[2]}, ID {RAW[3]}, order #10482 of 2024-05-18"},
        )
        assert sent.status_code == 200, sent.text
        http.get(f"/api/chat/conversations/{cid}/events?email={RAW[2]}&phone={RAW[1]}")
    text = server.log.read_text("utf-8", "replace")
    assert f"/api/chat/conversations/{cid}/events" in text, text  # the log can show a leak
    assert "[card ••••1111]" in text, text
    for raw in RAW:
        assert raw not in text, f"personal data is in the server log:\n{text}"
