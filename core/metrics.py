"""Prometheus metrics of one process, served at ``/metrics`` (prometheus-client).

Counters are per process, as Prometheus expects: each server process is scraped on its own and
the sums are taken in queries. Nothing here carries a customer's words or identity, only
counts, kinds and timings. The client library's default collectors add the process's memory,
CPU time and open files (``process_resident_memory_bytes``: `kefu bench` reads it to report
memory per connected customer).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "BOT_TURNS",
    "BOT_TURN_SECONDS",
    "CONTENT_TYPE_LATEST",
    "CUSTOMER_SOCKETS",
    "ENCODER_BATCH_TEXTS",
    "ESCALATIONS",
    "exposition",
]

BOT_TURNS = Counter(
    "kefu_bot_turns",
    "Customer messages the bot decided on, by decision and language.",
    ["decision", "language"],
)
BOT_TURN_SECONDS = Histogram(
    "kefu_bot_turn_seconds",
    "Time the bot took to understand a message and decide, inside the server.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
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
CUSTOMER_SOCKETS = Gauge(
    "kefu_customer_sockets",
    "Customer WebSockets connected to this process.",
)


def exposition() -> bytes:
    """The text format Prometheus scrapes."""
    return generate_latest()
