"""A load generator that speaks the customer WebSocket protocol, as the widget does.

Every simulated customer first starts a conversation over REST and connects; then the load
runs in one of two shapes:

* **closed loop** (``messages``): each customer sends its messages one after another, each
  when the previous one was answered. Throughput is whatever the server sustains.
* **open loop** (``rate`` and ``duration``): messages are offered at ``rate`` a second in
  total, each by a customer that is not waiting for a reply. A message's time counts from when
  it was due, so a server that falls behind shows it in the latencies.

A message counts as *lost* when it got no acknowledgement, or no reply after its
acknowledgement, within the reply timeout (``REPLY_TIMEOUT`` by default), reconnections
included: a dropped socket is reopened to the same conversation and replayed from its last
``seq``. A conversation the bot hands to a person is replaced by a fresh one, since the bot
rightly stays silent there. The server's resident memory is read from its ``/metrics`` before
and after everyone connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
import yaml
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["BenchResult", "demo_questions", "run_bench"]

DEMO = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo"
REPLY_TIMEOUT = 30.0
CONNECTING_AT_ONCE = 50


@dataclass
class BenchResult:
    clients: int = 0
    sent: int = 0
    messages: int = 0
    errors: int = 0
    # What the errors were: an error frame's code, or "connect" for a conversation or socket
    # the server refused before anything was sent.
    error_codes: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    # Sockets reopened to the same conversation after a drop (a server or proxy went away).
    reconnects: int = 0
    # How long a message may take, reconnections included, before it counts as lost.
    reply_timeout_s: float = REPLY_TIMEOUT
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    memory_per_customer_kb: float | None = None
    # Mean milliseconds per bot turn inside the server, by stage, from its /metrics.
    stages_ms: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)

        def pick(q: float) -> float:
            if not ordered:
                return 0.0
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

        return {
            "clients": self.clients,
            "messages": self.messages,
            "errors": self.errors,
            "lost": self.lost,
            "reconnects": self.reconnects,
            "throughput_per_s": round(self.messages / self.elapsed_s, 2) if self.elapsed_s else 0.0,
            "p50_ms": pick(0.50),
            "p95_ms": pick(0.95),
            "p99_ms": pick(0.99),
            "memory_per_customer_kb": self.memory_per_customer_kb,
            "stages_ms": self.stages_ms,
            "error_codes": dict(sorted(self.error_codes.items())),
        }

    def error(self, code: str) -> None:
        self.errors += 1
        self.error_codes[code] = self.error_codes.get(code, 0) + 1

    def progress_line(self) -> str:
        recent = sorted(self.latencies_ms[-500:])
        p50 = f"{recent[len(recent) // 2]:.0f} ms" if recent else "-"
        return (
            f"sent {self.sent}, answered {self.messages}, errors {self.errors}, "
            f"lost {self.lost}, reconnects {self.reconnects}, recent p50 {p50}"
        )


def demo_questions() -> list[str]:
    """Every question of the demo knowledge base, English and Chinese interleaved."""
    per_language = []
    for path in sorted(DEMO.glob("faqs.*.yaml")):
        entries = yaml.safe_load(path.read_text("utf-8"))["faqs"]
        per_language.append([e["question"] for e in entries])
    mixed = itertools.chain.from_iterable(itertools.zip_longest(*per_language))
    return [q for q in mixed if q]


def _ws_url(base: str) -> str:
    return base.replace("https://", "wss://").replace("http://", "ws://").rstrip("/")


class _Customer:
    """One conversation on one socket; a new one once the bot has handed it to a person.

    A socket that drops mid-message (a server killed, a proxy restarted) is reconnected to the
    same conversation from the last ``seq`` seen, as the widget does, and the message is sent
    again with its ``client_id``: the server stores it once, and its reply arrives live or in
    the replay. Only a message with no acknowledgement or no reply within the reply timeout is lost.
    """

    def __init__(self, http: httpx.AsyncClient, base: str, result: BenchResult) -> None:
        self.http, self.base, self.result = http, base, result
        self.socket: Any = None
        self.conversation: tuple[str, str] | None = None  # (id, token)
        self.last_seq = 0

    async def connect(self) -> None:
        started = await self.http.post(f"{self.base}/api/chat/conversations")
        started.raise_for_status()
        body = started.json()
        self.conversation, self.last_seq = (body["conversation_id"], body["token"]), 0
        await self._open()

    async def _open(self) -> None:
        assert self.conversation is not None
        conversation_id, token = self.conversation
        query = f"conversation_id={conversation_id}&last_seq={self.last_seq}"
        self.socket = await websockets.connect(
            f"{_ws_url(self.base)}/api/chat/ws?{query}",
            max_size=2**20,
            subprotocols=[websockets.Subprotocol("kefu.v1"), _token_protocol(token)],
        )
        ready = json.loads(await self.socket.recv())
        if ready.get("type") != "ready":
            raise RuntimeError(f"unexpected first frame {ready}")

    async def _reopen(self, deadline: float) -> bool:
        """Reconnect to the same conversation until ``deadline``; False if it never worked."""
        await self.close()
        pause = 0.1
        while time.perf_counter() < deadline:
            try:
                await self._open()
                self.result.reconnects += 1
                return True
            except (httpx.HTTPError, OSError, RuntimeError, websockets.WebSocketException):
                self.socket = None
            await asyncio.sleep(min(pause, max(0.0, deadline - time.perf_counter())))
            pause = min(pause * 2, 2.0)
        return False

    async def close(self) -> None:
        if self.socket is not None:
            socket, self.socket = self.socket, None
            with contextlib.suppress(OSError, websockets.WebSocketException):
                await socket.close()

    async def ask(self, text: str, due: float) -> None:
        """Send ``text`` and wait for its acknowledgement and the bot's reply."""
        result = self.result
        if self.socket is None:
            # A fresh conversation after a handoff, or after a connection that failed.
            try:
                await self.connect()
            except (httpx.HTTPError, OSError, RuntimeError, websockets.WebSocketException):
                result.error("connect")  # refused before anything was sent: not lost
                self.socket = None
                return
        client_id = uuid.uuid4().hex
        frame_out = json.dumps({"type": "message", "text": text, "client_id": client_id})
        before = self.last_seq
        deadline = time.perf_counter() + result.reply_timeout_s
        acked = answered = escalated = False
        result.sent += 1
        unsent = True
        try:
            while not (acked and answered):
                try:
                    if unsent:
                        await self.socket.send(frame_out)
                        unsent = False
                    async with asyncio.timeout(max(0.0, deadline - time.perf_counter())):
                        frame = json.loads(await self.socket.recv())
                except (websockets.ConnectionClosed, OSError):
                    # Dropped: the same conversation again, from the last seq seen, and the
                    # message again under its client_id (stored once, whatever happened).
                    if not await self._reopen(deadline):
                        raise TimeoutError from None
                    unsent = True
                    continue
                kind, event = frame.get("type"), frame.get("event") or {}
                if kind == "ack" and frame.get("client_id") == client_id:
                    acked = True
                elif kind == "error":
                    raise _RefusedError(str(frame.get("code") or "unknown"))
                elif kind == "event":
                    self.last_seq = max(self.last_seq, int(event.get("seq") or 0))
                    if event.get("author") == "bot" and event["seq"] > before and not answered:
                        answered = True
                        escalated = event.get("payload", {}).get("kind") == "escalation"
            result.latencies_ms.append((time.perf_counter() - due) * 1000)
            result.messages += 1
        except _RefusedError as refused:
            result.error(refused.code)
            escalated = True
        except (TimeoutError, websockets.ConnectionClosed, OSError):
            result.lost += 1
            escalated = True
        if escalated:
            await self.close()


