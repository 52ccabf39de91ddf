"""The bot's admin API against the demo knowledge base: "test the bot", which explains a message
without writing anything, and retraining into a candidate that serves only once activated."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.staff import Role
from tests.bot.chat_helpers import Customer
from tests.conftest import log_in

TEST_URL = "/api/admin/bot/test"
MODELS_URL = "/api/admin/bot/models"


def explain(client: TestClient, text: str, **extra: str) -> dict[str, Any]:
    response = client.post(TEST_URL, json={"text": text, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def written(client: TestClient) -> tuple[int, int]:
    """How many conversations and exchanges the database holds."""
    conversations = client.get("/api/admin/analytics/summary").json()["conversations"]
    exchanges = client.get("/api/admin/exchanges", params={"limit": 1000}).json()
    return conversations, len(exchanges)


def models(client: TestClient) -> dict[str, Any]:
    response = client.get(MODELS_URL)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def serving(client: TestClient) -> str:
    version: str = client.get("/healthz").json()["intents"]["model"]
    return version


def finished(client: TestClient, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/api/admin/jobs/{job_id}")
        assert response.status_code == 200, response.text
        if response.json()["state"] != "running":
            final: dict[str, Any] = client.get(f"/api/admin/jobs/{job_id}").json()
            return final
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish within {timeout} s")


# -- test the bot -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "entry_id", "intent"),
    [
        ("How can I track my order?", "en", "en-order-track", "order_status"),
        ("帮我查一下物流", "zh", "zh-order-track", "order_status"),
    ],
)
def test_a_faq_question_is_explained_and_nothing_is_written(
    demo_client: TestClient, text: str, language: str, entry_id: str, intent: str
) -> None:
    before = written(demo_client)
    body = explain(demo_client, text)
    assert body["text"] == text
    assert body["language"] == language
    assert body["intent"]["name"] == intent
    assert body["intent"]["in_scope"] is True
    runners_up = body["intent"]["runners_up"]
    assert runners_up
    assert intent not in {r["name"] for r in runners_up}
    assert all(r["confidence"] <= body["intent"]["confidence"] for r in runners_up)

    assert body["faqs"][0]["entry_id"] == entry_id
    assert body["faqs"][0]["language"] == language
    scores = [hit["score"] for hit in body["faqs"]]
    assert scores == sorted(scores, reverse=True)
    entry = demo_client.get(f"/api/admin/kb/faqs/{entry_id}").json()
    assert body["faqs"][0]["question"] == entry["question"]

    assert body["decision"]["kind"] == "answer_faq"
    assert body["decision"]["entry_id"] == entry_id
    assert body["reply"]["text"] == entry["answer"]
    assert body["sentiment"]["label"] == "neutral"
    assert body["model_versions"]["intent"] == serving(demo_client)
    assert written(demo_client) == before

    # What the admin saw is what a customer gets.
    reply = Customer(demo_client).reply_to(text)
    assert (reply["kind"], reply["entry_id"], reply["text"]) == (
        "answer",
        entry_id,
        entry["answer"],
    )


def test_small_talk_and_anger_are_explained(demo_client: TestClient) -> None:
    before = written(demo_client)
    hello = explain(demo_client, "hello there")
    assert hello["decision"] == {
        "kind": "answer_intent",
        "reason": "small_talk",
        "detail": "",
        "entry_id": None,
        "intent": "greeting",
        "suggestions": [],
    }
    greeting = demo_client.get("/api/admin/kb/intents/greeting").json()
    assert hello["reply"]["text"] == greeting["responses"]["en"]

    angry = explain(
        demo_client,
        "This is the WORST service ever!!! You scammed me, I'm furious and I'm done with you!!!",
    )
    assert angry["sentiment"]["label"] == "negative"
    assert angry["sentiment"]["score"] < 0
    assert angry["decision"]["kind"] == "escalate"
    assert written(demo_client) == before


@pytest.mark.parametrize(
    "text",
    [
        "I was charged twice for order #10482, I need the extra $59.90 back",
        "付了一次怎么扣了两笔",
    ],
)
def test_a_likely_payment_anomaly_hands_off_although_an_faq_matches(
    demo_client: TestClient, text: str
) -> None:
    """The rule reads the intent's calibrated chance of being right, shown with the raw score."""
    body = explain(demo_client, text)
    intent = body["intent"]
    assert (intent["name"], intent["action"]) == ("payment_anomaly", "handoff")
    assert intent["probability"] >= 0.9
    assert body["faqs"], "an FAQ about double charges matches as well"
    decision = body["decision"]
    assert (decision["kind"], decision["reason"]) == ("escalate", "intent_rule")
    assert f"P(right) {intent['probability']:.2f}" in decision["detail"]
    said = Customer(demo_client).say(text)
    assert said[-1]["type"] == "conversation.escalated"
    assert said[-1]["payload"]["reason"] == "intent_rule"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "invalid_message"),
        ({"text": "   "}, "invalid_message"),
        ({"text": "x" * 2001}, "invalid_message"),
        ({}, "invalid"),
        ({"text": "hello", "language": "x" * 9}, "invalid"),
    ],
    ids=["empty", "blank", "too-long", "missing", "language-too-long"],
)
def test_a_bad_message_to_test_is_422(
    demo_client: TestClient, body: dict[str, Any], code: str
) -> None:
    before = written(demo_client)
    response = demo_client.post(TEST_URL, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert written(demo_client) == before


def test_the_longest_message_is_explained(demo_client: TestClient) -> None:
    text = ("where is my order " * 112)[:2000]
    assert explain(demo_client, text)["text"] == text.strip()


# -- models and retraining --------------------------------------------------------------------


def test_a_retrained_candidate_serves_only_once_activated(demo_client: TestClient) -> None:
    client = demo_client
    listing = models(client)
    current = listing["current"]
    assert current == serving(client)
    older = [v["version"] for v in listing["versions"]]
    assert current in older
    assert "order_status" in listing["labels"]
    assert listing["background_training"] is False

    response = client.post("/api/admin/bot/train")
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["kind"], job["actor"], job["state"]) == ("train", "admin-tester", "running")
    # Training takes seconds; a second request meanwhile is refused rather than queued.
    second = client.post("/api/admin/bot/train")
    assert second.status_code == 409, second.text
    assert second.json()["error"]["details"] == [{"code": "job_running"}]
    assert models(client)["training"]["id"] == job["id"]

    done = finished(client, job["id"])
    assert done["state"] == "done", done
    assert done["error"] is None
    assert done["done"] == done["total"] > 0
    assert done["finished_at"] is not None
    candidate = done["result"]["version"]
    assert candidate != current
    assert done["result"]["metrics"]["cv_accuracy"] > 0.5

    listing = models(client)
    assert listing["current"] == current
    assert [v["version"] for v in listing["versions"]] == [candidate, *older]
    assert listing["versions"][0]["metrics"] == done["result"]["metrics"]
    assert listing["training"]["state"] == "done"
    assert serving(client) == current
    assert explain(client, "hello")["model_versions"]["intent"] == current

    response = client.post(f"{MODELS_URL}/{candidate}/activate")
    assert response.status_code == 200, response.text
    assert response.json() == {"current": candidate, "metrics": done["result"]["metrics"]}
    assert models(client)["current"] == candidate
    assert serving(client) == candidate
    assert explain(client, "hello")["model_versions"]["intent"] == candidate

    # Rolling back is activating the older version.
    response = client.post(f"{MODELS_URL}/{current}/activate")
    assert response.status_code == 200, response.text
    assert serving(client) == current


