"""What operators and load balancers rely on: readiness, and compressed responses."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder


def test_a_started_process_is_ready(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "waiting_for": []}
    # Liveness is a separate question, answered as before.
    assert client.get("/healthz").status_code == 200


def test_a_process_that_has_not_started_is_not_ready(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    # Without its lifespan the app answers, but has not loaded its models or started its
    # workers: a load balancer must not send it customers yet.
    not_started = TestClient(create_app(migrated, embedder=embedder))
    response = not_started.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    # Its index is not loaded either.
    assert body["waiting_for"] == ["not_serving", "index_stale"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/widget.js", "text/javascript"),
        ("/console", "text/html"),
        ("/admin/assets/app.js", "text/javascript"),
        ("/openapi.json", "application/json"),
    ],
)
def test_pages_scripts_and_json_travel_gzipped(client: TestClient, path: str, kind: str) -> None:
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    assert response.headers["content-encoding"] == "gzip"
    assert response.num_bytes_downloaded < len(response.content) / 2
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == response.content
