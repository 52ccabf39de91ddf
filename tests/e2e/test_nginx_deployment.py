"""The example deployment (deploy/): two ``kefu serve`` processes behind Debian's nginx, on one
PostgreSQL and one Redis. Chat works through the proxy over REST and the WebSocket, requests
reach both processes, and when one is SIGKILLed nginx skips it, and a customer whose socket
dropped reconnects through nginx and gets what it missed, the reply to its last message
included (the surviving process takes over the dead one's turn)."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from deploy.cluster import Cluster, ServerProcess, cluster, find_nginx
from tests.conftest import GENEROUS_LIMITS, PASSWORD, POSTGRES_URL, need

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "")
# A turn whose process died is taken over once its lease runs out.
LEASE_S = 1.5
# The bot "types" this long, so a kill right after the ack lands inside the turn.
TYPING_MS = 600


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need(bool(POSTGRES_URL), "KEFU_TEST_DATABASE_URL is not set")
    need(bool(REDIS_URL), "KEFU_TEST_REDIS_URL is not set")
    need(find_nginx() is not None, "nginx is not installed (apt-get install nginx-light)")
    with cluster(
        database_url=POSTGRES_URL,
        broker_url=REDIS_URL,
        admin_password=PASSWORD,
        root=tmp_path_factory.mktemp("nginx-deployment"),
        env={
            # English only: the Han model would only slow the two starts down.
            "KEFU_HAN_EMBEDDING_MODEL": "",
            "KEFU_INFERENCE_WORKERS": "1",
            "KEFU_BOT_REPLY_DELAY_MS": str(TYPING_MS),
            "KEFU_BOT_TURN_LEASE_SECONDS": str(LEASE_S),
            "KEFU_BOT_TURN_SWEEP_SECONDS": "0.3",
            **GENEROUS_LIMITS,
        },
    ) as running:
        yield running


def start(base: str) -> dict[str, Any]:
    response = httpx.post(f"{base}/api/chat/conversations", json={"language": "en"}, timeout=30)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def ask(base: str, text: str) -> dict[str, Any]:
    """A new conversation's question over REST; the bot's reply event."""
    started = start(base)
    response = httpx.post(
        f"{base}/api/chat/conversations/{started['conversation_id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {started['token']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    replies = [e for e in response.json()["replies"] if e["type"] == "message"]
    assert replies, response.text
    reply: dict[str, Any] = replies[0]
    return reply


def socket(base: str, started: dict[str, Any], last_seq: int = 0) -> ClientConnection:
    ws = base.replace("http://", "ws://")
    query = f"conversation_id={started['conversation_id']}&last_seq={last_seq}"
    return connect(
        f"{ws}/api/chat/ws?{query}",
        subprotocols=[Subprotocol("kefu.v1"), Subprotocol(f"kefu.token.{started['token']}")],
        # As the demo page's browser sends it: nginx's own origin, port included, must count
        # as the server's own origin behind the proxy.
        origin=Origin(base),
        open_timeout=30,
    )


def frames_until(ws: ClientConnection, done: Any, timeout: float = 30) -> list[dict[str, Any]]:
    """Frames received until ``done(frame)``; fails after ``timeout`` seconds."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not seen or not done(seen[-1]):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; frames so far: {seen}"
        seen.append(json.loads(ws.recv(timeout=left)))
    return seen


def bot_reply(frame: dict[str, Any]) -> bool:
    return bool(frame["type"] == "event" and frame["event"]["author"] == "bot")


def metric(server: ServerProcess, name: str) -> float:
    """The sum of a metric's samples in one process's /metrics."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


def test_chat_over_rest_and_the_websocket_goes_through_nginx(deployment: Cluster) -> None:
    assert ask(deployment.url, "Where is my parcel?")["author"] == "bot"

    started = start(deployment.url)
    with socket(deployment.url, started) as ws:
        assert ws.subprotocol == "kefu.v1"
        ready = json.loads(ws.recv(timeout=30))
        assert ready == {
            "type": "ready",
            "conversation_id": started["conversation_id"],
            "last_seq": 0,
        }
        ws.send(json.dumps({"type": "message", "text": "Hello there", "client_id": "m1"}))
        frames = frames_until(ws, bot_reply)
    acks = [f for f in frames if f["type"] == "ack"]
    assert [(a["client_id"], a["seq"], a["duplicate"]) for a in acks] == [("m1", 1, False)]
    assert [f["event"]["seq"] for f in frames if f["type"] == "event"] == [1, 2]


def test_requests_are_spread_over_both_processes(deployment: Cluster) -> None:
    turns_before = [metric(s, "kefu_bot_turns_total") for s in deployment.servers]
    # Customers at once, as in production: least_conn sends each new request to the process
    # with fewer in flight (one after another, strict alternation would put every
    # conversation's start on one process and every message on the other).
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda n: ask(deployment.url, f"Order question {n}"), range(6)))
    assert all(reply["author"] == "bot" for reply in replies)
    served = re.findall(
        r'"POST /api/chat/conversations/[^/"]+/messages" 200 .* upstream=127\.0\.0\.1:(\d+)',
        deployment.nginx.access_log.read_text(),
    )
    assert {int(port) for port in served} == {s.port for s in deployment.servers}, served
    turns_after = [metric(s, "kefu_bot_turns_total") for s in deployment.servers]
    assert all(a > b for a, b in zip(turns_after, turns_before, strict=True)), turns_after


def test_a_killed_process_is_skipped_and_its_customers_resume_with_nothing_lost(
    deployment: Cluster,
) -> None:
    started = start(deployment.url)
    client_id = uuid.uuid4().hex
    with socket(deployment.url, started) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        holders = [s for s in deployment.servers if metric(s, "kefu_customer_sockets") >= 1]
        assert len(holders) == 1, "the socket should be on exactly one process"
        text = "Where is my parcel?"
        ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
        ack = frames_until(ws, lambda f: f["type"] == "ack")[-1]
        # Inside the bot's turn (it types for TYPING_MS): the turn dies with the process.
        holders[0].kill()
        with pytest.raises(ConnectionClosed):
            frames_until(ws, bot_reply, timeout=30)

    # New customers are served by the survivor: nginx skips the dead one.
    for n in range(4):
        assert ask(deployment.url, f"Is anyone there? {n}")["author"] == "bot"

    # The customer reconnects through nginx with the last seq it saw: the reply to the message
    # the dead process acknowledged arrives (replayed, or live once the turn is taken over).
    with socket(deployment.url, started, last_seq=ack["seq"]) as again:
        frames = frames_until(again, bot_reply, timeout=LEASE_S + 30)
    assert frames[0] == {
        "type": "ready",
        "conversation_id": started["conversation_id"],
        "last_seq": ack["seq"],
    }
    assert [f["event"]["seq"] for f in frames if f["type"] == "event"] == [ack["seq"] + 1]

    events = httpx.get(
        f"{deployment.url}/api/chat/conversations/{started['conversation_id']}/events",
        headers={"Authorization": f"Bearer {started['token']}"},
        timeout=30,
    ).json()["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    customer = [e for e in events if e["author"] == "customer"]
    assert [e["client_id"] for e in customer] == [client_id]
    assert sum(1 for e in events if e["author"] == "bot" and e["type"] == "message") == 1
