"""The answer model: learned from the knowledge base's own phrasings, it gives the bot a
calibrated chance of being right, shown in "test the bot" and followed as the knowledge base
changes. Knowledge bases here are small and written for these tests."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.chat_helpers import Customer
from tests.conftest import staff_client
from tests.factories import faq

TEST_URL = "/api/admin/bot/test"

# Five entries of a small shop, each with several phrasings to learn from.
ENTRIES: list[dict[str, Any]] = [
    {
        "id": "refund",
        "question": "How do I get a refund?",
        "answer": "Refunds reach your card within 7 days.",
        "alternatives": [
            "I want my money back",
            "can I return this for a refund",
            "how long does a refund take",
            "refund my order please",
        ],
    },
    {
        "id": "shipping",
        "question": "How long does shipping take?",
        "answer": "Shipping takes 3 to 5 days.",
        "alternatives": [
            "when will my parcel arrive",
            "delivery time",
            "how many days until it is delivered",
            "is shipping fast",
        ],
    },
    {
        "id": "password",
        "question": "How do I reset my password?",
        "answer": "Use the forgot-password link.",
        "alternatives": [
            "I forgot my password",
            "I can't log in to my account",
            "change my login password",
            "password reset link",
        ],
    },
    {
        "id": "coupon",
        "question": "How do I use a coupon code?",
        "answer": "Enter the code at checkout.",
        "alternatives": [
            "where do I enter a promo code",
            "my discount code does not work",
            "apply a voucher",
            "coupon at checkout",
        ],
    },
    {
        "id": "size",
        "question": "How do I choose my size?",
        "answer": "See the size chart on each product page.",
        "alternatives": [
            "size guide",
            "which size should I order",
            "do your shoes run small",
            "measurements chart",
        ],
    },
]


def explain(client: TestClient, text: str) -> dict[str, Any]:
    response = client.post(TEST_URL, json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def answers_health(client: TestClient) -> dict[str, Any]:
    health: dict[str, Any] = client.get("/healthz").json()["answers"]
    return health


def wait_for_answer_model(client: TestClient, previous: str | None = None) -> str:
    """Until a model newer than ``previous`` serves and was trained on the current index."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        health = answers_health(client)
        if health["model"] and health["model"] != previous and health["current"]:
            version: str = health["model"]
            return version
        time.sleep(0.1)
    raise AssertionError(f"no new answer model within 240 s: {answers_health(client)}")


def shop(client: TestClient) -> str:
    for entry in ENTRIES:
        faq(client, **entry)
    return wait_for_answer_model(client)


def test_without_enough_entries_there_is_no_answer_model(client: TestClient) -> None:
    faq(client, **ENTRIES[0])
    faq(client, **ENTRIES[1])
    deadline = time.monotonic() + 30
    while not answers_health(client)["current"]:
        assert time.monotonic() < deadline, "the answer model never caught up with the index"
        time.sleep(0.05)
    assert answers_health(client)["model"] is None
    body = explain(client, "How do I get a refund?")
    assert body["answer_model"] is None
    # Retrieval's score thresholds still answer an exact question.
    assert body["decision"]["kind"] == "answer_faq"
    assert body["decision"]["entry_id"] == "refund"


def test_the_chance_of_being_right_decides_and_is_explained(client: TestClient) -> None:
    version = shop(client)
    body = explain(client, "I forgot my password")
    model = body["answer_model"]
    assert model["entry_id"] == "password"
    assert model["used"] is True
    assert model["probability"] >= model["answer_at"]
    assert 0.0 <= model["suggest_at"] <= model["answer_at"] <= 1.0
    assert set(model["evidence"]) >= {"top_probability", "nearest_example", "nearest_of_guess"}
    assert body["decision"]["kind"] == "answer_faq"
    assert body["decision"]["entry_id"] == "password"
    assert body["decision"]["detail"].startswith("P(right) ")
    assert body["model_versions"]["answer"] == version

    # Something the shop does not answer is not answered with a likely-looking entry.
    unrelated = explain(client, "what is the capital of Mongolia")
    assert unrelated["decision"]["kind"] != "answer_faq"
    if unrelated["answer_model"] is not None:
        assert unrelated["answer_model"]["probability"] < model["answer_at"]

    # What the admin saw is what a customer gets.
    reply = Customer(client).reply_to("I forgot my password")
    assert (reply["kind"], reply["entry_id"]) == ("answer", "password")


