"""The bot's turn survives a crash: a real ``kefu serve`` process is SIGKILLed while the bot is
"typing" (``KEFU_BOT_REPLY_DELAY_MS``), and the acknowledged message is answered exactly once
by whichever process runs next on the database, even two restarting together. A turn that is
only slow is never taken over by another process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from websockets.sync.client import ClientConnection, connect

from core.settings import Settings
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.chat_helpers import Customer
from tests.processes import ServerProcess, running

pytestmark = pytest.mark.slow

LEASE_SECONDS = 1.0
SWEEP_SECONDS = 0.2
# Long enough that the kill always lands inside the turn.
TYPING_FOREVER_MS = "120000"


@contextmanager
def servers(settings: Settings, *names: str, **env: str) -> Iterator[list[ServerProcess]]:
    """Processes started together (their starts overlap), stopped when the block ends."""
    with running(
        settings,
        *names,
        env={
            # English only: the Han model would only slow the starts down.
            "KEFU_HAN_EMBEDDING_MODEL": "",
            "KEFU_INFERENCE_WORKERS": "1",
            "KEFU_BOT_TURN_LEASE_SECONDS": str(LEASE_SECONDS),
            "KEFU_BOT_TURN_SWEEP_SECONDS": str(SWEEP_SECONDS),
            **env,
        },
    ) as started:
        yield started


class Chat:
    """A customer on the WebSocket, as the widget is."""

    def __init__(self, url: str) -> None:
        body = httpx.post(f"{url}/api/chat/conversations", json={"language": "en"}).json()
        self.id: str = body["conversation_id"]
        self.token: str = body["token"]

    def socket(self, url: str) -> ClientConnection:
        ws_url = url.replace("http", "ws", 1)
        return connect(f"{ws_url}/api/chat/ws?conversation_id={self.id}&token={self.token}")

    def send(self, ws: ClientConnection, text: str, client_id: str) -> dict[str, Any]:
        """The ack: the message is committed."""
        ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
        while True:
            frame: dict[str, Any] = json.loads(ws.recv(timeout=60))
            if frame["type"] == "ack":
                return frame

    def events(self, url: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{url}/api/chat/conversations/{self.id}/events",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def bot_messages(self, url: str) -> list[dict[str, Any]]:
        return [e for e in self.events(url) if e["author"] == "bot" and e["type"] == "message"]


def acknowledged_then_killed(settings: Settings, chats: int) -> list[Chat]:
    """Customers whose messages were acknowledged by a process killed during the bot's turn."""
    with (
        servers(settings, "killed", KEFU_BOT_REPLY_DELAY_MS=TYPING_FOREVER_MS) as (server,),
        ExitStack() as sockets,
    ):
        customers = [Chat(server.url) for _ in range(chats)]
        for number, customer in enumerate(customers):
            ws = sockets.enter_context(customer.socket(server.url))
            ack = customer.send(ws, f"where is my parcel {number}?", client_id=f"m{number}")
            assert ack["seq"] == 1
            assert not ack["duplicate"]
        server.kill()
    return customers


def wait_for_replies(url: str, customers: list[Chat], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(customers)
    while waiting:
        assert time.monotonic() < deadline, f"{len(waiting)} acknowledged messages got no reply"
        waiting = [c for c in waiting if not c.bot_messages(url)]
        time.sleep(0.1)
    # Longer than a lease and several sweeps: time enough for any second answer to appear.
    time.sleep(LEASE_SECONDS + 3 * SWEEP_SECONDS)


def assert_answered_once(url: str, customer: Chat) -> None:
    events = customer.events(url)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "seqs have gaps"
    assert len(customer.bot_messages(url)) == 1, events
    assert [e["author"] for e in events if e["type"] == "message"] == ["customer", "bot"]


def test_a_message_acknowledged_before_a_kill_is_answered_once_after_the_restart(
    migrated: Settings,
) -> None:
    (customer,) = acknowledged_then_killed(migrated, 1)
    with servers(migrated, "restarted") as (server,):
        wait_for_replies(server.url, [customer])
        assert_answered_once(server.url, customer)
        # The widget resends what it has not seen answered: a duplicate, not a second turn.
        with customer.socket(server.url) as ws:
            ack = customer.send(ws, "where is my parcel 0?", client_id="m0")
        assert ack["duplicate"]
        assert ack["seq"] == 1
        time.sleep(LEASE_SECONDS + 3 * SWEEP_SECONDS)
        assert_answered_once(server.url, customer)


def test_two_processes_restarting_together_answer_each_orphaned_turn_once(
    migrated: Settings,
) -> None:
    customers = acknowledged_then_killed(migrated, 4)
    with servers(migrated, "first", "second") as (first, second):
        wait_for_replies(first.url, customers)
        for customer in customers:
            assert_answered_once(second.url, customer)


def test_a_slow_turn_is_not_taken_over_by_another_process(
    migrated: Settings, embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    """The bot types for three leases; the other process sweeps every 50 ms all the while."""

    def app_settings(name: str, delay_ms: int) -> Settings:
        return migrated.model_copy(
            update={
                "data_dir": tmp_path / name,
                "han_embedding_model": "",
                "bot_reply_delay_ms": delay_ms,
                "bot_turn_lease_seconds": 0.5,
                "bot_turn_sweep_seconds": 0.05,
            }
        )

    slow_app = create_app(app_settings("slow", 1500), embedder=embedder)
    other_app = create_app(app_settings("other", 0), embedder=embedder)
    with TestClient(slow_app) as slow, TestClient(other_app) as other:
        customer = Customer(slow)
        started = time.monotonic()
        replies = customer.say("hello, where is my parcel?")
        assert time.monotonic() - started >= 1.5
        # Answered by the process that took the message: the other did not take it over.
        assert [r["author"] for r in replies] == ["bot"]
        # And the other process, reading the same database, sees that one reply and no other.
        time.sleep(0.5 + 3 * 0.05)
        response = other.get(
            f"/api/chat/conversations/{customer.id}/events", headers=customer.headers
        )
        events = response.json()["events"]
        assert [(e["seq"], e["author"]) for e in events] == [(1, "customer"), (2, "bot")]
