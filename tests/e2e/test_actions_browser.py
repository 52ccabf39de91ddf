"""The admin console's Actions tab in Debian's chromium: an admin edits the demo order lookup's
reply template and tests it against the server's own demo order API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from bot.actions import demo_actions
from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import LiveServer, desk_only, screenshot, signed_in

pytestmark = [pytest.mark.browser]

expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """A served app with the demo's order intent and action (no model: the tab needs none)."""
    with desk_only(tmp_path_factory, embedder, "actions") as live:
        admin = live.admin()
        made = admin.post("/api/admin/kb/intents", json={"name": "order_status"})
        assert made.status_code == 201, made.text
        spec = demo_actions(live.url)[0].model_dump()
        created = admin.post("/api/admin/bot/actions", json=spec)
        assert created.status_code == 201, created.text
        yield live


def test_an_admin_edits_the_template_and_tests_it_against_the_demo_api(
    browser: Browser, server: LiveServer
) -> None:
    page = signed_in(browser, server, "admin", "/admin#actions")
    row = page.locator("[data-testid=action-row][data-name=order_status_lookup]")
    expect(row).to_contain_text("order_status")
    row.click()
    expect(page.get_by_test_id("action-url")).to_have_value(
        f"{server.url}/demo/api/orders/{{order_number}}"
    )

    page.get_by_test_id("action-reply-en").fill(
        "Your order {{ order_number }} ships with {{ carrier }} ({{ tracking_number }})."
    )
    page.get_by_test_id("action-save").click()
    expect(page.locator(".toast").last).to_contain_text("Saved order_status_lookup")

    page.get_by_test_id("action-test-order_number").fill("SO123456")
    page.get_by_test_id("action-test").click()
    expect(page.get_by_test_id("action-test-facts")).to_contain_text("outcome ok · HTTP 200")
    expect(page.get_by_test_id("action-test-reply-en")).to_contain_text(
        "Your order SO123456 ships with SF Express (SF1402385117)."
    )
    expect(page.get_by_test_id("action-test-reply-zh")).to_contain_text("已发货")
    page.get_by_test_id("action-test-result").scroll_into_view_if_needed()
    screenshot(page, "admin-actions")

    # A template that does not compile is refused with the field named, and nothing changes.
    page.get_by_test_id("action-reply-en").fill("Order {{ order_number")
    page.get_by_test_id("action-save").click()
    expect(page.get_by_test_id("action-error")).to_contain_text("reply.en")
    stored = server.admin().get("/api/admin/bot/actions/order_status_lookup").json()
    assert stored["reply"]["en"].startswith("Your order {{ order_number }} ships")
