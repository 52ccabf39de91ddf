"""Racing claims, who may see and do what, bad input, and the offline desk."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import (
    Customer,
    agent_socket,
    frames_until,
    go_online,
    ticket_of,
    tickets,
)


def test_of_agents_claiming_the_same_ticket_at_once_exactly_one_wins(desk: ServerFactory) -> None:
    server = desk(assignment="pull", max_concurrent_chats=50)
    agents = [server.staff(f"racer-{n}") for n in range(3)]
    for agent in agents:
        go_online(agent)
    customers = [Customer(server) for _ in range(12)]
    for customer in customers:
        customer.ask_for_person()
    for customer in customers:
        ticket_id = ticket_of(agents[0], customer.id)["id"]
        start = threading.Barrier(len(agents))
        results: list[httpx.Response] = []
        threads = [
            threading.Thread(target=_claim_at_once, args=(a, ticket_id, start, results))
            for a in agents
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409, 409], [r.text for r in results]
        losers = [r.json()["error"]["code"] for r in results if r.status_code == 409]
        assert losers == ["already_claimed", "already_claimed"]
        joined = [e for e in customer.events() if e["type"] == "agent.joined"]
        assert len(joined) == 1
    loads = {
        a["username"]: a["active_chats"]
        for a in agents[0].get("/api/agent/agents").json()["agents"]
    }
    assert sum(loads[f"racer-{n}"] for n in range(3)) == len(customers)


def _claim_at_once(
    agent: httpx.Client, ticket_id: int, start: threading.Barrier, results: list[httpx.Response]
) -> None:
    start.wait()
    results.append(agent.post(f"/api/agent/tickets/{ticket_id}/claim"))


def test_an_agent_at_capacity_cannot_claim_more(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    agent = server.staff("busy", max_chats=1)
    go_online(agent)
    first, second = Customer(server), Customer(server)
    first.ask_for_person()
    second.ask_for_person()
    agent.post(f"/api/agent/tickets/{ticket_of(agent, first.id)['id']}/claim").raise_for_status()
    refused = agent.post(f"/api/agent/tickets/{ticket_of(agent, second.id)['id']}/claim")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "at_capacity"
    assert second.status()["state"] == "waiting_for_agent"


def test_staff_see_only_their_teams_unless_supervisors(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    support = server.staff("support-agent")
    billing = server.staff("billing-agent", teams=["billing"])
    supervisor = server.staff("shift-lead", "supervisor", teams=["billing"])
    go_online(support)
    customer = Customer(server)
    customer.ask_for_person()
    ticket = ticket_of(support, customer.id)
    assert customer.id not in [t["conversation_id"] for t in tickets(billing)]
    for path in (
        f"/api/agent/tickets/{ticket['id']}",
        f"/api/agent/conversations/{customer.id}/events",
    ):
        refused = billing.get(path)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "forbidden"
        assert supervisor.get(path).status_code == 200, path
    assert billing.post(f"/api/agent/tickets/{ticket['id']}/claim").status_code == 403
    support.post(f"/api/agent/tickets/{ticket['id']}/claim").raise_for_status()
    for action, body in (("messages", {"text": "hi"}), ("notes", {"text": "x"}), ("close", None)):
        refused = billing.post(f"/api/agent/tickets/{ticket['id']}/{action}", json=body)
        assert refused.status_code == 403, action
    assert support.put("/api/agent/agents/billing-agent", json={"max_chats": 9}).status_code == 403
    assert (
        supervisor.put("/api/agent/agents/billing-agent", json={"max_chats": 9}).status_code == 200
    )

    anonymous = server.http()
    for path in ("/api/agent/me", "/api/agent/tickets", f"/api/agent/tickets/{ticket['id']}"):
        assert anonymous.get(path).status_code == 401, path
    no_csrf = server.http()
    no_csrf.cookies.update(support.cookies)
    refused = no_csrf.post(f"/api/agent/tickets/{ticket['id']}/close")
    assert refused.status_code == 403
    assert customer.status()["state"] == "agent"


def test_bad_replies_and_actions_on_closed_chats_change_nothing(desk: ServerFactory) -> None:
    server = desk(assignment="pull", max_message_chars=50)
    agent = server.staff("careful")
    go_online(agent)
    customer = Customer(server)
    customer.ask_for_person()
    ticket_id = ticket_of(agent, customer.id)["id"]
    # Not claimed yet, so not this agent's to answer.
    early = agent.post(f"/api/agent/tickets/{ticket_id}/messages", json={"text": "hello"})
    assert early.status_code == 403
    agent.post(f"/api/agent/tickets/{ticket_id}/claim").raise_for_status()
    before = len(customer.events())
    for bad in ({"text": ""}, {"text": "x" * 51}, {"text": 42}, {}):
        response = agent.post(f"/api/agent/tickets/{ticket_id}/messages", json=bad)
        assert response.status_code == 422, bad
    both = agent.post(
        f"/api/agent/tickets/{ticket_id}/transfer", json={"to_agent": "careful", "to_team": "x"}
    )
    assert both.status_code == 422
    assert agent.post(f"/api/agent/tickets/{ticket_id}/transfer", json={}).status_code == 422
    assert agent.post("/api/agent/tickets/99999/claim").status_code == 404
    assert agent.get("/api/agent/tickets", params={"view": "everything"}).status_code == 422
    assert len(customer.events()) == before

    agent.post(f"/api/agent/tickets/{ticket_id}/close").raise_for_status()
    after_close = len(customer.events())
    actions: list[tuple[str, dict[str, Any] | None]] = [
        ("messages", {"text": "are you there?"}),
        ("handback", None),
        ("close", None),
        ("transfer", {"to_team": "billing"}),
    ]
    for action, body in actions:
        response = agent.post(f"/api/agent/tickets/{ticket_id}/{action}", json=body)
        assert response.status_code == 409, action
        assert response.json()["error"]["code"] == "ticket_closed"
    assert len(customer.events()) == after_close


def test_malformed_agent_socket_frames_get_error_codes(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    agent = server.staff("framer")
    stranger = server.staff("stranger", teams=["elsewhere"])
    go_online(agent)
    customer = Customer(server)
    customer.ask_for_person()
    ticket_id = ticket_of(agent, customer.id)["id"]
    with agent_socket(server.url, stranger) as ws:
        frames_until(ws, lambda f: f["type"] == "ready")
        ws.send(json.dumps({"type": "subscribe", "conversation_id": customer.id, "last_seq": 0}))
        assert frames_until(ws, lambda f: f["type"] == "error")[-1]["code"] == "forbidden"
    cases: list[tuple[str, str]] = [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "subscribe", "conversation_id": 5}', "invalid_subscribe"),
        ('{"type": "message", "ticket_id": "one", "text": "hi"}', "invalid_message"),
        (f'{{"type": "message", "ticket_id": {ticket_id}, "text": "hi"}}', "forbidden"),
        ('{"type": "typing", "conversation_id": "nope", "typing": true}', "not_subscribed"),
    ]
    with agent_socket(server.url, agent) as ws:
        frames_until(ws, lambda f: f["type"] == "ready")
        for raw, code in cases:
            ws.send(raw)
            assert frames_until(ws, lambda f: f["type"] == "error")[-1]["code"] == code, raw
        ws.send('{"type": "ping"}')
        frames_until(ws, lambda f: f["type"] == "pong")
    assert [e["author"] for e in customer.events()].count("agent:framer") == 0


def test_the_agent_socket_needs_a_session_and_this_origin(desk: ServerFactory) -> None:
    from websockets.sync.client import connect

    server = desk()
    ws_url = server.url.replace("http://", "ws://") + "/api/agent/ws"
    with connect(ws_url) as ws:
        assert frames_until(ws, lambda f: f["type"] == "error")[-1]["code"] == "unauthenticated"
    agent = server.staff("origin-checked")
    cookie = f"kefu_session={agent.cookies['kefu_session']}"
    with connect(
        ws_url, additional_headers={"Cookie": cookie, "Origin": "https://evil.test"}
    ) as ws:
        assert frames_until(ws, lambda f: f["type"] == "error")[-1]["code"] == "forbidden"


def test_with_nobody_online_the_customer_leaves_a_message_for_later(desk: ServerFactory) -> None:
    server = desk()
    customer = Customer(server, name="Mei")
    status = customer.ask_for_person()
    assert status["state"] == "bot"
    assert status["offline"] == {"reason": "no_agents", "next_open": None}
    escalated = customer.events()[-1]
    assert escalated["payload"]["offline"]["reason"] == "no_agents"

    before = len(customer.events())
    # Text no database can store (a lone surrogate, a NUL) is refused like any bad input.
    for body in (
        {"email": "not-an-email", "text": "hi"},
        {"email": "a@b.co", "text": " "},
        {"email": "a@b.co", "text": "a \ud83d b"},
        {"email": "a@b.co", "text": "hi", "name": "M\x00ei"},
    ):
        refused = customer.post("offline-message", **body)
        assert refused.status_code == 422, body
    assert len(customer.events()) == before
    left = customer.post("offline-message", email="mei@example.com", text="Refund for 88001234?")
    assert left.status_code == 201, left.text
    assert [e["type"] for e in customer.events()[-2:]] == ["message", "offline_message.received"]
    assert customer.status()["offline"] is None

    agent = server.staff("morning-shift")
    waiting = ticket_of(agent, customer.id, "offline")
    assert waiting["kind"] == "offline"
    assert waiting["offline_message"] == "Refund for 88001234?"
    assert waiting["customer"]["email"] == "mei@example.com"
    go_online(agent)
    agent.post(f"/api/agent/tickets/{waiting['id']}/claim").raise_for_status()
    for text in ("a \ud83d b", "nul \x00 here"):
        refused = agent.post(
            f"/api/agent/tickets/{waiting['id']}/messages",
            content=json.dumps({"text": text}),
            headers={"Content-Type": "application/json"},
        )
        assert refused.status_code == 422, text
    reply = agent.post(f"/api/agent/tickets/{waiting['id']}/messages", json={"text": "Done!"})
    assert reply.status_code == 201
    assert customer.events()[-1]["payload"]["text"] == "Done!"


@pytest.mark.parametrize("offset_days", [1])
def test_outside_business_hours_the_customer_is_told_when_we_open(
    desk: ServerFactory, offset_days: int
) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=offset_days)).strftime("%a").lower()
    server = desk(business_hours={tomorrow: ["09:00-17:00"]}, business_timezone="UTC")
    agent = server.staff("night-owl")
    go_online(agent)
    customer = Customer(server)
    status: dict[str, Any] = customer.ask_for_person()
    assert status["state"] == "bot"
    assert status["offline"]["reason"] == "outside_hours"
    opens = datetime.fromisoformat(status["offline"]["next_open"])
    assert opens.strftime("%a").lower() == tomorrow
    assert (opens.hour, opens.minute) == (9, 0)


def test_the_widget_may_call_the_customer_api_from_another_site(desk: ServerFactory) -> None:
    server = desk(allowed_origins=["https://shop.example"])
    preflight = server.http().options(
        "/api/chat/conversations",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-credentials" not in preflight.headers
    elsewhere = server.http().options(
        "/api/chat/conversations",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in elsewhere.headers


def test_an_agents_first_requests_at_once_all_succeed(desk: ServerFactory) -> None:
    # A console's first load asks for its profile and three lists at once; each may be the
    # first to need the agent's profile. The admin account has none until it uses the desk.
    server = desk()
    consoles = [server.admin() for _ in range(8)]
    start = threading.Barrier(len(consoles))
    results: list[httpx.Response] = []

    def first_look(console: httpx.Client) -> None:
        start.wait()
        results.append(console.get("/api/agent/tickets", params={"view": "mine"}))

    threads = [threading.Thread(target=first_look, args=(c,)) for c in consoles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * len(consoles), [r.text for r in results]
    assert consoles[0].get("/api/agent/me").json()["presence"] == "offline"
