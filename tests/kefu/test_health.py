from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import faq


def test_health_reports_database_and_index(client: TestClient) -> None:
    faq(client, id="one")
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["index"]["state"] == "ready"
    assert body["index"]["entries"] == 1
    assert body["index"]["vectors"] == 2
    assert body["index"]["model"] == "all-MiniLM-L6-v2+multilingual-e5-small-q4"


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/api/admin/kb/faqs" in client.get("/openapi.json").json()["paths"]