class _RefusedError(Exception):
    """The server answered a message with an error frame."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _token_protocol(token: str) -> Any:
    return websockets.Subprotocol(f"kefu.token.{token}")


async def _connect_all(http: httpx.AsyncClient, base: str, result: BenchResult) -> list[_Customer]:
    customers = [_Customer(http, base, result) for _ in range(result.clients)]
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def connect(customer: _Customer) -> None:
        async with gate:
            try:
                await customer.connect()
            except (httpx.HTTPError, OSError, RuntimeError, websockets.WebSocketException):
                result.error("connect")  # it tries again before its first message
                customer.socket = None

    await asyncio.gather(*(connect(c) for c in customers))
    return customers


Samples = dict[tuple[str, str], float]


async def _scrape(http: httpx.AsyncClient, base: str) -> Samples:
    """The server's Prometheus samples by name and ``stage`` label; empty if it has none."""
    try:
        response = await http.get(f"{base}/metrics")
    except httpx.HTTPError:
        return {}
    if response.status_code != 200:
        return {}
    return {
        (sample.name, sample.labels.get("stage", "")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _stages_ms(before: Samples, after: Samples) -> dict[str, float]:
    """Mean time per turn of each stage, and of the whole turn, during the run."""
    turns = after.get(("kefu_bot_turn_seconds_count", ""), 0.0) - before.get(
        ("kefu_bot_turn_seconds_count", ""), 0.0
    )
    if turns <= 0:
        return {}
    spent = {
        label: value - before.get((name, label), 0.0)
        for (name, label), value in after.items()
        if name == "kefu_bot_stage_seconds_sum"
    }
    spent["turn"] = after.get(("kefu_bot_turn_seconds_sum", ""), 0.0) - before.get(
        ("kefu_bot_turn_seconds_sum", ""), 0.0
    )
    return {label: round(seconds / turns * 1000, 2) for label, seconds in sorted(spent.items())}


async def _closed_loop(customers: list[_Customer], questions: list[str], messages: int) -> None:
    async def run(index: int, customer: _Customer) -> None:
        for n in range(messages):
            await customer.ask(questions[(index * 7 + n) % len(questions)], time.perf_counter())

    await asyncio.gather(*(run(i, c) for i, c in enumerate(customers)))


async def _open_loop(
    customers: list[_Customer], questions: list[str], rate: float, duration: float
) -> None:
    idle: asyncio.Queue[_Customer] = asyncio.Queue()
    for customer in customers:
        idle.put_nowait(customer)

    async def run(customer: _Customer, text: str, due: float) -> None:
        try:
            await customer.ask(text, due)
        finally:
            idle.put_nowait(customer)

    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * duration)):
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        customer = await idle.get()
        tasks.append(asyncio.create_task(run(customer, questions[n % len(questions)], due)))
    await asyncio.gather(*tasks)


