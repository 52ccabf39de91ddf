"""The desk from escalation to close, through the HTTP API of a real server."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import httpx

from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import (
    IDENTITY_SECRET,
    Customer,
    go_online,
    signed,
    ticket_of,
    tickets,
    wait_until,
)


def is_with_agent(customer: Customer) -> bool:
    return bool(customer.status()["state"] == "agent")


def breached_ticket(agent: httpx.Client, customer: Customer) -> dict[str, Any] | None:
    ticket = ticket_of(agent, customer.id)
    return ticket if ticket["sla_breached"] else None


def test_an_escalated_chat_goes_to_an_online_agent_and_the_bot_falls_silent(
    desk: ServerFactory,
) -> None:
    server = desk()
    agent = server.staff("li-na", display_name="Li Na")
    go_online(agent)
    customer = Customer(server, name="Ada", email="ada@example.com")
    customer.say("My order 20261122001 never arrived")
    status = customer.ask_for_person()
    assert status["state"] in {"waiting_for_agent", "agent"}
    status = wait_until(lambda: customer.status()["agent"] and customer.status(), what="agent")
    assert status["state"] == "agent"
    assert status["agent"] == {"display_name": "Li Na"}
    assert "agent.joined" in [e["type"] for e in customer.events()]

    exchanges_before = len(server.admin().get("/api/admin/exchanges").json())
    assert customer.say("How can I track my order?") == []
    assert len(server.admin().get("/api/admin/exchanges").json()) == exchanges_before
    assert customer.events()[-1]["author"] == "customer"

    mine = ticket_of(agent, customer.id, "mine")
    assert mine["reason"] == "asked_for_person"
    assert mine["customer"] == {"name": "Ada", "email": "ada@example.com", "tier": "standard"}
    detail = agent.get(f"/api/agent/tickets/{mine['id']}").json()
    facts = detail["context"]["summary"]["facts"]
    assert {"kind": "order_number", "value": "20261122001"} in facts
    assert detail["context"]["transcript"][0]["text"] == "My order 20261122001 never arrived"
    assert detail["context"]["customer"]["email"] == "ada@example.com"

    reply = agent.post(f"/api/agent/tickets/{mine['id']}/messages", json={"text": "Looking now"})
    assert reply.status_code == 201, reply.text
    said = [e for e in customer.events() if e["author"] == "agent:li-na"]
    assert said[-1]["payload"] == {"text": "Looking now", "agent": "Li Na"}
    assert ticket_of(agent, customer.id, "mine")["first_response_at"] is not None


def test_the_least_loaded_agent_gets_the_next_chat_and_capacity_holds(
    desk: ServerFactory,
) -> None:
    server = desk()
    first = server.staff("first", max_chats=2)
    second = server.staff("second", max_chats=1)
    go_online(first)
    go_online(second)
    customers = []
    for n in range(4):
        customer = Customer(server)
        customer.ask_for_person()
        customers.append(customer)
        if n < 3:
            wait_until(partial(is_with_agent, customer), what="assignment")
    loads = server.admin().get("/api/agent/agents").json()["agents"]
    by_name = {a["username"]: a["active_chats"] for a in loads}
    assert by_name["first"] == 2
    assert by_name["second"] == 1
    # Both are full: the fourth waits, first in line.
    time.sleep(0.5)
    assert customers[3].status()["state"] == "waiting_for_agent"
    assert customers[3].status()["queue"]["position"] == 1


def queued_normal_and_vip(
    desk: ServerFactory, **config: Any
) -> tuple[httpx.Client, Customer, Customer]:
    """An online agent who pulls from the queue, then a standard and a VIP customer (signed in
    on the embedding site, which signs the tier) who ask for a person in that order."""
    server = desk(assignment="pull", identity_secret=IDENTITY_SECRET, **config)
    agent = server.staff("puller")
    go_online(agent)
    normal = Customer(server)
    normal.ask_for_person()
    vip = Customer(server, **signed(external_id="vip-1", tier="vip"))
    vip.ask_for_person()
    return agent, normal, vip


def test_queue_order_follows_priority(desk: ServerFactory) -> None:
    # The default first-response target: no ticket turns late and moves up while this runs.
    agent, normal, vip = queued_normal_and_vip(desk)
    assert vip.status()["queue"]["position"] == 1
    assert normal.status()["queue"]["position"] == 2
    assert normal.status()["queue"]["eta_seconds"] > vip.status()["queue"]["eta_seconds"] > 0
    assert ticket_of(agent, vip.id)["priority"] == "high"
    assert ticket_of(agent, normal.id)["priority"] == "normal"


def test_a_late_ticket_is_flagged_and_raised_one_priority(desk: ServerFactory) -> None:
    agent, normal, vip = queued_normal_and_vip(desk, first_response_seconds=1)
    for customer, raised in ((normal, "high"), (vip, "urgent")):
        flagged = wait_until(partial(breached_ticket, agent, customer), what="the SLA flag")
        assert flagged["priority"] == raised


def test_transfer_notes_canned_responses_and_hand_back(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    first = server.staff("first-agent", display_name="Wang Fang")
    second = server.staff("second-agent", display_name="Zhang Wei")
    supervisor = server.staff("boss", "supervisor")
    go_online(first)
    go_online(second)
    customer = Customer(server, name="Bo")
    customer.ask_for_person()
    ticket = ticket_of(first, customer.id)
    assert first.post(f"/api/agent/tickets/{ticket['id']}/claim").status_code == 200

    note = first.post(f"/api/agent/tickets/{ticket['id']}/notes", json={"text": "VIP, be kind"})
    assert note.status_code == 201, note.text
    assert note.json()["event"]["internal"] is True
    assert "note" not in [e["type"] for e in customer.events()]
    staff_view = first.get(f"/api/agent/conversations/{customer.id}/events").json()["events"]
    assert "note" in [e["type"] for e in staff_view]

    created = supervisor.post(
        "/api/agent/canned",
        json={
            "shortcut": "hi",
            "title": "Greeting",
            "text": "Hi {customer_name}, {agent_name} here.",
        },
    )
    assert created.status_code == 201, created.text
    assert first.post("/api/agent/canned", json=created.json()).status_code == 403
    canned = first.get(f"/api/agent/tickets/{ticket['id']}/canned").json()["canned"]
    assert canned[0]["text"] == "Hi Bo, Wang Fang here."

    moved = first.post(
        f"/api/agent/tickets/{ticket['id']}/transfer",
        json={"to_agent": "second-agent", "note": "billing question"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["agent"]["username"] == "second-agent"
    assert customer.status()["agent"] == {"display_name": "Zhang Wei"}
    seen = [(e["type"], e["payload"].get("agent")) for e in customer.events()]
    assert ("agent.left", "Wang Fang") in seen
    assert ("agent.joined", "Zhang Wei") in seen
    assert (
        first.post(
            f"/api/agent/tickets/{ticket['id']}/messages", json={"text": "still me"}
        ).status_code
        == 403
    )

    back = second.post(f"/api/agent/tickets/{ticket['id']}/handback")
    assert back.status_code == 200, back.text
    assert customer.status()["state"] == "bot"
    assert [e["author"] for e in customer.say("hello")] == ["bot"]
    agents = {a["username"]: a for a in supervisor.get("/api/agent/agents").json()["agents"]}
    assert agents["first-agent"]["active_chats"] == 0
    assert agents["second-agent"]["active_chats"] == 0


def test_transfer_to_a_team_puts_the_chat_back_in_that_queue(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    agent = server.staff("generalist")
    billing = server.staff("biller", teams=["billing"])
    go_online(agent)
    customer = Customer(server)
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    agent.post(f"/api/agent/tickets/{ticket['id']}/claim").raise_for_status()
    moved = agent.post(f"/api/agent/tickets/{ticket['id']}/transfer", json={"to_team": "billing"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "queued"
    assert moved.json()["transfers"] == 1
    assert customer.status()["state"] == "waiting_for_agent"
    assert ticket_of(billing, customer.id)["team"] == "billing"
    assert customer.id not in [t["conversation_id"] for t in tickets(agent)]


def test_close_asks_for_satisfaction_once_and_the_customer_can_reopen(
    desk: ServerFactory,
) -> None:
    server = desk(assignment="pull")
    agent = server.staff("closer")
    go_online(agent)
    customer = Customer(server)
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    agent.post(f"/api/agent/tickets/{ticket['id']}/claim").raise_for_status()
    early = customer.post("feedback", csat=5)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "not_closed"

    closed = agent.post(f"/api/agent/tickets/{ticket['id']}/close")
    assert closed.status_code == 200, closed.text
    closing = customer.events()[-1]
    assert closing["type"] == "conversation.closed"
    assert closing["payload"]["survey"] == {"csat": True, "nps": True}
    assert customer.post("feedback", csat=6).status_code == 422
    rated = customer.post("feedback", csat=4, nps=9, comment="quick and kind")
    assert rated.status_code == 201, rated.text
    assert customer.status()["feedback"] == {"csat": 4, "nps": 9, "comment": "quick and kind"}
    again = customer.post("feedback", csat=1)
    assert again.json()["error"]["code"] == "already_rated"
    assert customer.status()["feedback"]["csat"] == 4
    written = customer.post("messages", text="one more thing")
    assert written.json()["error"]["code"] == "conversation_closed"

    reopened = customer.post("reopen")
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["state"] == "waiting_for_agent"
    fresh = ticket_of(agent, customer.id)
    assert fresh["id"] != ticket["id"]
    assert fresh["reason"] == "reopened"


def test_reopening_after_the_window_is_refused(desk: ServerFactory) -> None:
    server = desk(reopen_window_hours=0)
    customer = Customer(server)
    customer.say("hello")
    assert customer.post("close").json()["state"] == "closed"
    refused = customer.post("reopen")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "reopen_window_passed"
    assert customer.status()["state"] == "closed"


def test_canned_responses_read_well_without_the_customers_name(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    agent = server.staff("first-agent", display_name="Wang Fang")
    supervisor = server.staff("boss", "supervisor")
    go_online(agent)
    templates = {
        "bye": "Is there anything else I can help with, {customer_name}?",
        "hi": "Hi {customer_name}, {agent_name} here.",
        "wait": "Thanks for waiting, {customer_name}. Back in a minute.",
        "nihao": "{customer_name}您好，我是客服{agent_name}。",
        "xie": "谢谢{customer_name}的耐心等待。",
    }
    for shortcut, text in templates.items():
        created = supervisor.post(
            "/api/agent/canned", json={"shortcut": shortcut, "title": shortcut, "text": text}
        )
        assert created.status_code == 201, created.text
    expected = {
        None: {
            "bye": "Is there anything else I can help with?",
            "hi": "Hi, Wang Fang here.",
            "wait": "Thanks for waiting. Back in a minute.",
            "nihao": "您好，我是客服Wang Fang。",
            "xie": "谢谢您的耐心等待。",
        },
        "Bo": {
            "bye": "Is there anything else I can help with, Bo?",
            "hi": "Hi Bo, Wang Fang here.",
            "wait": "Thanks for waiting, Bo. Back in a minute.",
            "nihao": "Bo您好，我是客服Wang Fang。",
            "xie": "谢谢Bo的耐心等待。",
        },
    }
    for name, texts in expected.items():
        customer = Customer(server, **({"name": name} if name else {}))
        customer.ask_for_person()
        ticket = ticket_of(agent, customer.id)
        canned = agent.get(f"/api/agent/tickets/{ticket['id']}/canned").json()["canned"]
        assert {c["shortcut"]: c["text"] for c in canned} == texts
