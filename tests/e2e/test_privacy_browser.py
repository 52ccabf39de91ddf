"""The admin console's Privacy tab in Debian's chromium: the retention settings and a dry run,
a legal hold placed by conversation id, one customer's export downloaded and erased after the
confirmation dialog. Customers go through the public chat API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveServer, screenshot
from tests.handoff.desk_helpers import Customer
from tests.live import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

expect.set_options(timeout=15_000)


@pytest.fixture
def server(tmp_path: Path, embedder: SentenceEmbedder) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'kefu.db'}", _env_file=None
    )
    with serve(settings, embedder) as live:
        yield live


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, base_url=server.url, accept_downloads=True
    )
    page = context.new_page()
    page.goto("/admin")
    page.fill("#login-username", "admin")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#workspace")).to_be_visible()
    page.click("[data-testid=tab-privacy]")
    yield page
    context.close()


def test_privacy_tab_purges_holds_exports_and_erases(server: LiveServer, page: Page) -> None:
    ann = Customer(server, email="ann@example.com")
    ann.say("where is my refund?")
    other = Customer(server, email="bo@example.com")
    other.say("hello")

    expect(page.locator("[data-testid=privacy-retention]")).to_contain_text("1095 days (3 years)")
    page.click("[data-testid=privacy-dry-run]")
    expect(page.locator("[data-testid=privacy-purge-summary]")).to_contain_text("Dry run")
    expect(page.locator("[data-testid=privacy-count][data-table=conversation]")).to_contain_text(
        "0"
    )

    page.fill("[data-testid=privacy-hold-id]", other.id)
    page.click("[data-testid=privacy-hold-look]")
    expect(page.locator("[data-testid=privacy-hold-state]")).to_have_text("not held")
    page.click("[data-testid=privacy-hold-set]")
    expect(page.locator("[data-testid=privacy-hold-error]")).to_contain_text("reason")
    page.fill("[data-testid=privacy-hold-reason]", "court order 12")
    page.click("[data-testid=privacy-hold-set]")
    expect(page.locator("[data-testid=privacy-hold-state]")).to_have_text("on legal hold")

    page.fill("[data-testid=privacy-selector-value]", "ann@example.com")
    with page.expect_download() as download:
        page.click("[data-testid=privacy-export]")
    exported: dict[str, Any] = json.loads(Path(download.value.path()).read_text("utf-8"))
    said = [e["payload"].get("text") for e in exported["conversations"][0]["events"]]
    assert "where is my refund?" in said
    screenshot(page, "admin-privacy", docs=True)

    page.click("[data-testid=privacy-erase]")
    expect(page.locator("#confirm-title")).to_contain_text("ann@example.com")
    page.click("#confirm-ok")
    expect(page.locator("[data-testid=privacy-customer-result]")).to_contain_text(
        "Erased 1 conversation and 2 events"
    )
    assert ann.http.get(f"/api/chat/conversations/{ann.id}/status").status_code == 404
    assert other.status()["state"] == "bot"
