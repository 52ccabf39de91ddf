"""An action's round trip: "where is my order SO123456" answered from the demo order API.

    .venv/bin/python benchmarks/actions.py [--turns 50] [--database-url URL]

Serves the app with uvicorn on a free port (SQLite in a temporary directory unless a URL is
given), loads the demo knowledge base through the admin API, adds the demo action
``order_status_lookup`` against the server's own demo order API (as ``kefu kb load-demo`` does),
then times ``--turns`` chat turns, each a new conversation's first message over the REST API,
end to end; and reads the action's own call time (the HTTP call to the order API) from each
turn's exchange log row. Prints p50 and p95 of both.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from bot.actions import demo_actions
from core.db import make_engine, session_scope
from core.errors import ConflictError
from core.rate_limits import NO_LIMITS
from core.settings import Settings
from core.staff import Role, create_user
from kefu import db as migrations
from kefu.app import create_app

PASSWORD = secrets.token_urlsafe(16)
ADMIN = f"bench-admin-{secrets.token_hex(3)}"
DEMO = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo"
QUESTION = "where is my order SO123456"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    with contextlib.suppress(ConflictError), session_scope(engine) as session:
        create_user(session, username=ADMIN, password=PASSWORD, role=Role.admin)
    engine.dispose()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host=settings.host, port=settings.port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread


def _admin(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=300)
    body = client.post("/api/auth/login", json={"username": ADMIN, "password": PASSWORD})
    body.raise_for_status()
    client.headers["X-CSRF-Token"] = body.json()["csrf_token"]
    return client


def _load_demo(admin: httpx.Client, url: str) -> None:
    for path in sorted(DEMO.glob("*.yaml")):
        with path.open("rb") as handle:
            admin.post(
                "/api/admin/kb/import", files={"file": (path.name, handle)}
            ).raise_for_status()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        health = admin.get("/healthz").json()
        if health["intents"]["model"] and not health["intents"]["training"]:
            break
        time.sleep(0.2)
    else:
        raise SystemExit("the intent model was not trained within 600 s")
    for spec in demo_actions(url):
        made = admin.post("/api/admin/bot/actions", json=spec.model_dump())
        if made.status_code != 409:
            made.raise_for_status()


def _turn(http: httpx.Client) -> tuple[float, str]:
    started = time.perf_counter()
    conversation = http.post("/api/chat/conversations").json()
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    response = http.post(
        f"/api/chat/conversations/{conversation['conversation_id']}/messages",
        json={"text": QUESTION},
        headers=headers,
    )
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    texts = [e["payload"]["text"] for e in response.json()["replies"] if e["type"] == "message"]
    if not texts or "SF Express" not in texts[0]:
        raise SystemExit(f"the turn did not answer from the order API: {texts}")
    return elapsed, conversation["conversation_id"]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = _port()
        url = f"http://127.0.0.1:{port}"
        settings = Settings(
            data_dir=Path(tmp) / "var",
            database_url=args.database_url,
            port=port,
            public_url=url,
            _env_file=None,
        ).model_copy(update=NO_LIMITS)  # every simulated customer comes from one address
        server, thread = _serve(settings)
        try:
            admin = _admin(url)
            _load_demo(admin, url)
            http = httpx.Client(base_url=url, timeout=30)
            for _ in range(3):
                _turn(http)  # warm-up: first-call costs are not the steady state
            turns, conversations = [], []
            for _ in range(args.turns):
                elapsed, conversation_id = _turn(http)
                turns.append(elapsed)
                conversations.append(conversation_id)
            calls = []
            for conversation_id in conversations:
                rows = admin.get(
                    "/api/admin/exchanges", params={"conversation_id": conversation_id}
                ).json()
                calls.append(float(rows[0]["action"]["latency_ms"]))
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    turn_p50, turn_p95 = _percentiles(turns)
    call_p50, call_p95 = _percentiles(calls)
    backend = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    print(f"command: .venv/bin/python {' '.join(sys.argv)}")
    print(
        f"data: the demo knowledge base and order API (knowledge_base/demo), {backend}; "
        f"{args.turns} turns of {QUESTION!r}, each a new conversation, after 3 warm-up turns"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f} at the end, Python {platform.python_version()}"
    )
    print(f"chat turn, end to end (REST): p50 {turn_p50:.1f} ms, p95 {turn_p95:.1f} ms")
    print(f"the action's call (exchange log): p50 {call_p50:.1f} ms, p95 {call_p95:.1f} ms")


if __name__ == "__main__":
    main()
