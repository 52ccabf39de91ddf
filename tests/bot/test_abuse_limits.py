"""Abuse limits on the customer API and socket: per client address and per conversation, a 429
or an error frame with the seconds to wait, nothing stored, counts shared through Redis."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from core.settings import Settings
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.chat_helpers import Customer
from tests.conftest import need
from tests.live import serve

CHAT = "/api/chat/conversations"


@contextmanager
def app_with(settings: Settings, embedder: SentenceEmbedder, **limits: str) -> Iterator[TestClient]:
    changed = settings.model_copy(update={f"limit_{name}": value for name, value in limits.items()})
    with TestClient(create_app(changed, embedder=embedder)) as client:
        yield client


def assert_limited(response: Any, limit: str) -> int:
    """A 429 in the API's error shape, with Retry-After; returns the seconds to wait."""
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert error["details"] == [{"code": "rate_limited", "retry_after": wait, "limit": limit}]
    assert "try again in" in error["message"]
    return wait


def customer_texts(customer: Customer) -> list[str]:
    return [
        e["payload"]["text"]
        for e in customer.events()
        if e["author"] == "customer" and e["type"] == "message"
    ]


def test_an_address_may_start_so_many_conversations_a_minute(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    with app_with(migrated, embedder, conversations_per_address="3/minute") as client:
        for _ in range(3):
            assert client.post(CHAT, json={}).status_code == 201
        assert_limited(client.post(CHAT, json={}), "conversation_per_address")
        # Refused attempts count too: a flood stays refused.
        assert client.post(CHAT, json={}).status_code == 429


def test_messages_over_a_conversations_limit_get_429_and_are_not_stored(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    with app_with(migrated, embedder, messages_per_conversation="2/minute") as client:
        chatty, quiet = Customer(client), Customer(client)
        chatty.say("one")
        chatty.say("two")
        third = client.post(
            f"{CHAT}/{chatty.id}/messages", json={"text": "three"}, headers=chatty.headers
        )
        assert_limited(third, "message_per_conversation")
        assert customer_texts(chatty) == ["one", "two"]
        # Another conversation from the same address has its own allowance.
        quiet.say("hello")
        assert customer_texts(quiet) == ["hello"]


def test_a_wrong_token_spends_nothing_of_the_conversations_allowance(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    with app_with(migrated, embedder, messages_per_conversation="1/minute") as client:
        customer = Customer(client)
        for _ in range(3):
            wrong = client.post(
                f"{CHAT}/{customer.id}/messages",
                json={"text": "spam"},
                headers={"Authorization": "Bearer wrong"},
            )
            assert wrong.status_code == 401
        customer.say("mine")
        assert customer_texts(customer) == ["mine"]


def test_an_address_has_a_limit_across_its_conversations(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    with app_with(migrated, embedder, messages_per_address="3/minute") as client:
        first, second = Customer(client), Customer(client)
        first.say("a")
        first.say("b")
        second.say("c")
        refused = client.post(
            f"{CHAT}/{second.id}/messages", json={"text": "d"}, headers=second.headers
        )
        assert_limited(refused, "message_per_address")
        assert customer_texts(second) == ["c"]


def test_the_socket_answers_an_error_frame_stores_nothing_and_stays_open(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    with app_with(migrated, embedder, messages_per_conversation="2/minute") as client:
        customer = Customer(client)
        with customer.socket() as ws:
            assert ws.receive_json()["type"] == "ready"
            acks: list[dict[str, Any]] = []
            for n in (1, 2, 3):
                ws.send_json({"type": "message", "text": f"m{n}", "client_id": f"c{n}"})
                frame = ws.receive_json()
                while frame["type"] not in {"ack", "error"}:
                    frame = ws.receive_json()
                acks.append(frame)
            assert [a["type"] for a in acks] == ["ack", "ack", "error"]
            error = acks[2]
            assert error["code"] == "rate_limited"
            assert error["client_id"] == "c3"
            assert 1 <= error["retry_after"] <= 60
            # Still open: other frames are answered.
            ws.send_json({"type": "ping"})
            frame = ws.receive_json()
            while frame["type"] != "pong":
                frame = ws.receive_json()
        assert customer_texts(customer) == ["m1", "m2"]


def test_every_customer_request_and_socket_counts_against_the_address(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    """Reads, token rotation, status and socket connects have no limit of their own; one
    allowance for every customer request from an address keeps a flood of them off the box."""
    with app_with(migrated, embedder, requests_per_address="4/minute") as client:
        customer = Customer(client)
        status = f"{CHAT}/{customer.id}/status"
        assert client.get(status, headers=customer.headers).status_code == 200
        events = client.get(f"{CHAT}/{customer.id}/events", headers=customer.headers)
        assert events.status_code == 200
        assert client.get(status, headers=customer.headers).status_code == 200
        assert_limited(client.get(status, headers=customer.headers), "request_per_address")
        # The socket is told why, then closed as "try again later" (1013): the widget retries.
        with customer.socket() as ws:
            frame = ws.receive_json()
            assert frame["type"] == "error"
            assert frame["code"] == "rate_limited"
            assert 1 <= frame["retry_after"] <= 60
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1013


def test_ratings_feedback_and_offline_messages_have_limits(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    with app_with(
        migrated,
        embedder,
        ratings_per_conversation="1/minute",
        offline_messages_per_conversation="1/minute",
    ) as client:
        customer = Customer(client)
        offline = {"email": "ada@example.com", "text": "Please call me back"}
        url = f"{CHAT}/{customer.id}"
        first = client.post(f"{url}/offline-message", json=offline, headers=customer.headers)
        assert first.status_code == 201, first.text
        again = client.post(f"{url}/offline-message", json=offline, headers=customer.headers)
        assert_limited(again, "offline_message_per_conversation")
        kinds = [e["payload"].get("kind") for e in customer.events() if e["type"] == "message"]
        assert kinds.count("offline_message") == 1

        closed = client.post(f"{url}/close", headers=customer.headers)
        assert closed.status_code == 200, closed.text
        feedback = client.post(f"{url}/feedback", json={"csat": 5}, headers=customer.headers)
        assert feedback.status_code == 201, feedback.text
        rating = client.post(
            f"{url}/ratings", json={"seq": 1, "helpful": True}, headers=customer.headers
        )
        assert_limited(rating, "rating_per_conversation")


@pytest.mark.redis
def test_two_processes_count_together_on_redis(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    url = os.environ.get("KEFU_TEST_REDIS_URL", "")
    need(bool(url), "KEFU_TEST_REDIS_URL is not set")
    shared = migrated.model_copy(
        update={"broker_url": url, "limit_conversations_per_address": "3/minute"}
    )
    # Two app instances, as two server processes behind one load balancer (no lifespan is
    # needed to start a conversation).
    first = TestClient(create_app(shared, embedder=embedder))
    second = TestClient(create_app(shared, embedder=embedder))
    assert first.post(CHAT, json={}).status_code == 201
    assert second.post(CHAT, json={}).status_code == 201
    assert first.post(CHAT, json={}).status_code == 201
    assert_limited(second.post(CHAT, json={}), "conversation_per_address")
    assert_limited(first.post(CHAT, json={}), "conversation_per_address")


def test_an_unreachable_redis_turns_no_customer_away(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    gone = migrated.model_copy(
        update={
            "broker_url": f"redis://127.0.0.1:{closed_port}/0",
            "limit_conversations_per_address": "1/minute",
        }
    )
    client = TestClient(create_app(gone, embedder=embedder))
    assert [client.post(CHAT, json={}).status_code for _ in range(3)] == [201, 201, 201]


def test_behind_a_trusted_proxy_each_forwarded_address_counts_on_its_own(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 (FORWARDED_ALLOW_IPS), as from the nginx
    # of deploy/; the limits count the client it names.
    limited = migrated.model_copy(update={"limit_conversations_per_address": "2/minute"})
    with serve(limited, embedder) as server:
        http = server.http()

        def start(address: str) -> httpx.Response:
            return http.post(CHAT, json={}, headers={"X-Forwarded-For": address})

        assert start("203.0.113.1").status_code == 201
        assert start("203.0.113.1").status_code == 201
        assert_limited(start("203.0.113.1"), "conversation_per_address")
        assert start("203.0.113.2").status_code == 201