async def run_bench(
    url: str,
    clients: int,
    messages: int = 100,
    *,
    rate: float | None = None,
    duration: float = 60.0,
    progress: Callable[[str], None] | None = None,
    reply_timeout: float = REPLY_TIMEOUT,
) -> BenchResult:
    """Closed loop with ``messages`` per customer, or open loop at ``rate`` for ``duration``."""
    base = url.rstrip("/")
    questions = demo_questions()
    result = BenchResult(clients=clients, reply_timeout_s=reply_timeout)
    limits = httpx.Limits(max_connections=CONNECTING_AT_ONCE)
    async with httpx.AsyncClient(timeout=REPLY_TIMEOUT, limits=limits) as http:
        idle = await _scrape(http, base)
        customers = await _connect_all(http, base, result)
        connected = await _scrape(http, base)
        memory = "process_resident_memory_bytes", ""
        if memory in idle and memory in connected:
            grown = connected[memory] - idle[memory]
            result.memory_per_customer_kb = round(grown / clients / 1024, 1)
        reporter = asyncio.create_task(_report(result, progress)) if progress else None
        started = time.perf_counter()
        try:
            if rate is None:
                await _closed_loop(customers, questions, messages)
            else:
                await _open_loop(customers, questions, rate, duration)
        finally:
            result.elapsed_s = time.perf_counter() - started
            if reporter:
                reporter.cancel()
            await asyncio.gather(*(c.close() for c in customers))
        result.stages_ms = _stages_ms(connected, await _scrape(http, base))
    return result


async def _report(result: BenchResult, progress: Callable[[str], None]) -> None:
    while True:
        await asyncio.sleep(1.0)
        progress(result.progress_line())
