"""The customer chat API over REST and WebSocket, against the demo knowledge base."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.bot.chat_helpers import Customer, is_bot_message, receive_until


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("How can I track my order?", "en-order-track"),
        ("帮我查一下物流", "zh-order-track"),
    ],
)
def test_faq_question_gets_its_answer_in_the_same_language(
    demo_client: TestClient, question: str, entry_id: str
) -> None:
    customer = Customer(demo_client)
    reply = customer.reply_to(question)
    assert reply["kind"] == "answer"
    assert reply["entry_id"] == entry_id
    faq = demo_client.get(f"/api/admin/kb/faqs/{entry_id}").json()
    assert reply["text"] == faq["answer"]


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        ("hello there", "greeting", "en"),
        ("你好", "greeting", "zh"),
        ("thanks a lot!", "thanks", "en"),
    ],
)
def test_small_talk_is_answered_from_the_intent(
    demo_client: TestClient, text: str, intent: str, language: str
) -> None:
    reply = Customer(demo_client).reply_to(text)
    assert reply["intent"] == intent
    expected = demo_client.get(f"/api/admin/kb/intents/{intent}").json()["responses"][language]
    assert reply["text"] == expected


def test_asking_for_a_person_with_nobody_online_offers_a_message_and_the_bot_keeps_helping(
    demo_client: TestClient,
) -> None:
    # No agent is online in this module (tests/handoff covers the queue): the bot stays on.
    customer = Customer(demo_client)
    replies = customer.say("I want to talk to a real person")
    assert [e["type"] for e in replies] == ["message", "conversation.escalated"]
    assert replies[1]["payload"] == {
        "reason": "asked_for_person",
        "detail": "",
        "state": "bot",
        "offline": {"reason": "no_agents", "next_open": None},
        "queue": None,
    }
    assert customer.reply_to("How can I track my order?")["entry_id"] == "en-order-track"


def test_chinese_request_for_a_person_escalates(demo_client: TestClient) -> None:
    replies = Customer(demo_client).say("转人工客服")
    assert replies[-1]["payload"]["reason"] == "asked_for_person"
    assert "人工" in replies[0]["payload"]["text"]


def test_two_misses_in_a_row_escalate(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    first = customer.reply_to("purple monkey dishwasher quantum")
    assert first["kind"] == "fallback"
    replies = customer.say("zebra lasagna orbit trombone")
    assert replies[-1]["type"] == "conversation.escalated"
    assert replies[-1]["payload"]["reason"] == "repeated_misses"


def test_furious_customer_is_escalated_on_sentiment(demo_client: TestClient) -> None:
    replies = Customer(demo_client).say(
        "This is the WORST service ever!!! You scammed me, I'm furious and I'm done with you!!!"
    )
    assert replies[-1]["type"] == "conversation.escalated"
    assert replies[-1]["payload"]["reason"] in {"negative_sentiment", "intent_rule"}


def test_unsure_question_offers_suggestions_the_customer_can_pick(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    reply = customer.reply_to("coupon")
    assert reply["kind"] == "clarify", reply
    assert 1 <= len(reply["suggestions"]) <= 3
    pick = reply["suggestions"][0]
    answer = customer.reply_to(pick["question"], suggestion=pick["entry_id"])
    assert answer["entry_id"] == pick["entry_id"]


def test_every_exchange_is_logged_with_its_understanding(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    reply = customer.reply_to("How can I track my order?")
    rows = demo_client.get("/api/admin/exchanges", params={"conversation_id": customer.id}).json()
    assert len(rows) == 1
    row = rows[0]
    assert row["reply_seq"] == reply["seq"]
    assert row["language"] == "en"
    assert row["decision"] == "answer_faq"
    assert row["reason"] == "confident_faq"
    assert row["retrieved"][0]["entry_id"] == "en-order-track"
    assert {"score", "dense", "lexical"} <= row["retrieved"][0].keys()
    assert row["intent"]
    assert 0.0 < row["intent_confidence"] <= 1.0
    assert len(row["runners_up"]) == 2
    assert row["sentiment_label"] in {"negative", "neutral", "positive"}
    assert row["model_versions"]["intent"].startswith("v")
    assert row["model_versions"]["embedding"] == "all-MiniLM-L6-v2"
    assert row["latency_ms"] > 0


def test_rating_is_stored_with_the_exchange(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    reply = customer.reply_to("How can I track my order?")
    url = f"/api/chat/conversations/{customer.id}/ratings"
    response = demo_client.post(
        url, json={"seq": reply["seq"], "helpful": False}, headers=customer.headers
    )
    assert response.status_code == 200
    row = demo_client.get("/api/admin/exchanges", params={"conversation_id": customer.id}).json()[0]
    assert row["helpful"] is False
    own_message = reply["seq"] - 1
    bad = demo_client.post(
        url, json={"seq": own_message, "helpful": True}, headers=customer.headers
    )
    assert bad.status_code == 404


def test_sequence_numbers_are_gap_free_and_history_reads_after_any_point(
    demo_client: TestClient,
) -> None:
    customer = Customer(demo_client)
    customer.say("hello")
    customer.say("How can I track my order?")
    events = customer.events()
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert [e["author"] for e in events] == ["customer", "bot", "customer", "bot"]
    assert [e["seq"] for e in customer.events(after=2)] == [3, 4]


def test_repeated_client_id_is_stored_once(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    first = customer.say("hello", client_id="c-1")
    again = customer.say("hello", client_id="c-1")
    assert len(first) == 1
    assert again == []
    assert len(customer.events()) == 2


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "invalid_message"), ("   ", "invalid_message"), ("x" * 2001, "invalid_message")],
)
def test_bad_messages_are_rejected_over_rest_and_nothing_is_stored(
    demo_client: TestClient, text: str, code: str
) -> None:
    customer = Customer(demo_client)
    response = demo_client.post(
        f"/api/chat/conversations/{customer.id}/messages",
        json={"text": text},
        headers=customer.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert customer.events() == []


def test_wrong_or_missing_token_is_401_and_unknown_conversation_404(
    demo_client: TestClient,
) -> None:
    customer = Customer(demo_client)
    url = f"/api/chat/conversations/{customer.id}/messages"
    assert demo_client.post(url, json={"text": "hi"}).status_code == 401
    wrong = demo_client.post(url, json={"text": "hi"}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_token"
    missing = demo_client.get("/api/chat/conversations/none/events", headers=customer.headers)
    assert missing.status_code == 404
    assert customer.events() == []


# -- WebSocket ---------------------------------------------------------------------------------


def test_websocket_acknowledges_then_delivers_the_reply(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_json({"type": "message", "text": "How can I track my order?", "client_id": "a1"})
        frames = receive_until(ws, is_bot_message)
    ack = next(f for f in frames if f["type"] == "ack")
    assert ack == {"type": "ack", "client_id": "a1", "seq": 1, "duplicate": False}
    # The ack comes before the bot's reply: the message was stored before the bot began.
    assert frames.index(ack) < len(frames) - 1
    own = [
        f["event"] for f in frames if f["type"] == "event" and f["event"]["author"] == "customer"
    ]
    assert [e["seq"] for e in own] == [1]
    assert frames[-1]["event"]["seq"] == 2
    assert frames[-1]["event"]["payload"]["entry_id"] == "en-order-track"


def test_reconnecting_with_the_last_seq_replays_exactly_what_was_missed(
    demo_client: TestClient,
) -> None:
    customer = Customer(demo_client)
    customer.say("hello")  # seq 1, 2
    customer.say("How can I track my order?")  # seq 3, 4
    with customer.socket(last_seq=2) as ws:
        assert ws.receive_json() == {"type": "ready", "conversation_id": customer.id, "last_seq": 2}
        replayed = [ws.receive_json(), ws.receive_json()]
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
    assert [f["event"]["seq"] for f in replayed] == [3, 4]


def test_resending_after_a_lost_ack_does_not_duplicate(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    customer.say("hello", client_id="m-1")
    with customer.socket(last_seq=2) as ws:
        ws.receive_json()
        ws.send_json({"type": "message", "text": "hello", "client_id": "m-1"})
        assert ws.receive_json() == {"type": "ack", "client_id": "m-1", "seq": 1, "duplicate": True}
    assert len(customer.events()) == 2


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message", "text": ""}', "empty_message"),
        ('{"type": "message", "text": "   "}', "empty_message"),
        ('{"type": "message", "text": 42}', "invalid_text"),
        ('{"type": "message", "text": "' + "x" * 2001 + '"}', "message_too_long"),
        ('{"type": "rate", "seq": "one", "helpful": true}', "invalid_rating"),
    ],
)
def test_bad_frames_get_an_error_code_and_the_socket_stays_usable(
    demo_client: TestClient, raw: str, code: str
) -> None:
    customer = Customer(demo_client)
    with customer.socket() as ws:
        ws.receive_json()
        ws.send_text(raw)
        error = ws.receive_json()
        assert error["type"] == "error"
        assert error["code"] == code
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
    assert customer.events() == []


def test_websocket_with_a_wrong_token_gets_an_error_frame_and_is_closed(
    demo_client: TestClient,
) -> None:
    customer = Customer(demo_client)
    with demo_client.websocket_connect(
        f"/api/chat/ws?conversation_id={customer.id}&token=wrong"
    ) as ws:
        assert ws.receive_json()["code"] == "invalid_token"
        message = ws.receive()
    assert message["type"] == "websocket.close"
    assert message["code"] == 4401


def test_rating_over_the_websocket(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    reply = customer.reply_to("How can I track my order?")
    with customer.socket(last_seq=reply["seq"]) as ws:
        ws.receive_json()
        ws.send_json({"type": "rate", "seq": reply["seq"], "helpful": True})
        assert ws.receive_json() == {"type": "rated", "seq": reply["seq"], "helpful": True}
    row = demo_client.get("/api/admin/exchanges", params={"conversation_id": customer.id}).json()[0]
    assert row["helpful"] is True


def test_a_greeting_then_a_mildly_unhappy_question_gets_its_answer(
    demo_client: TestClient,
) -> None:
    """Two messages are no trend: the late-parcel question is answered, not handed off."""
    customer = Customer(demo_client)
    assert customer.reply_to("你好")["kind"] == "answer"
    replies = customer.say("我买的东西怎么还没到")
    assert [e["type"] for e in replies] == ["message"], replies
    # Answered about the parcel (by the order-status intent or its FAQ entry), not handed off.
    payload = replies[0]["payload"]
    assert payload["kind"] == "answer", payload
    assert payload.get("entry_id") == "zh-order-track" or payload.get("intent") == "order_status"


@pytest.mark.parametrize(
    ("text", "language"),
    [("I want to file a complaint about the agent who was rude to me", "en"), ("我要投诉", "zh")],
)
def test_a_complaint_handed_over_on_the_complaint_intent_opens_a_complaint(
    demo_client: TestClient, text: str, language: str
) -> None:
    """Issue 17: the bot's complaint intent opens a complaint on the clock, in the handover's
    own transaction; the register lists it with its deadline."""
    customer = Customer(demo_client)
    replies = customer.say(text)
    assert replies[-1]["type"] == "conversation.escalated"
    assert replies[-1]["payload"]["reason"] == "intent_rule"
    found = demo_client.get(
        "/api/agent/complaints", params={"conversation_id": customer.id}
    ).json()["complaints"]
    assert len(found) == 1
    complaint = found[0]
    assert (complaint["source"], complaint["status"], complaint["level"]) == (
        "bot",
        "open",
        "normal",
    )
    # Nobody is online here: the complaint is on the clock before any ticket exists.
    assert complaint["ticket_id"] is None
    assert complaint["owner"] is None
    assert complaint["seconds_left"] > 71 * 3600
    # Not a complaint: a plain request for a person opens none.
    other = Customer(demo_client)
    other.say("转人工客服" if language == "zh" else "let me talk to a person")
    assert (
        demo_client.get("/api/agent/complaints", params={"conversation_id": other.id}).json()[
            "complaints"
        ]
        == []
    )
