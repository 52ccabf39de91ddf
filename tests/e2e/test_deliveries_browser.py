"""An API channel's webhook delivery log in the admin console, in Debian's chromium: a delivery
the receiver refused until it was given up shows as failed with its attempts; Replay sends it
again (the receiver now answers) and the log shows it delivered; "Replay failed" does the same
for every failed one.

The view is ``kefu/web/admin/deliveries.js``'s ``showDeliveries(container, channelId)``, which
the Channels tab opens under the channel an admin picks.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from knowledge_base.embeddings import SentenceEmbedder
from tests.channels.conftest import ApiChannel, create_channel
from tests.channels.webhook_receiver import Receiver
from tests.e2e.conftest import LiveServer, desk_only, eventually, screenshot, signed_in

pytestmark = [pytest.mark.browser]

expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    with desk_only(
        tmp_path_factory,
        embedder,
        "deliveries",
        webhook_max_attempts=2,
        webhook_retry_first_seconds=0.05,
        webhook_poll_seconds=0.1,
    ) as live:
        yield live


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.stop()


def failed_delivery(server: LiveServer, receiver: Receiver, contact: str) -> ApiChannel:
    channel = create_channel(server, server.admin(), webhook_url=receiver.url)
    receiver.secret = channel.signing_secret
    receiver.answers = [500, 500]
    channel.say(contact, "hello there")
    path = f"/api/admin/channels/{channel.id}/deliveries"
    eventually(
        lambda: channel.admin.get(path, params={"state": "failed"}).json()["items"],
        "a failed delivery",
    )
    return channel


def open_deliveries(browser: Browser, server: LiveServer, channel: ApiChannel) -> Page:
    """The admin opens the Channels tab and the channel: its delivery log is under it."""
    page: Page = signed_in(browser, server, "admin", "/admin#channels")
    page.locator(f"[data-testid=channel-row][data-name='{channel.name}']").click()
    expect(page.get_by_test_id("channel-title")).to_have_text(channel.name)
    return page


def test_an_admin_replays_a_failed_delivery_and_sees_it_delivered(
    browser: Browser, server: LiveServer, receiver: Receiver
) -> None:
    channel = failed_delivery(server, receiver, "browser-1")
    page = open_deliveries(browser, server, channel)
    row = page.get_by_test_id("delivery-row").first
    expect(row).to_have_attribute("data-state", "failed")
    expect(row).to_contain_text("message")
    expect(row).to_contain_text("500")
    row.click()
    detail = page.get_by_test_id("delivery-detail")
    expect(detail.get_by_test_id("delivery-attempt")).to_have_count(2)
    expect(detail).to_contain_text("HTTP 500")
    screenshot(page, "admin-deliveries-failed")

    detail.get_by_test_id("delivery-replay").click()
    expect(page.locator(".toast").last).to_contain_text("Queued again")
    eventually(lambda: len(receiver.events()) == 3, "the replay to reach the receiver")
    assert receiver.events()[-1].headers["X-Kefu-Replay"] == "1"
    page.get_by_test_id("delivery-refresh").click()
    expect(page.get_by_test_id("delivery-row").first).to_have_attribute("data-state", "delivered")
    expect(detail.get_by_test_id("delivery-attempt")).to_have_count(3)
    expect(detail.get_by_test_id("delivery-state")).to_have_text("delivered")


def test_replay_failed_sends_every_failed_delivery_again(
    browser: Browser, server: LiveServer, receiver: Receiver
) -> None:
    channel = failed_delivery(server, receiver, "browser-2")
    page = open_deliveries(browser, server, channel)
    expect(page.get_by_test_id("delivery-row").first).to_have_attribute("data-state", "failed")
    page.get_by_test_id("delivery-replay-failed").click()
    page.locator("#confirm-ok").click()
    expect(page.locator(".toast").last).to_contain_text("1 failed delivery queued again")
    eventually(lambda: len(receiver.events()) == 3, "the replay to reach the receiver")
    page.get_by_test_id("delivery-filter").select_option("delivered")
    expect(page.get_by_test_id("delivery-row")).to_have_count(1)
