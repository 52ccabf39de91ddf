"""Hostile frames against both WebSockets of a real server: what comes back, and what breaks.

    .venv/bin/python benchmarks/ws_fuzz.py [--frames 5000] [--seed 13] [--database-url URL]

Serves the app with uvicorn on a free loopback port (SQLite in a temporary directory unless a
URL is given; an empty knowledge base, so the bot falls back), then sends ``--frames`` random
hostile frames on a customer socket (``/api/chat/ws``) and as many on an agent socket
(``/api/agent/ws``): binary frames, text that is not JSON, JSON that is not an object, nesting
up to 6,000 deep, integers past 2^63, NaN, lone surrogates and NUL in values and keys, wrong
types, unknown frame types, a few frames over the size limit, and some valid frames. After
each frame it sends a probe (an unknown frame type with a unique ``client_id``) and reads up
to the probe's error frame, so every frame's answer is counted. It prints frames tried, frames
answered with an error frame, sockets the server dropped, sockets closed as abusive (1009),
and every ERROR record or stack trace the server logged; then whether the conversation still
reads (events endpoint) and the bot still answers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import platform
import random
import secrets
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from core.auth import COOKIE
from core.db import make_engine, session_scope
from core.rate_limits import NO_LIMITS
from core.settings import Settings
from core.staff import Role, create_user
from kefu import db as migrations
from kefu.app import create_app

PASSWORD = secrets.token_urlsafe(16)
ADMIN = f"fuzz-admin-{secrets.token_hex(3)}"
BIG = [2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]


class ServerLog(logging.Handler):
    """Every record the server logs at ERROR or with a stack trace."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.errors.append(f"{record.name}: {record.getMessage()}")


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(settings: Settings) -> tuple[str, uvicorn.Server, threading.Thread]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    with session_scope(engine) as session:
        create_user(session, username=ADMIN, password=PASSWORD, role=Role.admin)
    engine.dispose()
    port = _port()
    config = uvicorn.Config(
        create_app(settings), port=port, log_config=None, ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


# -- hostile frames ---------------------------------------------------------------------------


def _text(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.3:
        return rng.choice(["a \ud83d b", "\udc00", "nul \x00", "\ud800\ud800", "x" * 3000])
    return "".join(
        chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x4E00, 0x9FFF)]))
        for _ in range(rng.randrange(0, 20))
    )


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return (
            rng.choice(BIG) * rng.choice([1, -1]) if rng.random() < 0.5 else rng.randrange(-5, 99)
        )
    if kind == 3:
        return rng.uniform(-1e300, 1e300)
    if kind in (4, 5):
        return _text(rng)
    if kind in (6, 7):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {_text(rng): _value(rng, depth + 1) for _ in range(rng.randrange(4))}


def hostile_frame(rng: random.Random, types: list[str], fields: list[str]) -> str | bytes:
    roll = rng.random()
    if roll < 0.08:
        return rng.randbytes(rng.randrange(1, 64))
    if roll < 0.14:
        return rng.choice(["not json", "{", "NaN", '{"type": "rate", "seq": Infinity}', "[]", "7"])
    if roll < 0.22:
        n = rng.randrange(17, 6000)
        return rng.choice(["[" * n + "]" * n, '{"a": ' * n + "1" + "}" * n, "[" * n])
    if roll < 0.23:
        return json.dumps({"type": "message", "text": "x" * 70_000})  # over the size limit
    if roll < 0.28:
        return json.dumps(_value(rng))
    frame: dict[str, Any] = {"type": rng.choice(types) if rng.random() < 0.85 else _value(rng)}
    for name in rng.sample(fields, rng.randrange(len(fields) + 1)):
        frame[name] = _value(rng)
    if roll < 0.33:
        frame = {"type": "message", "text": f"hello {rng.randrange(10**6)}"}  # a valid one
    return json.dumps(frame)  # ASCII: surrogates and NUL travel as \\uXXXX escapes


# -- sockets ----------------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.answers: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.dropped = 0
        self.closed_1009 = 0


def run(
    open_socket: Any, frames: int, rng: random.Random, types: list[str], fields: list[str]
) -> Tally:
    tally = Tally()
    with ExitStack() as stack:
        ws: ClientConnection = open_socket(stack)
        for n in range(frames):
            ws = _one(ws, n, stack, open_socket, rng, types, fields, tally)
    return tally


