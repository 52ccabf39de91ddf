"""Hostile input at the customer's and the agent's edge: every bad frame gets an error frame,
the socket stays usable, nothing unstorable is stored, and the conversation keeps working."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from core.conversations import append_event
from tests.bot.chat_helpers import Customer, is_bot_message, receive_until

LONE_SURROGATE = '{"type": "message", "text": "a \\ud83d b", "client_id": "s1"}'


@pytest.fixture(autouse=True)
def _no_server_errors(caplog: pytest.LogCaptureFixture) -> Any:
    """Whatever a client sends, the server logs no error (no stack trace to flood the log)."""
    with caplog.at_level(logging.WARNING):
        yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


def ping(ws: WebSocketTestSession) -> list[dict[str, Any]]:
    """The socket still answers: frames up to and including the pong."""
    ws.send_json({"type": "ping"})
    return receive_until(ws, lambda frame: frame["type"] == "pong", limit=50)


def error_code(ws: WebSocketTestSession) -> str:
    frames = receive_until(ws, lambda frame: frame["type"] in {"error", "ack"}, limit=50)
    assert frames[-1]["type"] == "error", frames
    return str(frames[-1]["code"])


def still_works(client: TestClient, customer: Customer) -> None:
    """The events endpoint reads the whole conversation, and the bot still answers."""
    assert all(e["seq"] > 0 for e in customer.events())
    assert customer.reply_to("How can I track my order?")["entry_id"] == "en-order-track"


# -- defect 1: text no database can store -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (LONE_SURROGATE, "text"),
        ('{"type": "message", "text": "nul \\u0000 here", "client_id": "n1"}', "text"),
        ('{"type": "message", "text": "hello", "client_id": "x\\udc00"}', "client_id"),
        ('{"type": "message", "text": "hello", "suggestion": "\\ud800"}', "suggestion"),
    ],
)
def test_unstorable_text_on_the_socket_is_refused_and_the_conversation_keeps_working(
    demo_client: TestClient, raw: str, field: str
) -> None:
    customer = Customer(demo_client)
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_text(raw)
        frames = receive_until(ws, lambda frame: frame["type"] in {"error", "ack"})
        assert frames[-1]["type"] == "error"
        assert frames[-1]["code"] == "invalid_text"
        assert field in frames[-1]["message"]
        ping(ws)
    assert customer.events() == []
    with customer.socket() as ws:  # a reconnect from 0 is not dropped
        assert ws.receive_json()["type"] == "ready"
        ping(ws)
    still_works(demo_client, customer)
    handoff = demo_client.post(
        f"/api/chat/conversations/{customer.id}/handoff", headers=customer.headers
    )
    assert handoff.status_code == 200, handoff.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "a \\ud83d b"}',
        b'{"text": "nul \\u0000"}',
        b'{"text": "ok", "client_id": "\\udfff"}',
        b'{"text": "ok", "suggestion": "\\u0000"}',
    ],
)
def test_unstorable_text_over_rest_is_a_422_and_nothing_is_stored(
    demo_client: TestClient, body: bytes
) -> None:
    customer = Customer(demo_client)
    response = demo_client.post(
        f"/api/chat/conversations/{customer.id}/messages",
        content=body,
        headers={**customer.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "no database can store" in response.json()["error"]["message"]
    assert customer.events() == []
    still_works(demo_client, customer)


@pytest.mark.parametrize("field", ["name", "email", "language"])
def test_unstorable_customer_details_at_start_are_a_422(
    demo_client: TestClient, field: str
) -> None:
    response = demo_client.post(
        "/api/chat/conversations",
        content=json.dumps({field: "Ann\ud83d"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == f"body.{field}"
    assert "no database can store" in response.json()["error"]["message"]


def test_a_lone_surrogate_stored_before_the_fix_is_read_back_safely(
    demo_client: TestClient,
) -> None:
    customer = Customer(demo_client)
    # The row as the old code wrote it: through the same core function, with no check.
    engine = demo_client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        append_event(
            session,
            conversation_id=customer.id,
            type="message",
            author="customer",
            payload={"text": "a \ud83d b \x00"},
        )
        session.commit()
    assert [e["payload"]["text"] for e in customer.events()] == ["a \ufffd b \ufffd"]
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"
        assert ws.receive_json()["event"]["payload"]["text"] == "a \ufffd b \ufffd"
        ws.send_json({"type": "message", "text": "How can I track my order?", "client_id": "m"})
        frames = receive_until(ws, is_bot_message)
        assert frames[-1]["event"]["payload"]["entry_id"] == "en-order-track"
    handoff = demo_client.post(
        f"/api/chat/conversations/{customer.id}/handoff", headers=customer.headers
    )
    assert handoff.status_code == 200, handoff.text


# -- defect 7: frames that used to drop the socket with a stack trace -------------------------


def test_a_binary_frame_is_an_error_frame(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_bytes(b'{"type": "ping"}')
        assert error_code(ws) == "invalid_frame"
        ping(ws)


def test_json_nested_five_thousand_deep_is_an_error_frame(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_text('{"type": "message", "text": ' + "[" * 5000 + "]" * 5000 + "}")
        assert error_code(ws) == "frame_too_deep"
        ws.send_text("[" * 5000 + "]" * 5000)
        assert error_code(ws) == "frame_too_deep"
        ping(ws)


@pytest.mark.parametrize("seq", [2**63, 2**63 - 1, 2**31, -(2**63) - 1, 10**400])
def test_a_huge_seq_in_a_rating_is_an_error_frame(demo_client: TestClient, seq: int) -> None:
    customer = Customer(demo_client)
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_text(f'{{"type": "rate", "seq": {seq}, "helpful": true}}')
        assert error_code(ws) in {"invalid_rating", "invalid_number"}
        ping(ws)


@pytest.mark.parametrize("last_seq", [str(2**63), str(2**64), "99999999999999999999999"])
def test_a_huge_last_seq_is_refused_with_a_clear_close(
    demo_client: TestClient, last_seq: str
) -> None:
    customer = Customer(demo_client)
    url = f"/api/chat/ws?conversation_id={customer.id}&token={customer.token}&last_seq={last_seq}"
    with demo_client.websocket_connect(url) as ws:
        frame = ws.receive_json()
        assert frame["type"] == "error"
        assert frame["code"] == "invalid_last_seq"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008
    still_works(demo_client, customer)


def test_an_oversized_frame_is_refused_with_close_code_1009(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_text(json.dumps({"type": "message", "text": "x" * 200_000}))
        assert error_code(ws) == "frame_too_large"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1009
    still_works(demo_client, customer)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "rate", "seq": NaN, "helpful": true}', "invalid_json"),
        ('{"type": "rate", "seq": 1e400, "helpful": true}', "invalid_number"),
        ('{"type": "rate", "seq": true, "helpful": true}', "invalid_rating"),
        ('{"type": "\\ud83d"}', "invalid_text"),
        ('{"\\ud83d": 1, "type": "ping"}', "invalid_text"),
        ('{"type": ["message"]}', "unknown_type"),
        ('{"type": "message", "text": {"a": 1}}', "invalid_text"),
        ('{"type": "message", "text": "hi", "client_id": 7}', "invalid_message"),
    ],
)
def test_malformed_frames_get_a_coded_error_frame(
    demo_client: TestClient, raw: str, code: str
) -> None:
    customer = Customer(demo_client)
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_text(raw)
        assert error_code(ws) == code
        ping(ws)
    assert customer.events() == []


def test_the_agent_socket_answers_bad_frames_with_error_frames(demo_client: TestClient) -> None:
    with demo_client.websocket_connect("/api/agent/ws") as ws:
        assert ws.receive_json()["type"] == "ready"
        for raw, code in [
            ("[" * 5000 + "]" * 5000, "frame_too_deep"),
            (
                '{"type": "subscribe", "conversation_id": "x", "last_seq": 9223372036854775808}',
                "invalid_number",
            ),
            (
                '{"type": "subscribe", "conversation_id": "x", "last_seq": 4294967296}',
                "invalid_subscribe",
            ),
            (
                '{"type": "message", "ticket_id": 1, "text": "a \\ud83d", "client_id": "c"}',
                "invalid_text",
            ),
            (
                '{"type": "message", "ticket_id": 18446744073709551616, "text": "a"}',
                "invalid_number",
            ),
        ]:
            ws.send_text(raw)
            assert error_code(ws) == code, raw
        ws.send_bytes(b"\x00\xff")
        assert error_code(ws) == "invalid_frame"
        ping(ws)