def test_the_model_follows_the_knowledge_base(client: TestClient) -> None:
    first = shop(client)

    # An archived entry is never answered, even by a model that learned it.
    client.post("/api/admin/kb/faqs/password/archive").raise_for_status()
    body = explain(client, "I forgot my password")
    assert body["decision"]["entry_id"] != "password"
    assert "password" not in body["decision"]["suggestions"]

    # The next model no longer knows it, and a new entry is learned.
    second = wait_for_answer_model(client, first)
    faq(
        client,
        id="gift",
        question="Do you sell gift cards?",
        answer="Yes, from 10 to 200 dollars.",
        alternatives=["gift card", "can I buy a voucher for a friend", "present card"],
    )
    third = wait_for_answer_model(client, second)
    assert third != first
    body = explain(client, "can I buy a gift card")
    assert body["answer_model"]["entry_id"] == "gift"
    assert body["decision"]["entry_id"] == "gift"
    assert explain(client, "I forgot my password")["answer_model"]["entry_id"] != "password"


def test_an_answer_model_candidate_is_reviewed_then_activated_and_rolled_back(
    client: TestClient,
) -> None:
    serving = shop(client)
    intent_model = client.get("/api/admin/bot/models").json()["current"]
    job = client.post("/api/admin/bot/train", params={"kind": "answer"})
    assert job.status_code == 202, job.text
    deadline = time.monotonic() + 240
    while (state := client.get(f"/api/admin/jobs/{job.json()['id']}").json())["state"] == "running":
        assert time.monotonic() < deadline, "the candidate did not train within 240 s"
        time.sleep(0.2)
    assert state["state"] == "done", state
    candidate = state["result"]["version"]

    listed = client.get("/api/admin/bot/models", params={"kind": "answer"}).json()
    assert listed["kind"] == "answer"
    assert listed["current"] == serving
    assert candidate in {v["version"] for v in listed["versions"]}
    metrics = next(v for v in listed["versions"] if v["version"] == candidate)["metrics"]
    assert {"cv_accuracy", "cv_in_scope_accuracy", "cv_oos_recall", "threshold"} <= set(metrics)
    assert answers_health(client)["model"] == serving  # a candidate does not serve

    activated = client.post(f"/api/admin/bot/models/{candidate}/activate?kind=answer")
    assert activated.status_code == 200, activated.text
    assert answers_health(client)["model"] == candidate
    assert explain(client, "I forgot my password")["model_versions"]["answer"] == candidate
    client.post(f"/api/admin/bot/models/{serving}/activate?kind=answer").raise_for_status()
    assert answers_health(client)["model"] == serving
    # The intent model serving is another list's, untouched by any of this.
    assert client.get("/api/admin/bot/models").json()["current"] == intent_model

    unknown = client.post("/api/admin/bot/models/v9999/activate?kind=answer")
    assert unknown.status_code == 404
    assert client.post("/api/admin/bot/train", params={"kind": "nonsense"}).status_code == 422


def test_the_answer_model_can_be_switched_off(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    with staff_client(migrated.model_copy(update={"answer_model": False}), embedder) as client:
        for entry in ENTRIES:
            faq(client, **entry)
        deadline = time.monotonic() + 30
        while not answers_health(client)["current"]:
            assert time.monotonic() < deadline, "the answer service never caught up"
            time.sleep(0.05)
        assert answers_health(client)["model"] is None
        body = explain(client, "I forgot my password")
        assert body["answer_model"] is None
        assert body["model_versions"]["answer"] is None
        # Retrieval's thresholds decide alone, as they did before the answer model.
        assert (body["decision"]["kind"], body["decision"]["entry_id"]) == (
            "answer_faq",
            "password",
        )


def test_entries_of_one_phrasing_each_are_learned_too(client: TestClient) -> None:
    """A knowledge base of bare questions (no alternatives) trains without a hitch."""
    for entry in ENTRIES:
        faq(client, id=entry["id"], question=entry["question"], answer=entry["answer"])
    wait_for_answer_model(client)
    body = explain(client, "How do I reset my password?")
    assert body["answer_model"]["entry_id"] == "password"
    assert body["decision"]["entry_id"] == "password"
