"""Micro-batching: concurrent customers' messages share model calls, and each customer still
gets the answer to their own question."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import numpy as np
import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from kefu.app import create_app
from knowledge_base.batching import BatchingEmbedder
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.chat_helpers import Customer
from tests.conftest import load_demo, log_in

# Each demo entry's own question: whoever asks it, alone or in a crowd, gets that entry.
QUESTIONS = {
    "How do I track my order?": "en-order-track",
    "How can I cancel an order?": "en-order-cancel",
    "Where can I find my previous orders?": "en-order-history",
    "Can I place an order without creating an account?": "en-order-guest",
    "怎么查询订单物流？": "zh-order-track",
    "如何取消订单？": "zh-order-cancel",
    "付款后一直没发货怎么办？": "zh-order-not-shipped",
    "忘记点确认收货会怎样？": "zh-order-confirm-receipt",
}


def encoders(client: TestClient) -> dict[str, dict[str, int]]:
    body: dict[str, dict[str, int]] = client.get("/healthz").json()["encoders"]
    return body


def test_concurrent_customers_share_model_calls_and_each_gets_their_own_answer(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    # One model worker, and a small batch may wait 200 ms for others: messages sent at the
    # same moment are encoded together.
    settings = migrated.model_copy(update={"inference_workers": 1, "encoder_batch_wait_ms": 200.0})
    with TestClient(create_app(settings, embedder=embedder)) as client:
        log_in(client)
        load_demo(client)
        customers = [Customer(client) for _ in QUESTIONS]
        before = encoders(client)
        start = threading.Barrier(len(customers))

        def ask(customer: Customer, question: str) -> dict[str, Any]:
            start.wait()
            return customer.reply_to(question)

        with ThreadPoolExecutor(len(customers)) as pool:
            replies = list(pool.map(ask, customers, QUESTIONS))
        after = encoders(client)

    assert [(r["kind"], r["entry_id"]) for r in replies] == [
        ("answer", entry) for entry in QUESTIONS.values()
    ]
    main = embedder.name
    texts = after[main]["texts"] - before[main]["texts"]
    calls = after[main]["batches"] - before[main]["batches"]
    # Every message went through the main model, in fewer calls than messages.
    assert texts >= len(QUESTIONS)
    assert calls <= texts // 2, (calls, texts)
    # The Chinese half also went through the Han model, batched the same way.
    han = next(name for name in after if name != main)
    assert after[han]["texts"] - before[han]["texts"] >= len(QUESTIONS) // 2


def test_batched_vectors_are_the_vectors_of_each_text_alone(embedder: SentenceEmbedder) -> None:
    texts = [
        "Where is my parcel?",
        "I want a refund for the broken lamp I received last Tuesday",
        "退货运费谁出？",
        "hi",
    ]
    batcher = BatchingEmbedder(embedder, max_batch=8, wait_ms=200)
    try:
        with ThreadPoolExecutor(len(texts)) as pool:
            batched = list(pool.map(lambda text: batcher.encode([text])[0], texts))
        assert batcher.stats.batches < len(texts)
    finally:
        batcher.close()
    for text, vector in zip(texts, batched, strict=True):
        np.testing.assert_allclose(vector, embedder.encode([text])[0], atol=1e-4)


def test_a_text_the_model_refuses_fails_only_its_own_caller(embedder: SentenceEmbedder) -> None:
    batcher = BatchingEmbedder(embedder, max_batch=8, wait_ms=200)
    start = threading.Barrier(2)

    def encode(texts: list[str]) -> np.ndarray[Any, Any]:
        start.wait()
        return batcher.encode(texts)

    try:
        with ThreadPoolExecutor(2) as pool:
            good = pool.submit(encode, ["Where is my parcel?"])
            bad = pool.submit(encode, cast(list[str], [None]))
            assert good.result().shape == (1, embedder.dim)
            with pytest.raises((TypeError, ValueError)):
                bad.result()
    finally:
        batcher.close()


def test_many_texts_at_once_go_straight_to_the_model(embedder: SentenceEmbedder) -> None:
    batcher = BatchingEmbedder(embedder, max_batch=4)
    try:
        vectors = batcher.encode([f"question {i}" for i in range(10)])
        assert vectors.shape == (10, embedder.dim)
        assert batcher.stats.batches == 0
        assert batcher.encode([]).shape == (0, embedder.dim)
    finally:
        batcher.close()
