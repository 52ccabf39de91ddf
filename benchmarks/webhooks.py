"""Webhook delivery of an API channel (issue 16): latency, a receiver down, kefu killed.

Runs ``kefu serve`` in a subprocess on loopback and a real receiver (tests/channels/
webhook_receiver.py, which checks every signature) in this process, with an API channel made
through the admin API. Three phases:

1. ``--messages`` messages through the inbound API (``--contacts`` contacts in turn, the bot
   answering each): latency from each event's commit (its ``created_at``) to the receiver
   getting it, p50 and p95.
2. The receiver down for ``--down-seconds`` while messages keep coming; then up: the time from
   its return until every pending delivery has arrived, and how many were lost.
3. ``--cycles`` restarts of kefu while messages flow and the receiver is slow (so deliveries
   are in flight): kill -9, then as many graceful stops (SIGTERM); after each, the events
   lost (in the event log, never received) and doubled (a delivery id received twice).

    PYTHONPATH=. .venv/bin/python benchmarks/webhooks.py
    PYTHONPATH=. .venv/bin/python benchmarks/webhooks.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test \
        --broker-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx

# The same ``kefu serve`` child as the kill-and-restart benchmark (benchmarks/ is on the path).
from kill_restart import KEFU, Server, admin_session
from sqlalchemy import create_engine, text

from core.rate_limits import no_limits_env
from tests.channels.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parent.parent


class App:
    """The app's side: its channel's secret, and a client that sends messages."""

    def __init__(self, server: Server, name: str, secret: str) -> None:
        self.url, self.name, self.secret = server.url, name, secret
        self.sent = 0

    def say(self, contact: str, text_: str) -> bool:
        try:
            response = httpx.post(
                f"{self.url}/api/channels/{self.name}/messages",
                json={"contact": {"id": contact}, "text": text_},
                headers={"Authorization": f"Bearer {self.secret}"},
                timeout=30,
            )
        except httpx.TransportError:
            return False  # the server died under it: nothing was acknowledged
        self.sent += response.status_code == 200
        return response.status_code == 200


def owed(url: str) -> set[tuple[str, int]]:
    """Every event the app must hear of: API conversations' events not by the customer and
    not staff-only."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT e.conversation_id, e.seq FROM conversation_event e "
                "JOIN conversation c ON c.id = e.conversation_id "
                "WHERE c.channel = 'api' AND e.author != 'customer' AND NOT e.internal"
            )
        ).all()
    engine.dispose()
    return {(row[0], int(row[1])) for row in rows}


def heard(receiver: Receiver) -> tuple[set[tuple[str, int]], Counter[str]]:
    got = receiver.events()
    assert all(r.signed for r in got), "a request failed its signature check"
    return {(r.body["conversation_id"], r.body["seq"]) for r in got}, Counter(
        r.delivery for r in got
    )


