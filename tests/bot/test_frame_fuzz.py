"""Fuzzing both WebSockets with hostile frames (hypothesis, derandomized): every frame gets an
error frame or its normal reply, the socket keeps answering, the server logs no error, and the
conversation still works afterwards."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import WebSocketTestSession

from tests.bot.chat_helpers import Customer, receive_until

EXAMPLES = 250  # frames per socket
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Any code point, lone surrogates and NUL included (``st.characters`` never yields surrogates).
char = st.one_of(
    st.characters(),
    st.integers(0xD800, 0xDFFF).map(chr),
    st.sampled_from(["\x00", "\ufffe", "\U0010ffff", "\u200b"]),
)
hostile_text = st.lists(char, max_size=24).map("".join)
edge_int = st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1])
big_int = st.one_of(edge_int, st.integers(min_value=-(2**80), max_value=2**80))
leaf = st.one_of(st.none(), st.booleans(), big_int, st.floats(allow_nan=False), hostile_text)
json_value = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["text", "client_id", "suggestion", "seq", "helpful", "typing", "last_seq"]
AGENT_FIELDS = ["conversation_id", "last_seq", "ticket_id", "text", "client_id", "typing"]


def nested(depth: int) -> str:
    return '{"type": "message", "text": ' + "[" * depth + "]" * depth + "}"


def frames(types: list[str], fields: list[str]) -> st.SearchStrategy[tuple[str, Any]]:
    """("text", str) or ("bytes", bytes): a frame as a hostile client would send it."""
    typed = st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(types), json_value)},
        optional={name: st.one_of(json_value, big_int, hostile_text) for name in fields},
    )
    as_text = st.one_of(
        typed.map(json.dumps),  # ASCII escapes: surrogates and NUL arrive as \\uXXXX
        json_value.map(json.dumps),
        st.integers(1, 6000).map(nested),
        st.integers(1, 6000).map(lambda n: "[" * n),
        st.text(max_size=40),
        st.sampled_from(["NaN", '{"type": "rate", "seq": Infinity}', "{", '{"a": 1e999}']),
    )
    return st.one_of(
        as_text.map(lambda raw: ("text", raw)), st.binary(max_size=64).map(lambda b: ("bytes", b))
    )


@pytest.fixture(autouse=True)
def _no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with caplog.at_level(logging.WARNING):
        yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


PROBES = iter(range(10**9))


def send(ws: WebSocketTestSession, frame: tuple[str, Any]) -> list[dict[str, Any]]:
    """Send the frame, then a probe whose error frame is unique (a ping's pong is not, since
    the fuzzed frame may be a ping): everything the server said up to the probe's answer."""
    kind, raw = frame
    if kind == "bytes":
        ws.send_bytes(raw)
    else:
        ws.send_text(raw)
    probe = f"probe-{next(PROBES)}"
    ws.send_json({"type": probe, "client_id": probe})
    answer = receive_until(ws, lambda f: f.get("client_id") == probe, limit=500)
    assert answer[-1]["code"] == "unknown_type", answer
    return answer[:-1]


def still_usable(ws: WebSocketTestSession) -> None:
    ws.send_json({"type": "ping"})
    receive_until(ws, lambda f: f["type"] == "pong", limit=2000)


def plainly_invalid(frame: tuple[str, Any]) -> bool:
    """Binary, not JSON, or not an object: an error frame must come back."""
    kind, raw = frame
    if kind == "bytes":
        return True
    try:
        return not isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return True


def check_answer(frame: tuple[str, Any], answer: list[dict[str, Any]], replies: set[str]) -> None:
    kinds = [f["type"] for f in answer]
    assert set(kinds) <= {"error", "event", "pong", "typing", "queue", "subscribed", *replies}, (
        answer
    )
    if plainly_invalid(frame):
        assert "error" in kinds, (frame, answer)
    for error in (f for f in answer if f["type"] == "error"):
        assert isinstance(error["code"], str)
        assert isinstance(error["message"], str)
        assert error["code"] != "internal_error", (frame, error)


def bot_still_answers(customer: Customer) -> None:
    assert all(e["seq"] >= 1 for e in customer.events())
    replies = customer.say("How can I track my order?")
    assert any(e["author"] == "bot" for e in replies), replies


def test_fuzzing_the_customer_socket(client: TestClient) -> None:
    customer = Customer(client)
    types = ["message", "rate", "ping", "typing", "handoff", "subscribe"]
    with customer.socket() as ws:
        assert ws.receive_json()["type"] == "ready"

        @FUZZ
        @given(frame=frames(types, FIELDS))
        def fuzz(frame: tuple[str, Any]) -> None:
            check_answer(frame, send(ws, frame), {"ack", "rated"})

        fuzz()
        still_usable(ws)
    with customer.socket() as ws:  # a reconnect from 0 replays whatever was stored
        assert ws.receive_json()["type"] == "ready"
        still_usable(ws)
    bot_still_answers(customer)


def test_fuzzing_the_agent_socket(client: TestClient) -> None:
    customer = Customer(client)
    customer.say("hello")
    types = ["subscribe", "unsubscribe", "message", "typing", "ping", "note"]
    ids = st.sampled_from([customer.id, "nope", ""])
    with client.websocket_connect("/api/agent/ws") as ws:
        assert ws.receive_json()["type"] == "ready"

        @FUZZ
        @given(frame=frames(types, AGENT_FIELDS), conversation=ids)
        def fuzz(frame: tuple[str, Any], conversation: str) -> None:
            kind, raw = frame
            if kind == "text" and raw.startswith('{"type": "subscribe"'):
                # Aim a share of subscriptions at a real conversation.
                body = json.loads(raw)
                body.setdefault("conversation_id", conversation)
                frame = ("text", json.dumps(body))
            check_answer(frame, send(ws, frame), {"ack"})

        fuzz()
        still_usable(ws)
    bot_still_answers(customer)
