"""Adding a WeChat Official Account in the admin console's Channels tab, in Debian's chromium:
the WeChat fields, a refusal shown in the form, and the server URL to enter in WeChat."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import LiveServer, desk_only, screenshot, signed_in

pytestmark = [pytest.mark.browser]

expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    with desk_only(tmp_path_factory, embedder, "wechat") as live:
        yield live


def test_an_admin_adds_a_wechat_account(browser: Browser, server: LiveServer) -> None:
    page = signed_in(browser, server, "admin", "/admin#channels")
    page.get_by_test_id("channel-new").click()
    expect(page.get_by_test_id("channel-new-app-id")).to_be_hidden()
    page.get_by_test_id("channel-new-kind").select_option("wechat")
    expect(page.get_by_test_id("channel-new-webhook")).to_be_hidden()
    page.get_by_test_id("channel-new-name").fill("shop-wx")
    page.get_by_test_id("channel-new-app-id").fill("not-an-appid")
    page.get_by_test_id("channel-new-app-secret").fill("s3cret-of-the-app")
    page.get_by_test_id("channel-new-token").fill("kefutoken2026")
    page.get_by_test_id("channel-create").click()
    expect(page.get_by_test_id("channel-new-error")).to_contain_text("AppID")
    page.get_by_test_id("channel-new-app-id").fill("wx1234567890abcdef")
    page.get_by_test_id("channel-create").click()
    expect(page.get_by_test_id("channel-title")).to_have_text("shop-wx")
    expect(page.locator("#channel-meta")).to_contain_text(f"{server.url}/api/wechat/shop-wx")
    expect(page.get_by_test_id("channel-rotate")).to_be_hidden()
    expect(page.get_by_test_id("channel-webhook")).to_be_hidden()
    row = page.locator("[data-testid=channel-row][data-name=shop-wx]")
    expect(row).to_contain_text("WECHAT")
    assert "s3cret-of-the-app" not in page.content()
    screenshot(page, "admin-channels-wechat")