def until_heard(url: str, receiver: Receiver, timeout: float) -> float:
    """Seconds until every owed event has reached the receiver."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if owed(url) <= heard(receiver)[0]:
            return time.monotonic() - started
        time.sleep(0.1)
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_phase(app: App, receiver: Receiver, url: str, messages: int, contacts: int) -> None:
    start = len(receiver.events())
    for n in range(messages):
        app.say(f"lat-{n % contacts}", f"question number {n} about my order")
    until_heard(url, receiver, 120)
    delays = [
        r.at - datetime.fromisoformat(r.body["created_at"]).timestamp()
        for r in receiver.events()[start:]
    ]
    print(
        f"latency, commit to receiver: {len(delays)} deliveries of {messages} messages; "
        f"p50 {statistics.median(delays) * 1000:.0f} ms, p95 {percentile(delays, 0.95) * 1000:.0f} "
        f"ms, max {max(delays) * 1000:.0f} ms"
    )


def down_phase(app: App, receiver: Receiver, url: str, down: float) -> None:
    receiver.stop()
    stopped = time.monotonic()
    n = 0
    while time.monotonic() - stopped < down:
        app.say(f"down-{n % 10}", f"message {n} while the app is away")
        n += 1
        time.sleep(max(0.0, min(1.0, down - (time.monotonic() - stopped))))
    waiting = len(owed(url) - heard(receiver)[0])
    receiver.start()
    took = until_heard(url, receiver, 900)
    lost = len(owed(url) - heard(receiver)[0])
    print(
        f"receiver down {down:.0f} s: {n} messages sent meanwhile, {waiting} events waiting; "
        f"all delivered {took:.1f} s after it came back; lost {lost}"
    )


def _chatter(app: App, tag: str, flowing: threading.Event) -> None:
    n = 0
    while flowing.is_set():
        app.say(f"{tag}-{n % 5}", f"restart message {n}")
        n += 1


def restart_phase(
    env: dict[str, str],
    workdir: Path,
    port: int,
    app: App,
    receiver: Receiver,
    url: str,
    kill: bool,
) -> Server:
    receiver.delay = 0.2  # deliveries stay in flight a while
    before = sum(count - 1 for count in heard(receiver)[1].values())
    server: Server | None = None
    for cycle in range(ARGS.cycles):
        server = Server(env, workdir, port)
        flowing = threading.Event()
        flowing.set()

        tag = f"{'kill' if kill else 'term'}{cycle}"
        thread = threading.Thread(target=_chatter, args=(app, tag, flowing), daemon=True)
        thread.start()
        time.sleep(3.0)
        if kill:
            server.kill()
        else:
            server.stop()
        flowing.clear()
        thread.join()
    server = Server(env, workdir, port)
    receiver.delay = 0.0
    took = until_heard(url, receiver, 300)
    time.sleep(2.0)  # anything sent twice would arrive by now
    events, ids = heard(receiver)
    lost = len(owed(url) - events)
    doubled = sum(count - 1 for count in ids.values()) - before
    print(
        f"{ARGS.cycles} x {'kill -9' if kill else 'graceful stop (SIGTERM)'} while sending: "
        f"{len(owed(url))} events owed so far, lost {lost}, doubled {doubled} "
        f"(delivery ids received twice); caught up {took:.1f} s after the last start"
    )
    return server


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="kefu-webhooks-"))
    schema, url = "", ARGS.database_url or f"sqlite:///{workdir / 'kefu.db'}"
    if url.startswith("postgresql"):
        schema = f"bench_hooks_{uuid.uuid4().hex[:8]}"
        with create_engine(ARGS.database_url).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{ARGS.database_url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(no_limits_env())
    env.update(
        PYTHONPATH=str(ROOT),
        KEFU_DATA_DIR=str(workdir / "var"),
        KEFU_DATABASE_URL=url,
        KEFU_BROKER_URL=ARGS.broker_url,
        KEFU_HAN_EMBEDDING_MODEL="",
        KEFU_LOG_LEVEL="warning",
    )
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(
        f"backend {'postgresql' if schema else 'sqlite'}, broker {ARGS.broker_url}; "
        f"default webhook settings (timeout 5 s, retry 1 s doubling to 300 s); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    subprocess.run(  # noqa: S603
        [str(KEFU), "db", "upgrade"], env=env, cwd=workdir, check=True, capture_output=True
    )
    receiver = Receiver()
    server = Server(env, workdir, ARGS.port)
    try:
        admin = admin_session(server, url)
        made = admin.post(
            "/api/admin/channels",
            json={"name": "bench", "kind": "api", "webhook_url": receiver.url},
        ).json()
        receiver.secret = made["signing_secret"]
        app = App(server, "bench", made["secret"])
        latency_phase(app, receiver, url, ARGS.messages, ARGS.contacts)
        down_phase(app, receiver, url, ARGS.down_seconds)
        server.stop()
        server = restart_phase(env, workdir, ARGS.port, app, receiver, url, kill=True)
        server.stop()
        server = restart_phase(env, workdir, ARGS.port, app, receiver, url, kill=False)
    finally:
        if server.process.poll() is None:
            server.stop()
        receiver.stop()
        if schema:
            with create_engine(ARGS.database_url).begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    print(f"messages accepted by the inbound API: {app.sent}")


parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
parser.add_argument("--database-url", default="", help="empty: SQLite in a temporary dir")
parser.add_argument("--broker-url", default="memory://")
parser.add_argument("--messages", type=int, default=200)
parser.add_argument("--contacts", type=int, default=20)
parser.add_argument("--down-seconds", type=float, default=60.0)
parser.add_argument("--cycles", type=int, default=3)
parser.add_argument("--port", type=int, default=18931)
ARGS = parser.parse_args() if __name__ == "__main__" else parser.parse_args([])

if __name__ == "__main__":
    main()
