"""Personal data in what agents see: masked in the context packet, the transcripts (REST and the
agent socket) and the queue's summaries; revealed one message at a time to the roles the policy
allows, with an audit entry; the customer always sees their own words."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlmodel import Session, select

from core.audit import StaffAuditEntry
from core.db import make_engine
from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import (
    Customer,
    agent_socket,
    event_of,
    frames_until,
    go_online,
    ticket_of,
    wait_until,
)

CARD_MESSAGE = "I paid with my card 4111111111111111 and order #10482 never came"
PHONE_MESSAGE = "call me on 13812345678 or mail ada.l@example.com"


def escalated(server: Any, agent: httpx.Client) -> tuple[Customer, dict[str, Any]]:
    go_online(agent)
    customer = Customer(server, name="Ada")
    customer.say(CARD_MESSAGE)
    customer.say(PHONE_MESSAGE)
    customer.ask_for_person()
    ticket = wait_until(lambda: _mine(agent, customer.id), what="assignment")
    return customer, ticket


def _mine(agent: httpx.Client, conversation_id: str) -> dict[str, Any] | None:
    found = [
        t
        for t in agent.get("/api/agent/tickets", params={"view": "mine"}).json()["tickets"]
        if t["conversation_id"] == conversation_id
    ]
    return found[0] if found else None


def test_a_card_number_is_no_order_fact_and_is_masked_in_the_context_packet(
    desk: ServerFactory,
) -> None:
    server = desk()
    agent = server.staff("li-na")
    customer, ticket = escalated(server, agent)
    context = agent.get(f"/api/agent/tickets/{ticket['id']}").json()["context"]
    facts = context["summary"]["facts"]
    assert {"kind": "order_number", "value": "10482"} in facts
    assert not any("4111" in f["value"] and f["kind"] == "order_number" for f in facts)
    assert {"kind": "card", "value": "[card ••••1111]"} in facts
    assert {"kind": "phone", "value": "[phone •••5678]"} in facts
    assert {"kind": "email", "value": "[email a•••@example.com]"} in facts
    shown = str(context)
    for raw in ("4111111111111111", "13812345678", "ada.l@example.com"):
        assert raw not in shown
    texts = [e["text"] for e in context["transcript"] if e["author"] == "customer"]
    assert texts[0] == "I paid with my card [card ••••1111] and order #10482 never came"
    customers = [e["seq"] for e in context["transcript"] if e["author"] == "customer"]
    assert [e["seq"] for e in context["transcript"] if e["masked"]] == customers
    assert "4111" not in str(ticket_of(agent, customer.id, "mine"))
    # The customer reads their own words as typed.
    mine = [e["payload"]["text"] for e in customer.events() if e["author"] == "customer"]
    assert mine == [CARD_MESSAGE, PHONE_MESSAGE]


def test_transcripts_over_rest_and_the_agent_socket_are_masked(desk: ServerFactory) -> None:
    server = desk()
    agent = server.staff("li-na")
    customer, _ticket = escalated(server, agent)
    events = agent.get(f"/api/agent/conversations/{customer.id}/events").json()["events"]
    said = [e for e in events if e["author"] == "customer"]
    assert said[0]["payload"]["text"] == (
        "I paid with my card [card ••••1111] and order #10482 never came"
    )
    assert said[0]["masked"] is True
    assert said[0]["revealable"] is False  # an agent may not, by default
    assert (
        said[1]["payload"]["text"] == "call me on [phone •••5678] or mail [email a•••@example.com]"
    )
    with agent_socket(server.url, agent) as ws:
        ws.send(json.dumps({"type": "subscribe", "conversation_id": customer.id, "last_seq": 0}))
        frames = frames_until(ws, lambda f: f.get("type") == "subscribed")
        frames += frames_until(ws, event_of("message", "customer"))
        assert "4111" not in str(frames)
        customer.say("my ID is 11010519491231002X")
        live = frames_until(
            ws, lambda f: "ID" in str(f.get("event", {}).get("payload", {}).get("text", ""))
        )
        assert live[-1]["event"]["payload"]["text"] == "my ID is [id ••••]"
        assert live[-1]["event"]["masked"] is True
    said = [e["payload"]["text"] for e in customer.events() if e["author"] == "customer"]
    assert said[-1] == "my ID is 11010519491231002X"


def reveal(staff: httpx.Client, conversation_id: str, seq: int) -> httpx.Response:
    return staff.post(f"/api/agent/conversations/{conversation_id}/events/{seq}/reveal")


def test_reveal_is_for_the_roles_the_policy_names_and_is_audited(desk: ServerFactory) -> None:
    server = desk()
    agent = server.staff("li-na")
    supervisor = server.staff("sam", role="supervisor")
    customer, _ticket = escalated(server, agent)
    seq = next(e["seq"] for e in customer.events() if e["author"] == "customer")

    refused = reveal(agent, customer.id, seq)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "reveal_forbidden"

    events = supervisor.get(f"/api/agent/conversations/{customer.id}/events").json()["events"]
    assert [e["revealable"] for e in events if e["seq"] == seq] == [True]
    shown = reveal(supervisor, customer.id, seq)
    assert shown.status_code == 200, shown.text
    assert shown.json() == {"conversation_id": customer.id, "seq": seq, "text": CARD_MESSAGE}
    missing = reveal(supervisor, customer.id, 999)
    assert missing.status_code == 404, missing.text

    engine = make_engine(server.settings.resolved_database_url)
    with Session(engine) as session:
        entries = session.exec(
            select(StaffAuditEntry).where(StaffAuditEntry.action == "pii.revealed")
        ).all()
    engine.dispose()
    assert [(e.actor_name, e.target_type, e.target_id, e.detail) for e in entries] == [
        ("sam", "conversation", customer.id, {"seq": seq})
    ]


def test_a_policy_that_lets_agents_reveal_and_one_that_masks_nothing(desk: ServerFactory) -> None:
    server = desk(pii_reveal_roles=["agent", "supervisor", "admin"], pii_mask=["logs"])
    agent = server.staff("li-na")
    customer, ticket = escalated(server, agent)
    context = agent.get(f"/api/agent/tickets/{ticket['id']}").json()["context"]
    assert context["transcript"][0]["text"] == CARD_MESSAGE
    seq = context["transcript"][0]["seq"]
    assert reveal(agent, customer.id, seq).json()["text"] == CARD_MESSAGE


def test_an_offline_message_is_masked_in_the_offline_list(desk: ServerFactory) -> None:
    server = desk()
    agent = server.staff("li-na")
    customer = Customer(server, name="Mei")
    left = customer.post(
        "offline-message", email="mei@example.com", text="Refund to 4111111111111111 please"
    )
    assert left.status_code == 201, left.text
    waiting = ticket_of(agent, customer.id, "offline")
    assert waiting["offline_message"] == "Refund to [card ••••1111] please"
    assert waiting["summary"] == "Refund to [card ••••1111] please"
    assert waiting["customer"]["email"] == "mei@example.com"  # the contact the desk replies to
    said = [e["payload"]["text"] for e in customer.events() if e["type"] == "message"]
    assert said == ["Refund to 4111111111111111 please"]
