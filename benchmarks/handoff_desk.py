"""How fast the desk moves a chat to a person, and a person's words to the customer.

    .venv/bin/python benchmarks/handoff_desk.py [--customers 60] [--agents 5] [--database-url URL]

Serves the app with uvicorn on a free port (SQLite in a temporary directory unless a URL is
given), creates agents through the admin API and sets them online, then runs customers one
wave at a time: each presses "talk to a person" over its WebSocket and is timed

- escalation → ``agent.joined`` on the customer's socket (automatic assignment), and
- an agent's reply over the agent socket → the reply on the customer's socket,

and finally races ``--agents`` agents on every ticket of a pull-mode queue to count winners.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import socket
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from websockets.sync.client import ClientConnection, connect

from core.auth import COOKIE
from core.db import make_engine, session_scope
from core.errors import ConflictError
from core.rate_limits import NO_LIMITS
from core.settings import Settings
from core.staff import Role, create_user
from kefu import db as migrations
from kefu.app import create_app

PASSWORD = secrets.token_urlsafe(16)
# Fresh names each run, so a PostgreSQL database can be reused.
RUN = secrets.token_hex(3)
ADMIN = f"bench-admin-{RUN}"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(settings: Settings) -> tuple[str, uvicorn.Server, threading.Thread]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    with contextlib.suppress(ConflictError), session_scope(engine) as session:
        # On a reused database the second server finds this run's admin already there.
        create_user(session, username=ADMIN, password=PASSWORD, role=Role.admin)
    engine.dispose()
    port = _port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), port=port, log_level="warning", ws="websockets-sansio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def _login(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    body = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    body.raise_for_status()
    client.headers["X-CSRF-Token"] = body.json()["csrf_token"]
    return client


def _agents(url: str, prefix: str, count: int, max_chats: int) -> list[httpx.Client]:
    admin = _login(url, ADMIN)
    clients = []
    for n in range(count):
        name = f"bench-{RUN}-{prefix}-{n}"
        admin.post(
            "/api/admin/users",
            json={"username": name, "password": PASSWORD, "role": "agent", "max_chats": max_chats},
        ).raise_for_status()
        agent = _login(url, name)
        agent.put("/api/agent/me/presence", json={"presence": "online"}).raise_for_status()
        clients.append(agent)
    return clients


def _until(ws: ClientConnection, check: Any, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if check(frame):
            return frame


def _event(kind: str, author: str = "") -> Any:
    return lambda f: (
        f.get("type") == "event"
        and f["event"]["type"] == kind
        and f["event"]["author"].startswith(author)
    )


def _customer(url: str, stack: ExitStack) -> tuple[str, ClientConnection]:
    body = httpx.post(f"{url}/api/chat/conversations", json={}).json()
    ws = stack.enter_context(
        connect(
            f"{url.replace('http', 'ws')}/api/chat/ws?conversation_id={body['conversation_id']}"
            f"&token={body['token']}"
        )
    )
    _until(ws, lambda f: f["type"] == "ready")
    return body["conversation_id"], ws


def measure_assignment(url: str, agents: list[httpx.Client], customers: int) -> dict[str, Any]:
    with ExitStack() as stack:
        return _assignment(url, agents, customers, stack)


def _assignment(
    url: str, agents: list[httpx.Client], customers: int, stack: ExitStack
) -> dict[str, Any]:
    sockets = {
        a.headers["X-CSRF-Token"]: stack.enter_context(
            connect(
                f"{url.replace('http', 'ws')}/api/agent/ws",
                additional_headers={"Cookie": f"{COOKIE}={a.cookies[COOKIE]}", "Origin": url},
            )
        )
        for a in agents
    }
    for ws in sockets.values():
        _until(ws, lambda f: f["type"] == "ready")
    to_agent: list[float] = []
    to_customer: list[float] = []
    wave = len(agents)
    for start in range(0, customers, wave):
        batch = [_customer(url, stack) for _ in range(min(wave, customers - start))]
        began = time.perf_counter()
        for _id, ws in batch:
            ws.send(json.dumps({"type": "handoff"}))
        for _id, ws in batch:
            _until(ws, _event("agent.joined"))
            to_agent.append((time.perf_counter() - began) * 1000)
        for agent in agents:
            for ticket in agent.get("/api/agent/tickets", params={"view": "mine"}).json()[
                "tickets"
            ]:
                customer_ws = next(ws for cid, ws in batch if cid == ticket["conversation_id"])
                agent_ws = sockets[agent.headers["X-CSRF-Token"]]
                sent = time.perf_counter()
                agent_ws.send(
                    json.dumps({"type": "message", "ticket_id": ticket["id"], "text": "Hello!"})
                )
                _until(customer_ws, _event("message", "agent:"))
                to_customer.append((time.perf_counter() - sent) * 1000)
                _until(agent_ws, lambda f: f["type"] == "ack")
                agent.post(f"/api/agent/tickets/{ticket['id']}/close").raise_for_status()
    return {"escalation_to_agent_ms": _stats(to_agent), "reply_to_customer_ms": _stats(to_customer)}


def measure_races(url: str, agents: list[httpx.Client], tickets: int) -> dict[str, Any]:
    ids = []
    for _ in range(tickets):
        body = httpx.post(f"{url}/api/chat/conversations", json={}).json()
        httpx.post(
            f"{url}/api/chat/conversations/{body['conversation_id']}/handoff",
            headers={"Authorization": f"Bearer {body['token']}"},
        ).raise_for_status()
    for ticket in agents[0].get("/api/agent/tickets", params={"view": "queue"}).json()["tickets"]:
        ids.append(ticket["id"])
    wins = 0
    losses = 0
    for ticket_id in ids:
        barrier = threading.Barrier(len(agents))
        codes: list[int] = []

        threads = [
            threading.Thread(target=_claim, args=(a, ticket_id, barrier, codes)) for a in agents
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wins += codes.count(200)
        losses += codes.count(409)
    return {"tickets": len(ids), "winners": wins, "refused_409": losses}


def _claim(
    agent: httpx.Client, ticket_id: int, barrier: threading.Barrier, codes: list[int]
) -> None:
    barrier.wait()
    codes.append(agent.post(f"/api/agent/tickets/{ticket_id}/claim").status_code)


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in ("auto", "pull"):
            settings = Settings(
                data_dir=Path(tmp) / assignment,
                database_url=args.database_url,
                assignment=assignment,
                max_concurrent_chats=50,
                _env_file=None,
            ).model_copy(update=NO_LIMITS)  # every simulated customer comes from one address
            url, server, thread = _serve(settings)
            agents = _agents(url, assignment, args.agents, 50)
            if assignment == "auto":
                result = measure_assignment(url, agents, args.customers)
            else:
                result = measure_races(url, agents, args.customers)
            print(json.dumps({"assignment": assignment, **result}))
            server.should_exit = True
            thread.join()


if __name__ == "__main__":
    main()
