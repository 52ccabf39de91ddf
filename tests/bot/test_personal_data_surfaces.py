"""Personal data in the staff surfaces outside the agent desk: the exchange log (API and
table), test the bot, the learning clusters and the analytics export, each as the policy
(``KEFU_PII_MASK``) says; look-alikes untouched; the customer's own transcript as typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from bot.models import Exchange
from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot import chat_helpers
from tests.conftest import staff_client, wait_for_retraining

CARD = "my card 4111111111111111 was charged twice, call me on 13812345678"
CARD_MASKED = "my card [card ••••1111] was charged twice, call me on [phone •••5678]"
EMAIL = "please write to ada.lovelace@example.com about the refund"
EMAIL_MASKED = "please write to [email a•••@example.com] about the refund"
ID_ZH = "我的身份证号是11010519491231002X，退款到卡 6222 0212 3456 7890 128"
LOOKALIKES = [
    "where is order #10482? I paid ¥59.90 on 2024-05-18",
    "订单号 2024051812345 还没到，运单号 SF1234567890123",
    "tracking 1Z999AA10123456784, refund $1,234.56 to LM20240518",
    "is 4111111111111112 a card? and 110105194912310021?",
]


def stored_texts(client: TestClient, conversation_id: str) -> list[str]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        rows = session.exec(
            select(Exchange)
            .where(col(Exchange.conversation_id) == conversation_id)
            .order_by(col(Exchange.message_seq))
        ).all()
        return [row.text for row in rows]


def exchange_texts(client: TestClient, conversation_id: str) -> list[str]:
    response = client.get("/api/admin/exchanges", params={"conversation_id": conversation_id})
    assert response.status_code == 200, response.text
    return [row["text"] for row in response.json()[::-1]]


def said(client: TestClient, *texts: str) -> chat_helpers.Customer:
    customer = chat_helpers.Customer(client)
    for text in texts:
        customer.reply_to(text)
    return customer


@pytest.fixture
def client(client: TestClient) -> Iterator[TestClient]:
    yield client
    wait_for_retraining(client)


def test_the_exchange_log_stores_and_shows_personal_data_masked(client: TestClient) -> None:
    customer = said(client, CARD, EMAIL, ID_ZH, *LOOKALIKES)
    expected = [CARD_MASKED, EMAIL_MASKED, "我的身份证号是[id ••••]，退款到卡 [card ••••0128]"]
    assert exchange_texts(client, customer.id) == [*expected, *LOOKALIKES]
    assert stored_texts(client, customer.id) == [*expected, *LOOKALIKES]
    rows = client.get("/api/admin/exchanges", params={"conversation_id": customer.id}).json()
    assert "4111111111111111" not in str(rows)
    assert "13812345678" not in str(rows)
    # The slots the log reads from its text keep their kind, masked.
    card_row = rows[-1]
    assert {"kind": "phone", "value": "[phone •••5678]", "text": "[phone •••5678]"} in card_row[
        "slots"
    ]
    # The customer reads their own words as typed.
    events = client.get(
        f"/api/chat/conversations/{customer.id}/events", headers=customer.headers
    ).json()["events"]
    mine = [e["payload"]["text"] for e in events if e["author"] == "customer"]
    assert mine == [CARD, EMAIL, ID_ZH, *LOOKALIKES]


def test_test_the_bot_echoes_personal_data_masked(client: TestClient) -> None:
    body = client.post("/api/admin/bot/test", json={"text": CARD}).json()
    assert body["text"] == CARD_MASKED
    assert "4111111111111111" not in str(body)
    assert "13812345678" not in str(body)
    assert {"kind": "phone", "value": "[phone •••5678]", "text": "[phone •••5678]"} in body["slots"]
    plain = client.post("/api/admin/bot/test", json={"text": LOOKALIKES[0]}).json()
    assert plain["text"] == LOOKALIKES[0]
    assert [s["value"] for s in plain["slots"]][:1] == ["10482"]


def test_learning_clusters_show_questions_masked(client: TestClient) -> None:
    texts = [
        "can you ship to mars? my phone is 13812345678",
        "do you deliver to mars, call 13912345678",
        "shipping to mars? mail me at ada@example.com",
    ]
    for text in texts:
        said(client, text)
    body = client.get("/api/admin/learning/clusters").json()
    shown = str(body)
    assert body["signals"] >= 3, body
    for raw in ("13812345678", "13912345678", "ada@example.com"):
        assert raw not in shown
    assert "[phone •••5678]" in shown


def test_the_analytics_export_is_masked(client: TestClient) -> None:
    said(client, CARD)
    for metric in ("overview", "escalation_by_reason", "agents"):
        response = client.get("/api/admin/analytics/export.csv", params={"metric": metric})
        assert response.status_code == 200, response.text
        assert "4111111111111111" not in response.text


@pytest.fixture
def unmasked(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    """A policy that masks only the learning clusters: the raw text is kept in the log."""
    settings = migrated.model_copy(update={"pii_mask": ["learning"]})
    with staff_client(settings, embedder) as test_client:
        yield test_client
        wait_for_retraining(test_client)


def test_a_policy_can_keep_the_raw_text_where_it_says(unmasked: TestClient) -> None:
    customer = said(unmasked, CARD, "can you ship to mars? my phone is 13812345678")
    said(unmasked, "do you deliver to mars, call 13912345678")
    assert stored_texts(unmasked, customer.id)[0] == CARD
    assert exchange_texts(unmasked, customer.id)[0] == CARD
    assert unmasked.post("/api/admin/bot/test", json={"text": CARD}).json()["text"] == CARD
    clusters: dict[str, Any] = unmasked.get("/api/admin/learning/clusters").json()
    assert "13812345678" not in str(clusters)
    assert "13912345678" not in str(clusters)
