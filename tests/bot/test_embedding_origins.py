"""KEFU_ALLOWED_ORIGINS: the sites that may embed the widget, for CORS and for the customer
socket's Origin; the agent socket takes only the server's own origin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from core.settings import Settings
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.chat_helpers import Customer
from tests.conftest import log_in

SHOP = "https://shop.example"


@pytest.fixture
def embedded(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    # Written as a site owner might: upper case, a default port, a trailing slash.
    settings = Settings(
        data_dir=migrated.data_dir,
        database_url=migrated.database_url,
        allowed_origins=["HTTPS://Shop.Example:443/"],
        _env_file=None,
    )
    with TestClient(create_app(settings, embedder=embedder)) as client:
        yield client


def preflight(client: TestClient, origin: str) -> Any:
    return client.options(
        "/api/chat/conversations",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def socket_answer(client: TestClient, customer: Customer, origin: str | None) -> dict[str, Any]:
    headers = {} if origin is None else {"Origin": origin}
    with client.websocket_connect(
        f"/api/chat/ws?conversation_id={customer.id}",
        headers=headers,
        subprotocols=["kefu.v1", f"kefu.token.{customer.token}"],
    ) as ws:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == "error":
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            frame["close_code"] = closed.value.code
        return frame


def test_cors_answers_an_allowed_site_and_not_another(embedded: TestClient) -> None:
    allowed = preflight(embedded, SHOP)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "access-control-allow-credentials" not in allowed.headers
    for other in ("https://evil.example", "http://shop.example", "https://shop.example:8443"):
        refused = preflight(embedded, other)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
    simple = embedded.post("/api/chat/conversations", json={}, headers={"Origin": SHOP})
    assert simple.status_code == 201
    assert simple.headers["access-control-allow-origin"] == SHOP


def test_by_default_no_other_site_may_call_the_customer_api(client: TestClient) -> None:
    refused = preflight(client, SHOP)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def test_the_customer_socket_checks_the_origin(embedded: TestClient) -> None:
    customer = Customer(embedded)
    assert socket_answer(embedded, customer, SHOP)["type"] == "ready"
    # The server's own pages (the demo store) and clients that are not browsers.
    assert socket_answer(embedded, customer, "http://testserver")["type"] == "ready"
    assert socket_answer(embedded, customer, None)["type"] == "ready"
    for other in ("https://evil.example", "null", "https://shop.example.evil.example"):
        refused = socket_answer(embedded, customer, other)
        assert refused["code"] == "origin_not_allowed", refused
        assert refused["close_code"] == 4403


def test_any_site_with_a_star(migrated: Settings, embedder: SentenceEmbedder) -> None:
    settings = migrated.model_copy(update={"allowed_origins": ["*"]})
    with TestClient(create_app(settings, embedder=embedder)) as client:
        assert preflight(client, "https://anywhere.example").status_code == 200
        customer = Customer(client)
        assert socket_answer(client, customer, "https://anywhere.example")["type"] == "ready"


def test_the_agent_socket_takes_only_the_servers_own_origin(embedded: TestClient) -> None:
    log_in(embedded)
    with embedded.websocket_connect("/api/agent/ws", headers={"Origin": SHOP}) as ws:
        frame = ws.receive_json()
        assert frame["code"] == "forbidden"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403
    with embedded.websocket_connect("/api/agent/ws", headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] != "error"


@pytest.mark.parametrize(
    "origin", ["shop.example", "https://shop.example/path", "ftp://shop.example", "https://"]
)
def test_a_setting_that_is_not_an_origin_is_refused_at_start(origin: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(allowed_origins=[origin], _env_file=None)
