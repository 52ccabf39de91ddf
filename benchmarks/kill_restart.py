"""Kill and restart during a bot turn: is every acknowledged customer message answered once?

Each cycle starts ``kefu serve`` on loopback (the first on a fresh database; every later one is
the restart after the previous kill), checks that the message the previous cycle left behind
got exactly one reply, then opens a new conversation on the WebSocket, sends a message, waits
for the ack, and SIGKILLs the server at a random moment of the bot's turn (the bot "types" for
``--delay-ms`` before writing its reply). A last start checks the last cycle's message.

    .venv/bin/python benchmarks/kill_restart.py --cycles 20
    .venv/bin/python benchmarks/kill_restart.py --cycles 20 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

A PostgreSQL database gets a fresh schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from core.db import make_engine, session_scope
from core.rate_limits import no_limits_env
from core.staff import Role, create_user

KEFU = Path(sys.executable).parent / "kefu"


@dataclass
class Sent:
    conversation_id: str
    token: str
    seq: int
    killed_after_s: float


@dataclass
class Tally:
    cycles: int = 0
    acknowledged: int = 0
    answered_once: int = 0
    lost: int = 0
    doubled: int = 0
    unanswered: int = 0
    seq_gaps: int = 0


class Server:
    def __init__(self, env: dict[str, str], workdir: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        with (workdir / "server.log").open("ab") as log:
            # Our own console script with fixed arguments.
            self.process = subprocess.Popen(  # noqa: S603
                [str(KEFU), "serve", "--port", str(port)],
                env=env,
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"kefu serve exited; see {workdir / 'server.log'}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit("kefu serve did not start within 300 s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def admin_session(server: Server, database_url: str) -> httpx.Client:
    """An admin made in the server's database and signed in: a client with its CSRF header."""
    password = secrets.token_urlsafe(16)
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        create_user(session, username="bench-admin", password=password, role=Role.admin)
    engine.dispose()
    admin = httpx.Client(base_url=server.url, timeout=30)
    login = admin.post("/api/auth/login", json={"username": "bench-admin", "password": password})
    login.raise_for_status()
    admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return admin


def send_and_kill(server: Server, delay_s: float, rng: random.Random) -> Sent:
    body = httpx.post(f"{server.url}/api/chat/conversations", json={"language": "en"}).json()
    conversation_id, token = body["conversation_id"], body["token"]
    ws_url = server.url.replace("http", "ws", 1)
    with connect(f"{ws_url}/api/chat/ws?conversation_id={conversation_id}&token={token}") as ws:
        ws.send(json.dumps({"type": "message", "text": "where is my parcel?", "client_id": "c1"}))
        while (frame := json.loads(ws.recv(timeout=60)))["type"] != "ack":
            pass
        acked = time.monotonic()
        time.sleep(rng.uniform(0, delay_s))
        server.kill()
    return Sent(conversation_id, token, int(frame["seq"]), time.monotonic() - acked)


def check(server: Server, sent: Sent, tally: Tally, *, wait_s: float, settle_s: float) -> float:
    """Wait for the reply; count the outcome; the seconds from the restart to the reply."""
    started = time.monotonic()

    def events() -> list[dict[str, Any]]:
        response = httpx.get(
            f"{server.url}/api/chat/conversations/{sent.conversation_id}/events",
            headers={"Authorization": f"Bearer {sent.token}"},
        )
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["events"]
        return found

    def bot_replies(found: list[dict[str, Any]]) -> int:
        return sum(1 for e in found if e["author"] == "bot" and e["type"] == "message")

    while bot_replies(events()) == 0 and time.monotonic() - started < wait_s:
        time.sleep(0.05)
    waited = time.monotonic() - started
    time.sleep(settle_s)  # time enough for a second reply, if any process were to write one
    found = events()
    replies = bot_replies(found)
    if not any(e["seq"] == sent.seq and e["author"] == "customer" for e in found):
        tally.lost += 1
    elif replies == 0:
        tally.unanswered += 1
    elif replies > 1:
        tally.doubled += 1
    else:
        tally.answered_once += 1
    if [e["seq"] for e in found] != list(range(1, len(found) + 1)):
        tally.seq_gaps += 1
    return waited


def fresh_postgres_schema(url: str) -> tuple[str, str]:
    schema = f"bench_kill_{uuid.uuid4().hex[:8]}"
    with create_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    return schema, f"{url}{separator}options=-csearch_path%3D{schema}"


def drop_postgres_schema(url: str, schema: str) -> None:
    with create_engine(url).begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--database-url", default="", help="empty: SQLite in a temporary dir")
    parser.add_argument("--delay-ms", type=int, default=2000, help="the bot's typing delay")
    parser.add_argument("--lease", type=float, default=2.0, help="KEFU_BOT_TURN_LEASE_SECONDS")
    parser.add_argument("--sweep", type=float, default=0.5, help="KEFU_BOT_TURN_SWEEP_SECONDS")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--port", type=int, default=18913)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="kefu-kill-"))
    schema, url = "", args.database_url
    if url.startswith("postgresql"):
        schema, url = fresh_postgres_schema(args.database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(no_limits_env())  # every simulated customer comes from one address
    env.update(
        KEFU_DATA_DIR=str(workdir / "var"),
        KEFU_DATABASE_URL=url,
        KEFU_HAN_EMBEDDING_MODEL="",  # English messages: the Han model would only slow starts
        KEFU_BOT_REPLY_DELAY_MS=str(args.delay_ms),
        KEFU_BOT_TURN_LEASE_SECONDS=str(args.lease),
        KEFU_BOT_TURN_SWEEP_SECONDS=str(args.sweep),
        KEFU_LOG_LEVEL="warning",
    )
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(
        f"backend {'postgresql' if schema else 'sqlite'}; typing delay {args.delay_ms} ms; "
        f"lease {args.lease} s; sweep {args.sweep} s; seed {args.seed}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    subprocess.run(  # noqa: S603
        [str(KEFU), "db", "upgrade"], env=env, cwd=workdir, check=True, capture_output=True
    )
    tally, recoveries, pending = Tally(), [], None
    try:
        for cycle in range(args.cycles + 1):
            server = Server(env, workdir, args.port)
            if pending is not None:
                recoveries.append(
                    check(server, pending, tally, wait_s=60, settle_s=args.lease + 2 * args.sweep)
                )
            if cycle == args.cycles:
                server.stop()
                break
            pending = send_and_kill(server, args.delay_ms / 1000, rng)
            tally.cycles += 1
            tally.acknowledged += 1
    finally:
        if schema:
            drop_postgres_schema(args.database_url, schema)
    ordered = sorted(recoveries)
    print(
        f"cycles run: {tally.cycles}; acknowledged messages: {tally.acknowledged}; "
        f"answered exactly once: {tally.answered_once}; lost: {tally.lost}; "
        f"doubled: {tally.doubled}; left without a reply: {tally.unanswered}; "
        f"conversations with seq gaps: {tally.seq_gaps}"
    )
    if ordered:
        median = ordered[len(ordered) // 2]
        print(
            f"seconds from the restart answering /healthz to the reply: median {median:.2f}, "
            f"max {ordered[-1]:.2f}"
        )


if __name__ == "__main__":
    main()
