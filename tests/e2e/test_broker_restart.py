"""Redis going away and coming back loses nothing: a customer's message is acknowledged (never
an error) while the broker is down, and the replies reach the customer once it is back, live
or by reconnecting from the last seq."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import need
from tests.handoff.desk_helpers import Customer
from tests.live import LiveServer, free_port, serve

pytestmark = [pytest.mark.redis, pytest.mark.slow]


ARGS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


class PrivateRedis:
    """A redis-server of this test's own on a free port, so stopping it disturbs nobody."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.root = root
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--dir", str(self.root), *ARGS],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            )
            if ping.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def kill(self) -> None:
        assert self._process is not None
        self._process.kill()
        self._process.wait(timeout=10)
        self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self.kill()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    need(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live(tmp_path: Path, redis: PrivateRedis, embedder: SentenceEmbedder) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'kefu.db'}",
        broker_url=redis.url,
        han_embedding_model="",
        bot_turn_lease_seconds=1.0,
        bot_turn_sweep_seconds=0.5,
        _env_file=None,
    )
    with serve(settings, embedder) as server:
        yield server


class Chat:
    """A customer's socket that, like the widget, reconnects from its last seq when dropped."""

    def __init__(self, customer: Customer) -> None:
        self.customer = customer
        self.last_seq = 0
        self.reconnects = 0
        self.errors: list[dict[str, Any]] = []
        self.ws: ClientConnection = self._open()

    def _open(self) -> ClientConnection:
        # Entered by hand: this socket outlives any one block, and is closed on reconnection.
        ws = self.customer.socket(self.last_seq).__enter__()
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        return ws

    def _reopen(self, deadline: float) -> None:
        self.ws.close()
        while True:
            try:
                self.ws = self._open()
                self.reconnects += 1
                return
            except (OSError, ConnectionClosed, TimeoutError):
                assert time.monotonic() < deadline, "could not reconnect"
                time.sleep(0.2)

    def send(self, text: str) -> str:
        client_id = uuid.uuid4().hex
        with contextlib.suppress(ConnectionClosed):
            # Closed since the last frame was read: ``reply`` reconnects and sends it again, as
            # the widget sends unacknowledged messages again after reconnecting.
            self.ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
        return client_id

    def reply(self, after: int, client_id: str, text: str, timeout: float = 30) -> dict[str, Any]:
        """The bot's first event past ``after``; a dropped socket reconnects and resends."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "no reply from the bot"
            try:
                frame = json.loads(self.ws.recv(timeout=remaining))
            except ConnectionClosed:
                self._reopen(deadline)
                frame_out = {"type": "message", "text": text, "client_id": client_id}
                self.ws.send(json.dumps(frame_out))
                continue
            except TimeoutError:
                raise AssertionError("no reply from the bot") from None
            if frame["type"] == "error":
                self.errors.append(frame)
            if frame["type"] != "event":
                continue
            event = frame["event"]
            self.last_seq = max(self.last_seq, event["seq"])
            if event["author"] == "bot" and event["seq"] > after:
                reply: dict[str, Any] = event
                return reply

    def ask(self, text: str) -> dict[str, Any]:
        before = self.last_seq
        return self.reply(before, self.send(text), text)


def test_replies_reach_the_customer_after_redis_restarts(
    live: LiveServer, redis: PrivateRedis
) -> None:
    chat = Chat(Customer(live))
    chat.ask("Where is my order?")

    redis.kill()
    redis.start()
    # The broker is back: the next message's reply arrives.
    chat.ask("How do I return an item?")
    assert chat.errors == []


def closing_code(ws: ClientConnection, timeout: float = 10) -> int | None:
    """Frames are read until the server closes the socket: the code it closed with."""
    try:
        while True:
            ws.recv(timeout=timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def test_a_lost_subscriber_connection_breaks_the_sockets_it_served(
    live: LiveServer, redis: PrivateRedis
) -> None:
    """Redis stays up but drops the subscriber's connection, as a restart that the reader
    notices only once Redis is back looks. What was published meanwhile never reaches this
    process, so its sockets must reconnect and catch up, not wait for events that never come
    (the Redis client must not reconnect and resubscribe behind the broker's back)."""
    chat = Chat(Customer(live))
    chat.ask("Where is my order?")
    killed = subprocess.run(
        ["redis-cli", "-p", str(redis.port), "client", "kill", "type", "pubsub"],
        capture_output=True,
        check=True,
    )
    assert int(killed.stdout.strip()) >= 1
    assert closing_code(chat.ws) == 1013
    # The chat goes on: the customer reconnects from its last seq and is answered.
    chat.ask("How do I return an item?")
    assert chat.errors == []


def test_a_message_sent_while_redis_is_down_is_acknowledged_and_answered_once_it_is_back(
    live: LiveServer, redis: PrivateRedis
) -> None:
    chat = Chat(Customer(live))
    chat.ask("Where is my order?")
    before = chat.last_seq

    redis.kill()
    text = "Can I change my delivery address?"
    client_id = chat.send(text)
    frames = []
    acked = False
    try:
        while not acked:
            frame = json.loads(chat.ws.recv(timeout=15))
            frames.append(frame)
            acked = frame["type"] == "ack" and frame["client_id"] == client_id
    except ConnectionClosed:
        pass  # the server may ask the client to reconnect; the message is then sent again
    assert not [f for f in frames if f["type"] == "error"], frames

    redis.start()
    reply = chat.reply(before, client_id, text)
    assert reply["seq"] > before
    assert chat.errors == []
    # Stored once, answered once.
    events = Customer.events(chat.customer)
    assert [e["author"] for e in events if e["type"] == "message"].count("customer") == 2
