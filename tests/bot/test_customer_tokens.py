"""Customer tokens: they expire, they can be rotated, and the socket takes them from a header."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from core.db import make_engine
from core.settings import Settings
from kefu import db as migrations
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.chat_helpers import Customer

TTL_SECONDS = 1.0


def socket(client: TestClient, cid: str, token: str) -> WebSocketTestSession:
    """The header transport: the token is offered as a WebSocket subprotocol."""
    return client.websocket_connect(
        f"/api/chat/ws?conversation_id={cid}", subprotocols=["kefu.v1", f"kefu.token.{token}"]
    )


def refused(ws: WebSocketTestSession) -> str:
    """The error frame's code, after checking that the socket is then closed with 4401."""
    frame: dict[str, Any] = ws.receive_json()
    assert frame["type"] == "error", frame
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 4401
    code: str = frame["code"]
    return code


def events(client: TestClient, cid: str, token: str) -> Any:
    return client.get(
        f"/api/chat/conversations/{cid}/events", headers={"Authorization": f"Bearer {token}"}
    )


def rotate(client: TestClient, cid: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(f"/api/chat/conversations/{cid}/token", headers=headers or {})


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_a_new_token_lives_thirty_days_and_asks_to_be_rotated_at_half_time(
    client: TestClient,
) -> None:
    body = client.post("/api/chat/conversations").json()
    now = datetime.now(UTC)
    expires, rotate_after = parse(body["token_expires_at"]), parse(body["token_rotate_after"])
    assert abs(expires - (now + timedelta(days=30))) < timedelta(minutes=1)
    assert abs(rotate_after - (now + timedelta(days=15))) < timedelta(minutes=1)
    assert abs(body["token_rotate_in_seconds"] - 15 * 86400) < 60


def test_the_socket_takes_the_token_from_the_subprotocol_header(client: TestClient) -> None:
    customer = Customer(client)
    with socket(client, customer.id, customer.token) as ws:
        assert ws.accepted_subprotocol == "kefu.v1"
        assert ws.receive_json()["type"] == "ready"
        ws.send_json({"type": "message", "text": "hello", "client_id": "c1"})
        assert ws.receive_json()["type"] == "ack"
    with socket(client, customer.id, "wrong" + customer.token) as ws:
        assert refused(ws) == "invalid_token"
    # The header wins over the query string, so a stale URL cannot override it.
    with client.websocket_connect(
        f"/api/chat/ws?conversation_id={customer.id}&token=wrong",
        subprotocols=["kefu.v1", f"kefu.token.{customer.token}"],
    ) as ws:
        assert ws.receive_json()["type"] == "ready"


def test_rotation_gives_a_working_token_and_the_old_one_stops_at_once(
    client: TestClient,
) -> None:
    customer = Customer(client)
    customer.say("hello")
    with customer.socket(last_seq=customer.events()[-1]["seq"]) as old_socket:
        assert old_socket.receive_json()["type"] == "ready"
        response = rotate(client, customer.id, customer.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        # The socket opened with the old token is refused and closed by the rotation.
        assert refused(old_socket) == "invalid_token"
    new = body["token"]
    assert body["conversation_id"] == customer.id
    assert new != customer.token
    assert parse(body["token_rotate_after"]) < parse(body["token_expires_at"])
    assert events(client, customer.id, customer.token).json()["error"]["code"] == "invalid_token"
    assert rotate(client, customer.id, customer.headers).status_code == 401
    with socket(client, customer.id, customer.token) as ws:
        assert refused(ws) == "invalid_token"
    # The new token reads the same conversation, over REST and the socket.
    history = events(client, customer.id, new)
    assert history.status_code == 200
    assert history.json()["events"][0]["payload"]["text"] == "hello"
    with socket(client, customer.id, new) as ws:
        assert ws.receive_json()["type"] == "ready"
    status = client.get(
        f"/api/chat/conversations/{customer.id}/status", headers={"Authorization": f"Bearer {new}"}
    )
    assert status.status_code == 200


@pytest.mark.parametrize(
    "case", ["no_header", "wrong_token", "basic_auth", "another_conversations_token", "unknown"]
)
def test_bad_rotation_requests_are_refused_and_change_nothing(
    client: TestClient, case: str
) -> None:
    customer, other = Customer(client), Customer(client)
    target, headers, status, code = {
        "no_header": (customer.id, {}, 401, "invalid_token"),
        "wrong_token": (customer.id, {"Authorization": "Bearer wrong"}, 401, "invalid_token"),
        "basic_auth": (customer.id, {"Authorization": "Basic a2VmdTprZWZ1"}, 401, "invalid_token"),
        "another_conversations_token": (other.id, customer.headers, 401, "invalid_token"),
        "unknown": (uuid.uuid4().hex, customer.headers, 404, "not_found"),
    }[case]
    response = rotate(client, target, headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    for each in (customer, other):
        assert events(client, each.id, each.token).status_code == 200


@pytest.fixture
def short_lived(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    """The app with customer tokens that live one second."""
    settings = migrated.model_copy(update={"customer_token_ttl_days": TTL_SECONDS / 86400})
    with TestClient(create_app(settings, embedder=embedder)) as test_client:
        yield test_client


def expired_customer(client: TestClient) -> Customer:
    customer = Customer(client)
    assert events(client, customer.id, customer.token).status_code == 200
    deadline = time.monotonic() + 10 * TTL_SECONDS
    while events(client, customer.id, customer.token).status_code == 200:
        assert time.monotonic() < deadline, "the token did not expire"
        time.sleep(0.05)
    return customer


def test_an_expired_token_is_refused_with_its_code_everywhere(short_lived: TestClient) -> None:
    customer = expired_customer(short_lived)
    base = f"/api/chat/conversations/{customer.id}"
    for method, path, body in [
        ("GET", "/events", None),
        ("POST", "/messages", {"text": "hello"}),
        ("GET", "/status", None),
        ("POST", "/token", None),
    ]:
        response = short_lived.request(method, base + path, json=body, headers=customer.headers)
        assert response.status_code == 401, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "token_expired", (path, error)
        assert "new conversation" in error["message"]
    with socket(short_lived, customer.id, customer.token) as ws:
        assert refused(ws) == "token_expired"
    with customer.socket() as ws:
        assert refused(ws) == "token_expired"
    # A wrong token stays "wrong", whether or not the real one has expired.
    assert events(short_lived, customer.id, "wrong").json()["error"]["code"] == "invalid_token"


def test_a_token_rotated_before_it_expires_lives_on(short_lived: TestClient) -> None:
    customer = Customer(short_lived)
    token = customer.token
    deadline = time.monotonic() + 3 * TTL_SECONDS
    # Rotating more often than the lifetime keeps the conversation open past the first expiry.
    while time.monotonic() < deadline:
        response = rotate(short_lived, customer.id, {"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        time.sleep(TTL_SECONDS / 4)
    assert events(short_lived, customer.id, token).status_code == 200


def test_conversations_from_before_expiry_keep_working_after_the_upgrade(
    settings: Settings, embedder: SentenceEmbedder
) -> None:
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine, "0006")
    token = "a-token-issued-before-tokens-expired"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO conversation (id, token_hash, state, customer_tier, last_seq,"
                " consecutive_misses, sentiment_scores, pending_suggestions, created_at,"
                " updated_at) VALUES ('old', :hash, 'bot', 'standard', 0, 0, '[]', '[]',"
                " :now, :now)"
            ),
            {"hash": hashlib.sha256(token.encode()).hexdigest(), "now": datetime.now(UTC)},
        )
    migrations.upgrade(engine)
    engine.dispose()
    with TestClient(create_app(settings, embedder=embedder)) as client:
        assert events(client, "old", token).status_code == 200
        response = rotate(client, "old", {"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert events(client, "old", response.json()["token"]).status_code == 200
        fresh = Customer(client)
        assert events(client, fresh.id, fresh.token).status_code == 200
