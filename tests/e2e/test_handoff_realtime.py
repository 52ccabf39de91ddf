"""The whole handoff over real WebSockets against a served app with the demo knowledge base:
a customer escalates, an agent claims and replies, typing shows both ways, the chat closes and
the CSAT is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.handoff.desk_helpers import (
    Customer,
    agent_socket,
    event_of,
    frames_until,
    go_online,
    ticket_of,
)
from tests.live import LiveServer, load_demo, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pull_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("pull")
    settings = Settings(
        data_dir=root / "var",
        database_url=f"sqlite:///{root / 'kefu.db'}",
        assignment="pull",
        handoff_tick_seconds=0.5,
        _env_file=None,
    )
    with serve(settings, embedder) as server:
        load_demo(server)
        yield server


def test_escalate_claim_reply_type_close_and_rate(pull_server: LiveServer) -> None:
    server = pull_server
    agent = server.staff("e2e-agent", display_name="Li Na")
    go_online(agent)
    customer = Customer(server, name="Ada")
    with customer.socket() as customer_ws, agent_socket(server.url, agent) as agent_ws:
        frames_until(customer_ws, lambda f: f["type"] == "ready")
        frames_until(agent_ws, lambda f: f["type"] == "ready")

        customer_ws.send(
            json.dumps(
                {"type": "message", "text": "I want to talk to a real person", "client_id": "m1"}
            )
        )
        seen = frames_until(customer_ws, event_of("conversation.escalated"))
        assert seen[0] == {"type": "ack", "client_id": "m1", "seq": 1, "duplicate": False}
        escalated = seen[-1]["event"]["payload"]
        assert escalated["state"] == "waiting_for_agent"
        assert escalated["queue"]["position"] == 1
        queue = frames_until(customer_ws, lambda f: f["type"] == "queue")[-1]
        assert queue["position"] == 1
        assert queue["eta_seconds"] > 0
        frames_until(agent_ws, lambda f: f["type"] == "queue.changed")

        ticket = ticket_of(agent, customer.id)
        assert ticket["reason"] == "asked_for_person"
        claimed = agent.post(f"/api/agent/tickets/{ticket['id']}/claim")
        assert claimed.status_code == 200, claimed.text
        joined = frames_until(customer_ws, event_of("agent.joined"))[-1]["event"]
        assert joined["payload"] == {"agent": "Li Na"}

        agent_ws.send(
            json.dumps({"type": "subscribe", "conversation_id": customer.id, "last_seq": 0})
        )
        replayed = frames_until(agent_ws, event_of("agent.joined"))
        seqs = [f["event"]["seq"] for f in replayed if f["type"] == "event"]
        assert seqs == list(range(1, joined["seq"] + 1))

        customer_ws.send(json.dumps({"type": "typing", "typing": True}))
        typing = frames_until(agent_ws, lambda f: f["type"] == "typing")[-1]
        assert (typing["who"], typing["typing"]) == ("customer", True)
        agent_ws.send(
            json.dumps({"type": "typing", "conversation_id": customer.id, "typing": True})
        )
        typing = frames_until(customer_ws, lambda f: f["type"] == "typing")[-1]
        assert (typing["who"], typing["name"]) == ("agent", "Li Na")

        agent_ws.send(
            json.dumps(
                {
                    "type": "message",
                    "ticket_id": ticket["id"],
                    "text": "Hi Ada, I'm here.",
                    "client_id": "a1",
                }
            )
        )
        ack = frames_until(agent_ws, lambda f: f["type"] == "ack")[-1]
        assert ack["conversation_id"] == customer.id
        reply = frames_until(customer_ws, event_of("message", "agent:"))[-1]["event"]
        assert reply["payload"] == {"text": "Hi Ada, I'm here.", "agent": "Li Na"}
        assert reply["seq"] == ack["seq"]

        customer_ws.send(
            json.dumps({"type": "message", "text": "How can I track my order?", "client_id": "m2"})
        )
        mine = frames_until(agent_ws, event_of("message", "customer"))[-1]["event"]
        assert mine["payload"]["text"] == "How can I track my order?"

        closed = agent.post(f"/api/agent/tickets/{ticket['id']}/close")
        assert closed.status_code == 200, closed.text
        closing = frames_until(customer_ws, event_of("conversation.closed"))
        # The bot said nothing while the agent owned the chat.
        assert not [f for f in closing if f.get("event", {}).get("author") == "bot"]

    rated = customer.post("feedback", csat=5, nps=10, comment="fast")
    assert rated.status_code == 201, rated.text
    assert customer.status()["feedback"] == {"csat": 5, "nps": 10, "comment": "fast"}
    authors = [e["author"] for e in customer.events()]
    assert authors.index("agent:e2e-agent") < len(authors)
    assert "bot" not in authors[authors.index("agent:e2e-agent") :]

    # A reconnect with the last seq seen replays exactly what was missed.
    last = customer.events()[-1]["seq"]
    with customer.socket(last_seq=last - 2) as again:
        frames = frames_until(again, lambda f: f.get("event", {}).get("seq") == last)
        assert [f["event"]["seq"] for f in frames if f["type"] == "event"] == [last - 1, last]
