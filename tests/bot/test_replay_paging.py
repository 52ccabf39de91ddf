"""A long conversation is replayed whole: over the customer's socket, the agent's socket, and
page by page over REST, however many events it holds."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.testclient import WebSocketTestSession

from core.conversations import append_event
from tests.bot.chat_helpers import Customer, receive_until

EVENTS = 2728
NOTE_EVERY = 97  # agents' notes: stored, replayed to agents, never to the customer


def seed(client: TestClient, conversation_id: str) -> set[int]:
    """``EVENTS`` events through the event log's own writer, in one transaction (fast); the
    sequence numbers of the internal notes among them."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    notes: set[int] = set()
    with Session(engine) as session:
        for n in range(1, EVENTS + 1):
            internal = n % NOTE_EVERY == 0
            event = append_event(
                session,
                conversation_id=conversation_id,
                type="message",
                author="agent:1" if internal else "customer",
                payload={"text": f"message {n}"},
                internal=internal,
            )
            if internal:
                notes.add(event.seq)
        session.commit()
    return notes


def replayed_seqs(ws: WebSocketTestSession, ready: str) -> list[int]:
    """Every event frame up to the pong that answers a ping sent after the replay began."""
    assert ws.receive_json()["type"] == ready
    ws.send_json({"type": "ping"})
    frames = receive_until(ws, lambda frame: frame["type"] == "pong", limit=EVENTS + 10)
    return [f["event"]["seq"] for f in frames if f["type"] == "event"]


def test_the_customer_socket_replays_a_long_conversation_whole_then_goes_live(
    client: TestClient,
) -> None:
    customer = Customer(client)
    notes = seed(client, customer.id)
    visible = [n for n in range(1, EVENTS + 1) if n not in notes]
    with customer.socket(last_seq=0) as ws:
        assert replayed_seqs(ws, "ready") == visible
        customer.say("one more")  # no knowledge base: the bot falls back
        live = receive_until(ws, lambda f: f["type"] == "event" and f["event"]["author"] == "bot")
        assert [f["event"]["seq"] for f in live if f["type"] == "event"] == [EVENTS + 1, EVENTS + 2]
    with customer.socket(last_seq=1500) as ws:
        assert replayed_seqs(ws, "ready") == [n for n in visible if n > 1500] + [
            EVENTS + 1,
            EVENTS + 2,
        ]


def test_the_agent_socket_replays_a_long_conversation_whole(client: TestClient) -> None:
    customer = Customer(client)
    seed(client, customer.id)
    with client.websocket_connect("/api/agent/ws") as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_json({"type": "subscribe", "conversation_id": customer.id, "last_seq": 0})
        assert ws.receive_json()["type"] == "subscribed"
        # The replay runs beside the socket's reader, so wait for the last event itself.
        frames = receive_until(
            ws, lambda f: f["type"] == "event" and f["event"]["seq"] == EVENTS, limit=EVENTS
        )
        assert [f["event"]["seq"] for f in frames] == list(range(1, EVENTS + 1))


def paged(client: TestClient, url: str, headers: dict[str, str]) -> tuple[list[int], list[int]]:
    """Every event's seq, read page by page until a page says nothing more follows; and the
    size of each page."""
    seen: list[int] = []
    sizes: list[int] = []
    after = 0
    while True:
        response = client.get(url, params={"after": after}, headers=headers)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        sizes.append(len(page["events"]))
        seen += [e["seq"] for e in page["events"]]
        if not page["has_more"]:
            return seen, sizes
        after = page["events"][-1]["seq"]


def test_rest_events_come_in_pages_that_say_whether_more_follow(client: TestClient) -> None:
    customer = Customer(client)
    notes = seed(client, customer.id)
    url = f"/api/chat/conversations/{customer.id}/events"
    seen, sizes = paged(client, url, customer.headers)
    assert seen == [n for n in range(1, EVENTS + 1) if n not in notes]
    assert sizes == [1000, 1000, len(seen) - 2000]


def test_the_agents_rest_events_page_the_same_way_notes_included(client: TestClient) -> None:
    customer = Customer(client)
    seed(client, customer.id)
    seen, sizes = paged(client, f"/api/agent/conversations/{customer.id}/events", {})
    assert seen == list(range(1, EVENTS + 1))
    assert sizes == [1000, 1000, EVENTS - 2000]
