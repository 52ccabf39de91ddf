"""A process told to stop (SIGTERM) tells its customers to reconnect, finishes the turn it has
started, and loses nothing: another process serves the conversation from where it was."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from core.settings import Settings
from tests.processes import ServerProcess, prepare_database

pytestmark = pytest.mark.slow


def frames_until_closed(ws: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    frames = []
    try:
        while True:
            frames.append(json.loads(ws.recv(timeout=60)))
    except ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


def test_sigterm_asks_customers_to_reconnect_and_loses_no_message(settings: Settings) -> None:
    prepare_database(settings)
    first = ServerProcess(settings, "first")
    second = ServerProcess(settings, "second")
    try:
        first.start()
        started = httpx.post(f"{first.url}/api/chat/conversations", timeout=30).json()
        query = f"conversation_id={started['conversation_id']}&token={started['token']}"
        with connect(f"{first.url.replace('http', 'ws', 1)}/api/chat/ws?{query}") as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "ready"
            ws.send(
                json.dumps(
                    {"type": "message", "text": "hello, where is my parcel?", "client_id": "c1"}
                )
            )
            while json.loads(ws.recv(timeout=30)).get("type") != "ack":
                pass
            # Stored and acknowledged: now the process is told to stop.
            first.stop()
            _, code = frames_until_closed(ws)
        # 1012, "service restart": the widget reconnects (with backoff) on any such close.
        assert code == 1012

        second.start()
        events = httpx.get(
            f"{second.url}/api/chat/conversations/{started['conversation_id']}/events",
            headers={"Authorization": f"Bearer {started['token']}"},
            timeout=30,
        ).json()["events"]
    finally:
        first.stop()
        second.stop()
    authors = [e["author"] for e in events if e["type"] == "message"]
    # The customer's message, and exactly one answer to it: from the stopping process, which
    # finished its turn, or from the new one, which took the owed turn over.
    assert authors == ["customer", "bot"], events
