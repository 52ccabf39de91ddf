"""The Channels tab and the channel badge in Debian's chromium: an admin adds an API channel
and sees its secrets once; the app sends with that secret; an agent's console shows the chat
as "API · <name>"."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
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
    """No knowledge base: every message is a miss, and the second in a row hands over."""
    with desk_only(tmp_path_factory, embedder, "channels") as live:
        yield live


def test_an_admin_adds_a_channel_and_an_agent_sees_its_chat_badged(
    browser: Browser, server: LiveServer
) -> None:
    page = signed_in(browser, server, "admin", "/admin#channels")
    page.get_by_test_id("channel-new").click()
    page.get_by_test_id("channel-new-name").fill("shop-app")
    page.get_by_test_id("channel-new-webhook").fill("https://app.example/kefu/events")
    page.get_by_test_id("channel-create").click()
    expect(page.get_by_test_id("channel-title")).to_have_text("shop-app")
    secrets = page.get_by_test_id("channel-secret")
    expect(secrets).to_have_count(2)
    secret = secrets.first.inner_text()
    assert secret.startswith("kefu_in_")
    expect(page.get_by_test_id("channel-copy")).to_have_count(2)
    expect(page.locator("[data-testid=channel-row][data-name=shop-app]")).to_contain_text("enabled")
    expect(page.get_by_test_id("channel-deliveries")).to_be_attached()
    screenshot(page, "admin-channels")

    # Shown once: after a reload the channel is there, its secrets are not.
    page.reload()
    page.locator("[data-testid=channel-row][data-name=shop-app]").click()
    expect(page.get_by_test_id("channel-title")).to_have_text("shop-app")
    expect(page.get_by_test_id("channel-secrets")).to_be_hidden()
    assert secret not in page.content()

    agent = server.staff("agent-li", "agent", teams=["support"])
    agent.put("/api/agent/me/presence", json={"presence": "online"}).raise_for_status()
    app = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"})
    for text in ("purple monkey dishwasher", "zebra lasagna orbit"):
        body = {"contact": {"id": "app-user-7", "name": "Ada"}, "text": text}
        sent = app.post("/api/channels/shop-app/messages", json=body)
        assert sent.status_code == 200, sent.text
    assert sent.json()["replies"][-1]["type"] == "conversation.escalated"
    app.close()

    console = signed_in(browser, server, "agent-li", "/console")
    row = console.locator("[data-testid=ticket-item]").filter(has_text="Ada")
    expect(row.get_by_test_id("channel")).to_have_text("API · shop-app")
    row.click()
    expect(console.locator("#chat-meta [data-testid=channel]")).to_have_text("API · shop-app")
    screenshot(console, "console-api-channel")

    # The admin turns the channel off: the app is refused from then on.
    page.get_by_test_id("channel-enabled").uncheck()
    page.get_by_test_id("channel-save").click()
    expect(page.locator("[data-testid=channel-row][data-name=shop-app]")).to_contain_text(
        "disabled"
    )
    refused = httpx.post(
        f"{server.url}/api/channels/shop-app/messages",
        json={"contact": {"id": "app-user-7"}, "text": "hello?"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert refused.status_code == 403
