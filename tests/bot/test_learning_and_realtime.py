"""Intent retraining in the background, and events crossing processes through Redis."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.chat_helpers import Customer, is_bot_message, receive_until
from tests.conftest import need, staff_client
from tests.factories import faq

INTENT_URL = "/api/admin/kb/intents"


def wait_for_model(client: TestClient, newer_than: str | None, timeout: float = 60) -> str:
    """The current model version once one newer than ``newer_than`` serves and training is idle.

    Versions are compared, not matched: a retrain requested while another runs may add one.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        intents: dict[str, Any] = client.get("/healthz").json()["intents"]
        model = intents["model"]
        if model and (newer_than is None or model > newer_than) and not intents["training"]:
            return str(model)
        time.sleep(0.05)
    raise AssertionError(f"no model newer than {newer_than} became current: {intents}")


def intent_body(name: str, en: list[str], response: str) -> dict[str, Any]:
    return {"name": name, "examples": {"en": en}, "responses": {"en": response}}


def test_changing_intents_retrains_in_the_background_and_versions_the_model(
    client: TestClient, migrated: Settings
) -> None:
    greet = ["hello", "hi there", "good morning", "hey", "hello again", "hiya"]
    bye = ["bye", "goodbye", "see you", "see you later", "farewell", "bye bye"]
    client.post(INTENT_URL, json=intent_body("greeting", greet, "Hi!")).raise_for_status()
    client.post(INTENT_URL, json=intent_body("goodbye", bye, "Bye!")).raise_for_status()
    assert client.get("/healthz").json()["intents"]["model"] is None
    thanks = ["thanks", "thank you", "many thanks", "cheers", "thanks a lot", "thank you so much"]
    client.post(INTENT_URL, json=intent_body("thanks", thanks, "Glad to help!"))
    first = wait_for_model(client, None)
    client.patch(
        f"{INTENT_URL}/thanks", json={"responses": {"en": "You're welcome!"}}
    ).raise_for_status()
    second = wait_for_model(client, first)
    reply = Customer(client).reply_to("thank you very much")
    assert reply["intent"] == "thanks"
    assert reply["text"] == "You're welcome!"
    saved = json.loads((migrated.models_dir / "intent" / second / "metrics.json").read_text())
    assert saved["labels"] == ["goodbye", "greeting", "thanks"]
    assert 0.0 <= saved["metrics"]["cv_accuracy"] <= 1.0
    assert saved["embedding_model"] == "all-MiniLM-L6-v2"


@pytest.mark.redis
def test_events_reach_a_socket_on_another_process_through_redis(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    url = os.environ.get("KEFU_TEST_REDIS_URL", "")
    need(bool(url), "KEFU_TEST_REDIS_URL is not set")
    shared = migrated.model_copy(update={"broker_url": url})
    with staff_client(shared, embedder) as first:
        faq(first, id="track", question="How do I track my order?")
        with staff_client(shared, embedder) as second:
            customer = Customer(first)
            with customer.socket() as ws:
                assert ws.receive_json()["type"] == "ready"
                response = second.post(
                    f"/api/chat/conversations/{customer.id}/messages",
                    json={"text": "How do I track my order?"},
                    headers=customer.headers,
                )
                assert response.status_code == 200
                frames = receive_until(ws, is_bot_message)
    seqs = [f["event"]["seq"] for f in frames if f["type"] == "event"]
    assert seqs == [1, 2]
    assert frames[-1]["event"]["payload"]["entry_id"] == "track"
