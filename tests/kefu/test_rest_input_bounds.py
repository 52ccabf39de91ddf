"""Odd but valid-looking REST input gets a 422 in the app's error shape, never a 500: explicit
nulls in PATCH bodies, and integers beyond what the database can hold (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bot.chat_helpers import Customer
from tests.factories import FAQ_URL, faq

BIG = 2**63  # one past the largest signed 64-bit integer SQLite and PostgreSQL can store
TOO_SMALL = -(2**63) - 1

FAQ_FIELDS = ["language", "status", "question", "answer", "tags", "category", "alternatives"]
INTENT_FIELDS = ["description", "action", "responses", "examples"]
INTENT = {"name": "greeting", "examples": {"en": ["hello there"]}, "responses": {"en": "Hi!"}}


def assert_invalid(response: Any, field: str) -> None:
    """A 422 in the app's error shape, naming the offending field."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert any(field in detail["field"] for detail in error["details"]), error


def test_null_in_an_faq_patch_is_refused_and_changes_nothing(client: TestClient) -> None:
    entry = faq(client, tags=["shipping"])
    for field in FAQ_FIELDS:
        response = client.patch(f"{FAQ_URL}/{entry['id']}", json={field: None})
        assert_invalid(response, field)
    assert client.get(f"{FAQ_URL}/{entry['id']}").json() == entry


def test_null_in_an_intent_patch_is_refused_and_changes_nothing(client: TestClient) -> None:
    created = client.post("/api/admin/kb/intents", json=INTENT)
    assert created.status_code == 201, created.text
    url = "/api/admin/kb/intents/greeting"
    for field in INTENT_FIELDS:
        assert_invalid(client.patch(url, json={field: None}), field)
    assert client.get(url).json() == created.json()


def test_a_null_expected_version_means_no_check(client: TestClient) -> None:
    """``expected_version`` is optional by design: null is the same as leaving it out."""
    entry = faq(client)
    response = client.patch(
        f"{FAQ_URL}/{entry['id']}", json={"answer": "New answer.", "expected_version": None}
    )
    assert response.status_code == 200, response.text
    assert response.json()["answer"] == "New answer."


def _routes(entry_id: str, conversation_id: str, value: int) -> list[tuple[str, str, Any, str]]:
    """(method, url, JSON body, field) for every route whose integer reaches the database."""
    ticket = f"/api/agent/tickets/{value}"
    canned = {"shortcut": "hi", "title": "Hi", "text": "Hello!"}
    learning = {"exchange_ids": [value]}
    return [
        ("GET", f"/api/chat/conversations/{conversation_id}/events?after={value}", None, "after"),
        ("GET", f"/api/agent/conversations/{conversation_id}/events?after={value}", None, "after"),
        (
            "POST",
            f"/api/chat/conversations/{conversation_id}/ratings",
            {"seq": value, "helpful": True},
            "seq",
        ),
        ("GET", ticket, None, "ticket_id"),
        ("POST", f"{ticket}/claim", None, "ticket_id"),
        ("POST", f"{ticket}/messages", {"text": "hello"}, "ticket_id"),
        ("POST", f"{ticket}/notes", {"text": "hello"}, "ticket_id"),
        ("POST", f"{ticket}/transfer", {"to_team": "general"}, "ticket_id"),
        ("POST", f"{ticket}/handback", None, "ticket_id"),
        ("POST", f"{ticket}/close", None, "ticket_id"),
        ("GET", f"{ticket}/canned", None, "ticket_id"),
        ("PUT", f"/api/agent/canned/{value}", canned, "canned_id"),
        ("DELETE", f"/api/agent/canned/{value}", None, "canned_id"),
        ("POST", f"{FAQ_URL}/{entry_id}/rollback", {"version": value}, "version"),
        ("PATCH", f"{FAQ_URL}/{entry_id}", {"expected_version": value}, "expected_version"),
        ("POST", "/api/admin/learning/faq", {**learning, "entry": _entry()}, "exchange_ids"),
        (
            "POST",
            "/api/admin/learning/intent",
            {**learning, "intent": "greeting", "examples": ["hi"]},
            "exchange_ids",
        ),
        ("POST", "/api/admin/learning/dismiss", learning, "exchange_ids"),
        ("GET", f"/api/admin/kb/audit?offset={value}", None, "offset"),
        ("GET", f"{FAQ_URL}?offset={value}", None, "offset"),
        (
            "POST",
            f"/api/chat/conversations/{conversation_id}/feedback",
            {"csat": value},
            "csat",
        ),
    ]


