"""The widget embedded on another site, in a real browser: an allowed site chats (CORS and the
socket's Origin check let it), another site cannot, and a signed-in customer's identity
arrives verified while a tampered one falls back to unverified claims."""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from core.identity import IdentityClaims, sign_identity
from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import eventually
from tests.live import LiveServer, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET = "browser-test-identity-secret-0123456789"
TIMEOUT = 15_000
expect.set_options(timeout=TIMEOUT)


class Site:
    """Another web site on a port of its own: its pages are what a test puts in ``pages``.

    A real server on 127.0.0.1, not a page the browser makes up: Chromium lets a page reach a
    loopback address (the kefu server) only from the same address space."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def shop() -> Iterator[Site]:
    site = Site()
    yield site
    site.close()


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[Site]:
    site = Site()
    yield site
    site.close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder, shop: Site
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("embedding")
    settings = Settings(
        data_dir=root / "var",
        database_url=f"sqlite:///{root / 'kefu.db'}",
        allowed_origins=[shop.origin],
        identity_secret=SECRET,
        assignment="pull",
        _env_file=None,
    )
    with serve(settings, embedder) as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="en-US")
    ctx.set_default_timeout(TIMEOUT)
    yield ctx
    ctx.close()


def host_page(context: BrowserContext, site: Site, server: LiveServer, **attributes: str) -> Page:
    """A page of ``site`` carrying the widget's tag, as the site's owner would write it."""
    data = " ".join(f'data-{k}="{html.escape(v, quote=True)}"' for k, v in attributes.items())
    path = f"/page-{len(site.pages)}"
    site.pages[path] = (
        '<!doctype html><meta charset="utf-8"><h1>A shop</h1>'
        f'<script src="{server.url}/widget.js" {data}></script>'
    )
    page = context.new_page()
    page.goto(site.origin + path)
    page.locator("[data-testid=kefu-launcher]").click()
    return page


def say(page: Page, text: str) -> None:
    page.locator("[data-testid=kefu-input]").fill(text)
    page.locator("[data-testid=kefu-send]").click()


def stored(page: Page, server: LiveServer) -> dict[str, Any] | None:
    raw = page.evaluate("key => localStorage.getItem(key)", f"kefu:v1:{server.url}")
    if not raw:
        return None
    data: dict[str, Any] = json.loads(raw)
    return data


def signed_attributes(**claims: Any) -> dict[str, str]:
    expires = int(time.time()) + 3600
    signature = sign_identity(SECRET, IdentityClaims(expires=expires, **claims))
    names = {"external_id": "customer-id", "email": "customer-email", "name": "customer-name"}
    found = {names.get(k, f"customer-{k}"): str(v) for k, v in claims.items()}
    return {**found, "customer-expires": str(expires), "customer-hash": signature}


def customer_in_context(server: LiveServer, agent: httpx.Client, page: Page) -> dict[str, Any]:
    """Ask for a person from the widget; the agent reads the ticket's context packet."""
    page.locator("[data-testid=kefu-human]").click()
    expect(page.locator("[data-testid=kefu-queue]")).to_be_visible()
    conversation = stored(page, server)
    assert conversation is not None

    def ticket() -> dict[str, Any] | None:
        for each in agent.get("/api/agent/tickets", params={"view": "queue"}).json()["tickets"]:
            if each["conversation_id"] == conversation["cid"]:
                found: dict[str, Any] = each
                return found
        return None

    found = eventually(ticket, "the ticket")
    detail = agent.get(f"/api/agent/tickets/{found['id']}").json()
    customer: dict[str, Any] = detail["context"]["customer"]
    customer["priority"] = found["priority"]
    return customer


@pytest.fixture
def agent(server: LiveServer) -> Iterator[httpx.Client]:
    client = server.staff("embed-agent")
    client.put("/api/agent/me/presence", json={"presence": "online"}).raise_for_status()
    yield client
    client.put("/api/agent/me/presence", json={"presence": "offline"})


def test_a_signed_in_customer_on_an_allowed_site_is_verified(
    server: LiveServer, shop: Site, context: BrowserContext, agent: httpx.Client
) -> None:
    attributes = signed_attributes(external_id="u-42", email="ada@example.com", tier="vip")
    page = host_page(context, shop, server, **attributes)
    say(page, "hello")
    expect(page.locator("[data-testid=kefu-message][data-author=bot]").first).to_be_visible()
    customer = customer_in_context(server, agent, page)
    assert customer["verified"] is True
    assert customer["external_id"] == "u-42"
    assert customer["priority"] == "high"  # a signed VIP


def test_a_tampered_signature_chats_on_with_unverified_claims(
    server: LiveServer, shop: Site, context: BrowserContext, agent: httpx.Client
) -> None:
    attributes = signed_attributes(external_id="u-43", email="bo@example.com", tier="vip")
    attributes["customer-email"] = "ceo@example.com"
    page = host_page(context, shop, server, **attributes)
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))
    say(page, "hello")
    expect(page.locator("[data-testid=kefu-message][data-author=bot]").first).to_be_visible()
    customer = customer_in_context(server, agent, page)
    assert customer["verified"] is False
    assert customer["email"] == "ceo@example.com"
    assert customer["external_id"] is None
    assert customer["priority"] == "normal"
    assert any("signature" in w for w in warnings), warnings


def test_a_site_not_allowed_cannot_start_a_chat(
    server: LiveServer, elsewhere: Site, context: BrowserContext
) -> None:
    page = host_page(context, elsewhere, server)
    say(page, "hello")
    expect(page.locator("[data-testid=kefu-message][data-author=customer]")).to_be_visible()
    page.wait_for_timeout(3000)
    conversation = stored(page, server)
    assert conversation is None or not conversation.get("cid")
    expect(page.locator("[data-testid=kefu-message][data-author=bot]")).to_have_count(0)
