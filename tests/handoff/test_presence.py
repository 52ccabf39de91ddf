"""Presence follows the console: an online agent whose browser is gone is set away after the
grace period, so no chat is assigned to nobody; a reconnect within it changes nothing."""

from __future__ import annotations

import time

import httpx

from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import Customer, agent_socket, go_online, wait_until


def presence(agent: httpx.Client) -> str:
    value: str = agent.get("/api/agent/me").json()["presence"]
    return value


def test_an_agent_whose_console_closed_is_set_away_and_gets_no_chats(
    desk: ServerFactory,
) -> None:
    server = desk(agent_away_after_seconds=0.3)
    agent = server.staff("ana")
    go_online(agent)
    with agent_socket(server.url, agent) as ws:
        assert '"ready"' in str(ws.recv(timeout=10))
        # Online while the console is open, however long.
        time.sleep(0.8)
        assert presence(agent) == "online"
    wait_until(lambda: presence(agent) == "away", what="presence away after the console closed")

    customer = Customer(server)
    status = customer.ask_for_person()
    assert status["offline"] == {"reason": "no_agents", "next_open": None}


def test_a_console_that_reconnects_in_time_stays_online(desk: ServerFactory) -> None:
    server = desk(agent_away_after_seconds=1.5)
    agent = server.staff("ben")
    go_online(agent)
    with agent_socket(server.url, agent) as ws:
        ws.recv(timeout=10)
    # A reload: the page's new socket arrives well inside the grace period.
    with agent_socket(server.url, agent) as ws:
        ws.recv(timeout=10)
        time.sleep(2.5)
        assert presence(agent) == "online"
        # A second tab closing leaves the first one counting.
        with agent_socket(server.url, agent) as second:
            second.recv(timeout=10)
        time.sleep(2.5)
        assert presence(agent) == "online"


def test_a_presence_the_agent_chose_is_left_alone(desk: ServerFactory) -> None:
    server = desk(agent_away_after_seconds=0.3)
    agent = server.staff("cai")
    go_online(agent, "offline")
    with agent_socket(server.url, agent) as ws:
        ws.recv(timeout=10)
    time.sleep(1.5)
    assert presence(agent) == "offline"