def _entry() -> dict[str, str]:
    return {"question": "Do you ship abroad?", "answer": "Yes, to 40 countries."}


@pytest.mark.parametrize("value", [BIG, TOO_SMALL], ids=["2^63", "-2^63-1"])
def test_integers_beyond_64_bits_are_refused_on_every_route(client: TestClient, value: int) -> None:
    entry = faq(client)
    customer = Customer(client)
    failures = []
    for method, url, body, field in _routes(entry["id"], customer.id, value):
        try:
            response = client.request(method, url, json=body, headers=customer.headers)
            assert_invalid(response, field)
        except Exception as exc:  # an unhandled server error surfaces here; list them all
            failures.append(f"{method} {url}: {type(exc).__name__} {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "query",
    [
        {"category": "\x00"},
        {"q": "jobs\x00"},
        {"\x00": "x"},
    ],
)
def test_unstorable_text_in_a_query_is_refused_before_any_route(
    client: TestClient, query: dict[str, str]
) -> None:
    """PostgreSQL refuses NUL in a text filter: the query string is checked at the edge."""
    faq(client)
    response = client.get(FAQ_URL, params=query)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_text"
    assert client.get(FAQ_URL, params={"category": "general"}).status_code == 200


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        # Found by the OpenAPI fuzzer on PostgreSQL: a NUL in a canned response was a 500.
        (
            "/api/agent/canned",
            {"shortcut": "nul", "title": "Hello", "text": "Hi\x00 there"},
            "text",
        ),
        ("/api/agent/canned", {"shortcut": "nul", "title": "A\x00", "text": "Hi"}, "title"),
        (
            "/api/agent/canned",
            {"shortcut": "nul", "title": "T", "text": "Hi", "language": "e\x00"},
            "language",
        ),
        (
            "/api/admin/users",
            {
                "username": "nul",
                "password": "long enough pw",
                "role": "agent",
                "display_name": "N\x00",
            },
            "display_name",
        ),
        (
            "/api/admin/users",
            {"username": "nul", "password": "long enough pw", "role": "agent", "teams": ["a\x00"]},
            "teams",
        ),
    ],
)
def test_text_no_database_can_store_is_refused_in_staff_bodies(
    client: TestClient, url: str, body: dict[str, Any], field: str
) -> None:
    before = client.get(url).json()
    response = client.post(url, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert any(field in detail["field"] for detail in error["details"]), error
    assert client.get(url).json() == before


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (FAQ_URL, {"question": "Where\x00?", "answer": "Here.", "language": "en"}, "question"),
        (FAQ_URL, {"question": "Where?", "answer": "He\x00re.", "language": "en"}, "answer"),
        (
            FAQ_URL,
            {"question": "Where?", "answer": "Here.", "alternatives": ["Wh\x00ere"]},
            "alternatives",
        ),
        (FAQ_URL, {"question": "Where?", "answer": "Here.", "tags": ["a\x00"]}, "tags"),
        (FAQ_URL, {"question": "Where?", "answer": "Here.", "category": "c\x00"}, "category"),
        ("/api/admin/kb/intents", {**INTENT, "description": "d\x00"}, "description"),
        ("/api/admin/kb/intents", {**INTENT, "examples": {"en": ["hel\x00lo"]}}, "examples"),
        ("/api/admin/kb/intents", {**INTENT, "responses": {"en": "H\x00i"}}, "responses"),
    ],
)
def test_text_no_database_can_store_is_refused_in_the_knowledge_base(
    client: TestClient, url: str, body: dict[str, Any], field: str
) -> None:
    before = client.get(url).json()
    response = client.post(url, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert any(field in detail["field"] for detail in error["details"]), error
    assert client.get(url).json() == before


def test_a_nul_in_a_login_is_refused_not_looked_up(client: TestClient) -> None:
    # PostgreSQL refuses a NUL even in a WHERE clause: before the check this was a 500.
    response = client.post("/api/auth/login", json={"username": "ad\x00min", "password": "x"})
    assert response.status_code == 422, response.text
    assert any("username" in d["field"] for d in response.json()["error"]["details"])
