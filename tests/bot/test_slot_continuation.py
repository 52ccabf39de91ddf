"""Slots in the chat: a message that only gives an order number continues the earlier question,
and an order number inside a question does not drag retrieval away from it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bot.chat_helpers import Customer

TEST_URL = "/api/admin/bot/test"


def exchanges(client: TestClient, customer: Customer) -> list[dict[str, Any]]:
    """The customer's exchange log rows, oldest first."""
    rows: list[dict[str, Any]] = client.get(
        "/api/admin/exchanges", params={"conversation_id": customer.id}
    ).json()
    return rows[::-1]


def topic(reply: dict[str, Any]) -> tuple[Any, ...]:
    """What a reply is about: its kind and the entry, intent or suggestions it gives."""
    suggestions = tuple(s["entry_id"] for s in reply.get("suggestions", []))
    return reply["kind"], reply.get("entry_id"), reply.get("intent"), suggestions


@pytest.mark.parametrize(
    ("question", "slot_message", "value"),
    [
        ("Where is my order?", "#10482", "10482"),
        ("Where is my order?", "my order number is SO123456", "SO123456"),
        ("我的订单到哪了？", "#10482", "10482"),
        ("我的订单到哪了？", "订单号 LM20240518", "LM20240518"),
        ("我想查一下我的退款进度", "订单号是LM20240518", "LM20240518"),
    ],
)
def test_a_message_with_only_an_order_number_continues_the_earlier_question(
    demo_client: TestClient, question: str, slot_message: str, value: str
) -> None:
    customer = Customer(demo_client)
    first = customer.reply_to(question)
    assert first["kind"] in {"answer", "clarify"}, first

    second = customer.reply_to(slot_message)

    assert second["kind"] != "fallback"
    assert topic(second) == topic(first)
    asked, continued = exchanges(demo_client, customer)
    assert continued["text"] == slot_message
    assert continued["slots"] == [{"kind": "order_number", "value": value, "text": value}] or [
        s["value"] for s in continued["slots"]
    ] == [value]
    assert continued["detail"].startswith(f"continues message {asked['message_seq']}")
    assert continued["decision"] == asked["decision"]
    assert continued["retrieved"] == asked["retrieved"]


def test_a_chain_of_slots_still_continues_the_first_question(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    first = customer.reply_to("Where is my order?")
    customer.reply_to("#10482")
    third = customer.reply_to("my email is ada@example.com")
    assert topic(third) == topic(first)
    asked, _, continued = exchanges(demo_client, customer)
    assert continued["detail"].startswith(f"continues message {asked['message_seq']}")
    assert continued["slots"][0]["kind"] == "email"


def test_an_order_number_with_nothing_to_continue_is_read_as_it_stands(
    demo_client: TestClient,
) -> None:
    customer = Customer(demo_client)
    customer.reply_to("hello")  # small talk is no question to continue
    customer.reply_to("#10482")
    _, row = exchanges(demo_client, customer)
    assert not row["detail"].startswith("continues")
    assert [s["value"] for s in row["slots"]] == ["10482"]


@pytest.mark.parametrize(
    ("with_slots", "without_slots"),
    [
        ("我的订单号是 LM20240518，怎么还没发货？", "我的订单怎么还没发货？"),
        (
            "I was charged twice for order #10482, I need the extra $59.90 back",
            "I was charged twice for my order, I need the extra money back",
        ),
        ("Where is order SO123456? It has not arrived", "Where is my order? It has not arrived"),
    ],
)
def test_a_question_with_an_order_number_is_understood_by_its_question(
    demo_client: TestClient, with_slots: str, without_slots: str
) -> None:
    mixed = demo_client.post(TEST_URL, json={"text": with_slots}).json()
    plain = demo_client.post(TEST_URL, json={"text": without_slots}).json()
    assert mixed["slots"]
    assert mixed["decision"]["kind"] == plain["decision"]["kind"]
    assert mixed["decision"]["entry_id"] == plain["decision"]["entry_id"]
    assert mixed["decision"]["intent"] == plain["decision"]["intent"]
    assert [f["entry_id"] for f in mixed["faqs"][:3]] == [f["entry_id"] for f in plain["faqs"][:3]]


def test_test_the_bot_shows_the_slots_it_found(demo_client: TestClient) -> None:
    body = demo_client.post(
        TEST_URL, json={"text": "订单号 LM20240518，邮箱 ada@example.com，退我 59.90元"}
    ).json()
    assert body["slots"] == [
        {"kind": "order_number", "value": "LM20240518", "text": "LM20240518"},
        # Personal data is masked in test the bot's echo (KEFU_PII_MASK, "bot_test").
        {"kind": "email", "value": "[email a•••@example.com]", "text": "[email a•••@example.com]"},
        {"kind": "amount", "value": "59.90 CNY", "text": "59.90元"},
    ]
    assert body["only_slots"] is False
    assert demo_client.post(TEST_URL, json={"text": "#10482"}).json()["only_slots"] is True
