"""Prometheus metrics of one process, served at ``/metrics`` (prometheus-client).

Counters are per process, as Prometheus expects: each server process is scraped on its own and
the sums are taken in queries. Nothing here carries a customer's words or identity, only
counts, kinds and timings. The client library's default collectors add the process's memory,
CPU time and open files (``process_resident_memory_bytes``: `kefu bench` reads it to report
memory per connected customer).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "BOT_STAGE_SECONDS",
    "BOT_TURNS",
    "BOT_TURN_SECONDS",
    "CONTENT_TYPE_LATEST",
    "CUSTOMER_SOCKETS",
    "DISPATCHER_LEADER",
    "ENCODER_BATCH_TEXTS",
    "ESCALATIONS",
    "WEBHOOK_DELIVERIES",
    "WEBHOOK_DELIVERY_SECONDS",
    "exposition",
    "observe_stage",
    "stage",
]

BOT_TURNS = Counter(
    "kefu_bot_turns",
    "Customer messages the bot decided on, by decision and language.",
    ["decision", "language"],
)
BOT_TURN_SECONDS = Histogram(
    "kefu_bot_turn_seconds",
    "A bot turn inside the server: reading the conversation, understanding, deciding, writing.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
BOT_STAGE_SECONDS = Histogram(
    "kefu_bot_stage_seconds",
    "Where a bot turn's time goes: read, encode, intents, sentiment, retrieval, answer_model, "
    "entries, write.",
    ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
ESCALATIONS = Counter(
    "kefu_escalations",
    "Conversations the bot handed to a person, by reason.",
    ["reason"],
)
ENCODER_BATCH_TEXTS = Histogram(
    "kefu_encoder_batch_texts",
    "Texts per model call of the micro-batching encoders, by model.",
    ["model"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
DISPATCHER_LEADER = Gauge(
    "kefu_dispatcher_leader",
    "1 while this process leads the handoff dispatcher (on PostgreSQL, one process at a time).",
)
CUSTOMER_SOCKETS = Gauge(
    "kefu_customer_sockets",
    "Customer WebSockets connected to this process.",
)
WEBHOOK_DELIVERIES = Counter(
    "kefu_webhook_deliveries",
    "Webhook delivery attempts of API channels, by outcome: delivered, retry (failed, to be "
    "tried again), failed (given up).",
    ["outcome"],
)
WEBHOOK_DELIVERY_SECONDS = Histogram(
    "kefu_webhook_delivery_seconds",
    "From an event's commit to its webhook's 2xx (first deliveries, not replays).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 1800.0),
)


def observe_stage(name: str, seconds: float) -> None:
    BOT_STAGE_SECONDS.labels(stage=name).observe(seconds)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time one stage of a bot turn into ``kefu_bot_stage_seconds``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe_stage(name, time.perf_counter() - started)


def exposition() -> bytes:
    """The text format Prometheus scrapes."""
    return generate_latest()
