"""Test data made through the public API, never by writing rows by hand."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

FAQ_URL = "/api/admin/kb/faqs"


def faq(client: TestClient, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "question": "How do I track my order?",
        "alternatives": ["Where is my parcel?"],
        "answer": "Open **My Orders** to see the tracking number.",
        "category": "orders",
        "status": "published",
    }
    body.update(fields)
    response = client.post(FAQ_URL, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def search(client: TestClient, query: str, k: int = 5) -> list[dict[str, Any]]:
    response = client.get("/api/admin/kb/search", params={"q": query, "k": k})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


def top_id(client: TestClient, query: str) -> str | None:
    hits = search(client, query)
    return hits[0]["entry"]["id"] if hits else None
