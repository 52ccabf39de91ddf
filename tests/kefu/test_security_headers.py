"""Every response carries the browser-hardening headers; pages get a policy that allows no
inline script and no framing; HSTS only over HTTPS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder

PAGES = ["/", "/console", "/admin"]


@pytest.fixture
def app_client(migrated: Settings, embedder: SentenceEmbedder) -> TestClient:
    return TestClient(create_app(migrated, embedder=embedder))


def directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", PAGES)
def test_pages_allow_only_their_own_scripts_and_no_framing(
    app_client: TestClient, path: str
) -> None:
    with app_client as client:
        response = client.get(path, headers={"Host": "shop.example:8000"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'", "ws://shop.example:8000", "wss://shop.example:8000"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("path", ["/widget.js", "/healthz", "/api/auth/me"])
def test_scripts_and_json_are_not_sniffed_and_carry_no_page_policy(
    app_client: TestClient, path: str
) -> None:
    with app_client as client:
        response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


def test_a_host_header_that_is_not_a_host_is_left_out_of_the_policy(
    app_client: TestClient,
) -> None:
    with app_client as client:
        response = client.get("/console", headers={"Host": "evil; script-src *"})
    policy = directives(response.headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]


def test_https_requests_get_strict_transport_security(app_client: TestClient) -> None:
    with app_client as client:
        client.base_url = client.base_url.copy_with(scheme="https")
        response = client.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