@pytest.mark.parametrize("version", ["v9999", "latest", "CURRENT"])
def test_activating_an_unknown_version_is_404_and_changes_nothing(
    demo_client: TestClient, version: str
) -> None:
    current = serving(demo_client)
    response = demo_client.post(f"{MODELS_URL}/{version}/activate")
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    assert serving(demo_client) == current
    assert models(demo_client)["current"] == current


# -- access -----------------------------------------------------------------------------------


def test_the_bot_admin_api_is_for_admins_only(demo_client: TestClient) -> None:
    client = demo_client
    current, training = serving(client), models(client)["training"]
    posts = [(TEST_URL, {"text": "hello"}), ("/api/admin/bot/train", None)]
    posts.append((f"{MODELS_URL}/{current}/activate", None))
    try:
        token = client.headers.pop("X-CSRF-Token")
        for path, body in posts:
            response = client.post(path, json=body)
            assert response.status_code == 403, response.text
            assert response.json()["error"]["details"] == [{"code": "csrf"}]
        client.headers["X-CSRF-Token"] = token

        for role in (Role.supervisor, Role.agent):
            log_in(client, role)
            assert client.get(MODELS_URL).status_code == 403
            for path, body in posts:
                response = client.post(path, json=body)
                assert response.status_code == 403, response.text
                assert response.json()["error"]["code"] == "forbidden"
        client.cookies.clear()
        assert client.get(MODELS_URL).status_code == 401
        assert client.post(TEST_URL, json={"text": "hello"}).status_code == 401
    finally:
        log_in(client)
    assert models(client)["training"] == training
    assert serving(client) == current


@pytest.mark.parametrize(
    "question", ["What are your customer service hours?", "客服工作时间是几点到几点？"]
)
def test_the_demo_promises_no_chat_hours_the_server_does_not_keep(
    demo_client: TestClient, question: str
) -> None:
    """The demo serves with ``KEFU_BUSINESS_HOURS`` unset, always open, so its answer about
    when agents chat must not name fixed hours: the chat window shows when they are away."""
    reply = Customer(demo_client).reply_to(question)
    assert reply["entry_id"] in ("en-general-hours", "zh-general-hours"), reply
    assert not re.search(r"\d{1,2}[:：]\d{2}", reply["text"]), reply["text"]
