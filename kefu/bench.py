"""A load generator that speaks the customer WebSocket protocol, as the widget does.

Each simulated customer starts a conversation over REST, connects, and sends its messages one
after another, timing each from the send to the bot's reply. A conversation the bot hands to a
person is replaced by a fresh one, since the bot rightly stays silent there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
import yaml

__all__ = ["BenchResult", "demo_questions", "run_bench"]

DEMO = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo"
REPLY_TIMEOUT = 30.0


@dataclass
class BenchResult:
    messages: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)

        def pick(q: float) -> float:
            if not ordered:
                return 0.0
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

        return {
            "messages": self.messages,
            "errors": self.errors,
            "throughput_per_s": round(self.messages / self.elapsed_s, 2) if self.elapsed_s else 0.0,
            "p50_ms": pick(0.50),
            "p95_ms": pick(0.95),
            "p99_ms": pick(0.99),
        }


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


async def _open(http: httpx.AsyncClient, base: str) -> tuple[Any, str]:
    started = await http.post(f"{base}/api/chat/conversations")
    started.raise_for_status()
    body = started.json()
    query = f"conversation_id={body['conversation_id']}&token={body['token']}"
    url = f"{_ws_url(base)}/api/chat/ws?{query}"
    socket = await websockets.connect(url, max_size=2**20)
    ready = json.loads(await socket.recv())
    if ready.get("type") != "ready":
        raise RuntimeError(f"unexpected first frame {ready}")
    return socket, body["conversation_id"]


async def _await_reply(socket: Any) -> bool:
    """Wait for the bot's reply; True if it handed the conversation to a person."""
    while True:
        frame = json.loads(await socket.recv())
        if frame.get("type") == "error":
            raise RuntimeError(frame)
        event = frame.get("event") or {}
        if frame.get("type") == "event" and event.get("author") == "bot":
            return bool(event.get("payload", {}).get("kind") == "escalation")


async def _customer(
    base: str, questions: list[str], offset: int, count: int, result: BenchResult
) -> None:
    async with httpx.AsyncClient(timeout=REPLY_TIMEOUT) as http:
        socket, _ = await _open(http, base)
        try:
            for n in range(count):
                text = questions[(offset + n) % len(questions)]
                sent = time.perf_counter()
                try:
                    frame = {"type": "message", "text": text, "client_id": uuid.uuid4().hex}
                    await socket.send(json.dumps(frame))
                    escalated = await asyncio.wait_for(_await_reply(socket), REPLY_TIMEOUT)
                    result.latencies_ms.append((time.perf_counter() - sent) * 1000)
                    result.messages += 1
                except (RuntimeError, TimeoutError, websockets.ConnectionClosed):
                    result.errors += 1
                    escalated = True
                if escalated:
                    await socket.close()
                    socket, _ = await _open(http, base)
        finally:
            await socket.close()


async def run_bench(url: str, clients: int, messages: int) -> BenchResult:
    questions = demo_questions()
    result = BenchResult()
    started = time.perf_counter()
    await asyncio.gather(
        *(_customer(url.rstrip("/"), questions, c * 7, messages, result) for c in range(clients))
    )
    result.elapsed_s = time.perf_counter() - started
    return result