def _one(
    ws: ClientConnection,
    n: int,
    stack: ExitStack,
    open_socket: Any,
    rng: random.Random,
    types: list[str],
    fields: list[str],
    tally: Tally,
) -> ClientConnection:
    """One hostile frame and its probe; the socket to go on with (a new one if it closed)."""
    frame = hostile_frame(rng, types, fields)
    probe = f"probe-{n}"
    try:
        ws.send(frame)
        ws.send(json.dumps({"type": probe, "client_id": probe}))
        kinds = []
        while True:
            answer = json.loads(ws.recv(timeout=30))
            if answer.get("client_id") == probe and answer.get("code") == "unknown_type":
                break
            kinds.append(answer["type"])
            if answer["type"] == "error":
                tally.codes[answer["code"]] += 1
        tally.answers["error" if "error" in kinds else "normal reply or none"] += 1
    except ConnectionClosed as closed:
        if closed.rcvd is not None and closed.rcvd.code == 1009:
            tally.closed_1009 += 1
        else:
            tally.dropped += 1
        return open_socket(stack)  # type: ignore[no-any-return]
    return ws


def customer_socket(
    url: str, conversation_id: str, token: str, stack: ExitStack
) -> ClientConnection:
    ws = stack.enter_context(
        connect(
            f"{url.replace('http', 'ws')}/api/chat/ws?conversation_id={conversation_id}&last_seq=0",
            subprotocols=[Subprotocol("kefu.v1"), Subprotocol(f"kefu.token.{token}")],
            max_size=None,
        )
    )
    while json.loads(ws.recv(timeout=30))["type"] != "ready":
        pass
    return ws


def agent_socket(url: str, cookie: str, stack: ExitStack) -> ClientConnection:
    ws = stack.enter_context(
        connect(
            f"{url.replace('http', 'ws')}/api/agent/ws",
            additional_headers={"Cookie": f"{COOKIE}={cookie}", "Origin": url},
            max_size=None,
        )
    )
    while json.loads(ws.recv(timeout=30))["type"] != "ready":
        pass
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000, help="frames per socket")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    log = ServerLog()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().addHandler(log)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "var"
        settings = Settings(data_dir=data, database_url=args.database_url, _env_file=None)
        settings = settings.model_copy(update=NO_LIMITS)  # one address sends every frame
        url, server, thread = serve(settings)
        started = time.monotonic()
        try:
            report = fuzz(url, args.frames, random.Random(args.seed))
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["server_errors_logged"] = len(log.errors)
    report["first_server_errors"] = log.errors[:5]
    print("$ .venv/bin/python benchmarks/ws_fuzz.py", *sys.argv[1:])
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, database: {settings.resolved_database_url.split(':')[0]}"
    )
    print(json.dumps(report, indent=2, ensure_ascii=False))


def fuzz(url: str, frames: int, rng: random.Random) -> dict[str, Any]:
    http = httpx.Client(base_url=url, timeout=30)
    start = http.post("/api/chat/conversations", json={}).json()
    conversation_id, token = start["conversation_id"], start["token"]
    login = http.post("/api/auth/login", json={"username": ADMIN, "password": PASSWORD})
    login.raise_for_status()
    cookie = http.cookies[COOKIE]
    report: dict[str, Any] = {"frames_per_socket": frames}
    for name, opener, types, fields in [
        (
            "customer /api/chat/ws",
            lambda stack: customer_socket(url, conversation_id, token, stack),
            ["message", "rate", "ping", "typing", "handoff"],
            ["text", "client_id", "suggestion", "seq", "helpful", "typing"],
        ),
        (
            "agent /api/agent/ws",
            lambda stack: agent_socket(url, cookie, stack),
            ["subscribe", "unsubscribe", "message", "typing", "ping"],
            ["conversation_id", "last_seq", "ticket_id", "text", "client_id", "typing"],
        ),
    ]:
        tally = run(opener, frames, rng, types, fields)
        report[name] = {
            "frames_tried": frames,
            "answered_with_error_frame": tally.answers["error"],
            "answered_normally_or_silently": tally.answers["normal reply or none"],
            "closed_as_abusive_1009": tally.closed_1009,
            "dropped_sockets": tally.dropped,
            "error_codes": dict(tally.codes.most_common()),
        }
    auth = {"Authorization": f"Bearer {token}"}
    events = http.get(f"/api/chat/conversations/{conversation_id}/events", headers=auth)
    reply = http.post(
        f"/api/chat/conversations/{conversation_id}/messages",
        json={"text": "How can I track my order?"},
        headers=auth,
    )
    report["events_endpoint_status"] = events.status_code
    report["bot_still_answers"] = reply.status_code == 200 and any(
        e["author"] == "bot" for e in reply.json()["replies"]
    )
    with contextlib.suppress(Exception):
        http.close()
    return report


if __name__ == "__main__":
    main()
