"""The supervisors' live wall through a real server: who may watch it, what its socket pushes
and when, and today's figures as customers and agents make them.

The knowledge base is empty, so the bot falls back and a second miss escalates
(``repeated_misses``); the talk-to-a-person button escalates as ``asked_for_person``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from core.auth import COOKIE
from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import need
from tests.handoff.desk_helpers import Customer, frames_until, go_online, ticket_of, wait_until
from tests.live import LiveServer, serve

WALL = "/api/supervisor/wall"
Wall = dict[str, Any]
ServerFactory = Callable[..., LiveServer]


@pytest.fixture
def desk(settings: Settings, embedder: SentenceEmbedder) -> Iterator[ServerFactory]:
    """``desk(...)``: a server whose dispatcher and wall look five times a second, agents
    pulling from the queue (so a ticket stays there), with those settings changed."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> LiveServer:
            changed = settings.model_copy(
                update={
                    "handoff_tick_seconds": 0.2,
                    "wall_interval_seconds": 0.2,
                    "assignment": "pull",
                    **overrides,
                }
            )
            running: AbstractContextManager[LiveServer] = serve(changed, embedder)
            return stack.enter_context(running)

        yield start


def wall_socket(
    server: LiveServer, staff: httpx.Client | None, origin: str = ""
) -> ClientConnection:
    headers = {"Origin": origin or server.url}
    if staff is not None:
        headers["Cookie"] = f"{COOKIE}={staff.cookies[COOKIE]}"
    ws_url = server.url.replace("http://", "ws://")
    return connect(f"{ws_url}/api/supervisor/wall/ws", additional_headers=headers)


def refusal(ws: ClientConnection) -> tuple[str, int | None]:
    """The error frame's code and the close code of a refused socket."""
    frame = json.loads(ws.recv(timeout=10))
    assert frame["type"] == "error", frame
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    received = closed.value.rcvd
    return str(frame["code"]), received.code if received else None


def next_wall(ws: ClientConnection, check: Callable[[Wall], bool], timeout: float = 10) -> Wall:
    """The first ``wall`` frame ``check`` accepts (earlier ones are skipped)."""
    frames = frames_until(ws, lambda f: f["type"] == "wall" and check(f), timeout=timeout)
    return frames[-1]


def current(staff: httpx.Client) -> Wall:
    response = staff.get(WALL)
    assert response.status_code == 200, response.text
    body: Wall = response.json()
    return body


def agent_row(wall: Wall, username: str) -> Wall | None:
    return next((a for a in wall["agents"]["agents"] if a["username"] == username), None)


def presence(wall: Wall, username: str) -> str | None:
    row = agent_row(wall, username)
    return None if row is None else str(row["presence"])


def test_only_supervisors_and_admins_may_watch_the_wall(desk: ServerFactory) -> None:
    server = desk()
    agent = server.staff("floor-agent")
    supervisor = server.staff("floor-lead", "supervisor")

    assert agent.get(WALL).status_code == 403
    assert server.http().get(WALL).status_code == 401
    with wall_socket(server, agent) as ws:
        assert refusal(ws) == ("forbidden", 4403)
    with wall_socket(server, None) as ws:
        assert refusal(ws) == ("unauthenticated", 4401)
    with wall_socket(server, supervisor, origin="https://elsewhere.example") as ws:
        assert refusal(ws) == ("forbidden", 4403)

    with wall_socket(server, supervisor) as ws:
        first = next_wall(ws, lambda _w: True)
        assert first["queue"]["waiting"] == 0
        assert first["queue"]["longest_wait_seconds"] is None
        assert first["sla"]["tickets"] == []
        assert first["complaints"] == []
        assert first["today"]["conversations"] == 0
        assert first["today"]["containment"] is None
        assert first["today"]["timezone"] == "UTC"
        ws.send(json.dumps({"type": "ping"}))
        assert frames_until(ws, lambda f: f["type"] == "pong")[-1] == {"type": "pong"}
        ws.send(json.dumps({"type": "subscribe"}))
        refused = frames_until(ws, lambda f: f["type"] == "error")[-1]
        assert refused["code"] == "unknown_type"
    served = current(server.admin())
    assert served.keys() == first.keys() - {"type", "server_time"}


def test_the_socket_pushes_a_waiting_customer_and_an_agent_coming_online(
    desk: ServerFactory,
) -> None:
    # A minute between looks: only the broker's activity notice can bring these frames in time.
    server = desk(wall_interval_seconds=60)
    supervisor = server.staff("watcher", "supervisor")
    agent = server.staff("li-na", display_name="Li Na", max_chats=4)
    with wall_socket(server, supervisor) as ws:
        first = next_wall(ws, lambda _w: True)
        assert first["queue"]["waiting"] == 0
        assert (agent_row(first, "li-na") or {}).get("presence") != "online"

        go_online(agent)
        online = next_wall(ws, lambda w: presence(w, "li-na") == "online", timeout=5)
        row = agent_row(online, "li-na")
        assert row is not None
        assert (row["presence"], row["active_chats"], row["max_chats"]) == ("online", 0, 4)
        assert row["display_name"] == "Li Na"
        assert online["agents"]["online"] >= 1

        customer = Customer(server)
        customer.ask_for_person()
        waiting = next_wall(ws, lambda w: w["queue"]["waiting"] == 1, timeout=5)
        assert waiting["queue"]["oldest_waiting_since"] is not None
        assert waiting["queue"]["longest_wait_seconds"] >= 0

        ticket = ticket_of(agent, customer.id)
        agent.post(f"/api/agent/tickets/{ticket['id']}/claim").raise_for_status()
        taken = next_wall(ws, lambda w: w["queue"]["waiting"] == 0, timeout=5)
        assert taken["queue"]["with_agent"] == 1
        assert agent_row(taken, "li-na")["active_chats"] == 1  # type: ignore[index]


