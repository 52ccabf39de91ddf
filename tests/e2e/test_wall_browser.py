"""The supervisors' live wall in chromium: a supervisor signs in, a customer asks for a person,
and the waiting count and the longest wait appear and tick without a reload. The console's top
bar links to the wall for supervisors only, and the wall turns an agent away."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveServer, desk_only, screenshot
from tests.handoff.desk_helpers import Customer, go_online, ticket_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """No knowledge base: customers ask for a person. Agents pull, so a ticket stays queued."""
    with desk_only(
        tmp_path_factory,
        embedder,
        "wall",
        first_response_seconds=6,
        handoff_tick_seconds=0.5,
        wall_interval_seconds=0.5,
    ) as server:
        yield server


def sign_in(page: Page, username: str) -> None:
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")


def test_a_supervisor_watches_a_customer_start_waiting(
    browser: Browser, live_server: LiveServer
) -> None:
    server = live_server
    agent = server.staff("mei", display_name="Mei Chen", max_chats=3)
    go_online(agent)
    server.staff("tomas", display_name="Tomás Ruiz", max_chats=2)
    server.staff("wall-lead", "supervisor", display_name="Floor Lead")
    # A chat Mei has answered and closed, and the customer's rating: today's figures.
    rated = Customer(server)
    rated.ask_for_person()
    ticket = ticket_of(agent, rated.id)
    agent.post(f"/api/agent/tickets/{ticket['id']}/claim").raise_for_status()
    agent.post(f"/api/agent/tickets/{ticket['id']}/messages", json={"text": "Hello!"})
    agent.post(f"/api/agent/tickets/{ticket['id']}/close").raise_for_status()
    assert rated.post("feedback", csat=5).status_code == 201
    # And one Mei is on now.
    busy = Customer(server)
    busy.ask_for_person()
    agent.post(f"/api/agent/tickets/{ticket_of(agent, busy.id)['id']}/claim").raise_for_status()

    page = browser.new_context(
        viewport={"width": 1600, "height": 900}, base_url=server.url
    ).new_page()
    page.goto("/wall")
    sign_in(page, "wall-lead")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    expect(page.get_by_test_id("waiting")).to_have_text("0")
    mei = page.locator("[data-testid=agent-row][data-username=mei]")
    expect(mei).to_have_attribute("data-presence", "online")
    expect(mei.get_by_test_id("agent-load")).to_have_text("1 / 3")
    expect(page.get_by_test_id("csat")).to_have_text("5.0")

    waiting = Customer(server)
    waiting.ask_for_person()
    expect(page.get_by_test_id("waiting")).to_have_text("1")
    expect(page).to_have_title("(1) kefu live wall")
    longest = page.get_by_test_id("longest-wait")
    expect(longest).to_have_text(re.compile(r"^0:0[0-9]$"))
    shown = longest.text_content()
    expect(longest).not_to_have_text(shown or "")  # it ticks between pushes
    reasons = page.locator("[data-testid=reason-row][data-reason=asked_for_person]")
    expect(reasons).to_contain_text("3")
    screenshot(page, "live-wall", docs=True)

    # The console's top bar leads a supervisor here, and not an agent.
    page.goto("/console")
    sign_in(page, "wall-lead")
    page.get_by_test_id("wall-link").click()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    other = browser.new_context(base_url=server.url).new_page()
    other.goto("/wall")
    sign_in(other, "mei")
    expect(other.get_by_test_id("login-error")).to_contain_text("supervisors and administrators")
    other.goto("/console")
    sign_in(other, "mei")
    expect(other.get_by_test_id("mine-list")).to_be_visible()
    expect(other.get_by_test_id("wall-link")).to_be_hidden()