@pytest.mark.redis
def test_a_wall_on_another_process_hears_of_a_waiting_customer(
    desk: ServerFactory, embedder: SentenceEmbedder
) -> None:
    url = os.environ.get("KEFU_TEST_REDIS_URL", "")
    need(bool(url), "KEFU_TEST_REDIS_URL is not set")
    # Two servers on one database and one Redis; the wall looks only once a minute by itself.
    server = desk(broker_url=url, wall_interval_seconds=60)
    other = LiveServer(server.settings, embedder)
    other.start()
    try:
        agent = server.staff("far-agent")
        go_online(agent)
        supervisor = server.staff("far-lead", "supervisor")
        with wall_socket(other, supervisor) as ws:
            assert next_wall(ws, lambda _w: True)["queue"]["waiting"] == 0
            Customer(server).ask_for_person()
            assert next_wall(ws, lambda w: w["queue"]["waiting"] == 1, timeout=5)
    finally:
        other.stop()


def test_tickets_near_and_past_their_first_response_target(desk: ServerFactory) -> None:
    # Listed from 1.5 s, late from 3 s.
    server = desk(first_response_seconds=3, wall_sla_warning_share=0.5)
    agent = server.staff("sla-agent")
    go_online(agent)
    supervisor = server.staff("sla-lead", "supervisor")
    customer = Customer(server)
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)

    assert current(supervisor)["sla"]["tickets"] == []
    with wall_socket(server, supervisor) as ws:
        near = next_wall(ws, lambda w: w["sla"]["near"] == 1)
        listed = near["sla"]["tickets"][0]
        assert listed["ticket_id"] == ticket["id"]
        assert listed["breached"] is False
        assert 0 < listed["seconds_left"] <= 1.5
        assert (listed["status"], listed["priority"], listed["agent"]) == ("queued", "normal", None)
        late = next_wall(ws, lambda w: w["sla"]["breached"] == 1)
        assert late["sla"]["near"] == 0
        assert late["sla"]["tickets"][0]["breached"] is True
        assert late["sla"]["tickets"][0]["seconds_left"] <= 0

        # Claimed, the ticket is still late until a person answers; then it leaves the list.
        agent.post(f"/api/agent/tickets/{ticket['id']}/claim").raise_for_status()
        claimed = next_wall(ws, lambda w: [t["status"] for t in w["sla"]["tickets"]] == ["active"])
        assert claimed["sla"]["tickets"][0]["agent"] == "sla-agent"
        reply = agent.post(f"/api/agent/tickets/{ticket['id']}/messages", json={"text": "Hi"})
        assert reply.status_code == 201, reply.text
        next_wall(ws, lambda w: w["sla"]["tickets"] == [] and w["sla"]["breached"] == 0)


def claimed_and_closed(agent: httpx.Client, customer: Customer) -> None:
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    agent.post(f"/api/agent/tickets/{ticket['id']}/claim").raise_for_status()
    agent.post(f"/api/agent/tickets/{ticket['id']}/close").raise_for_status()


def rate(customer: Customer, csat: int) -> None:
    response = customer.post("feedback", csat=csat)
    assert response.status_code == 201, response.text


def test_todays_containment_csat_and_escalations_by_reason(desk: ServerFactory) -> None:
    server = desk()
    agent = server.staff("day-agent", max_chats=10)
    go_online(agent)
    supervisor = server.staff("day-lead", "supervisor")

    contained = Customer(server)
    contained.say("hello there")
    missed = Customer(server)
    missed.say("zxq blorp")
    missed.say("qqq vvv")
    wait_until(lambda: missed.status()["state"] != "bot", what="the second miss to escalate")
    first, second = Customer(server), Customer(server)
    claimed_and_closed(agent, first)
    claimed_and_closed(agent, second)

    def today() -> Wall | None:
        figures: Wall = current(supervisor)["today"]
        return figures if figures["escalations"] == 3 else None

    before = wait_until(today, what="3 escalations")
    assert before["conversations"] == 4
    assert (before["contained"], before["containment"]) == (1, 0.25)
    assert before["escalations_by_reason"] == [
        {"reason": "asked_for_person", "conversations": 2},
        {"reason": "repeated_misses", "conversations": 1},
    ]
    assert (before["csat_mean"], before["csat_responses"]) == (None, 0)

    with wall_socket(server, supervisor) as ws:
        rate(first, 5)
        one = next_wall(ws, lambda w: w["today"]["csat_responses"] == 1)["today"]
        assert one["csat_mean"] == 5
        rate(second, 2)
        two = next_wall(ws, lambda w: w["today"]["csat_responses"] == 2)["today"]
        assert two["csat_mean"] == 3.5

    # The same figures as the analytics report for the day (the server's zone is UTC).
    day = two["since"][:10]
    summary = supervisor.get("/api/admin/analytics/summary", params={"start": day}).json()
    assert summary["containment"]["rate"] == two["containment"]
    assert summary["satisfaction"]["overall"]["csat_mean"] == two["csat_mean"]
