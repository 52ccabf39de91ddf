"""Masked personal data in the agent console, in chromium: an agent sees a customer's card
number masked with no way to reveal it; a supervisor sees it masked, clicks "Reveal", and reads
the message as the customer typed it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveServer, screenshot
from tests.handoff.desk_helpers import Customer, go_online, wait_until
from tests.live import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CARD_MESSAGE = "I paid with my card 4111111111111111, order #10482"
MASKED = "I paid with my card [card ••••1111], order #10482"
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """No knowledge base is needed: the customer asks for a person."""
    root: Path = tmp_path_factory.mktemp("reveal")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'kefu.db'}", _env_file=None
    )
    with serve(settings, embedder) as server:
        yield server


def chat_taken_by(server: LiveServer, username: str, role: str) -> tuple[Customer, int]:
    staff = server.staff(username, role, teams=["support"], languages=["en"])
    go_online(staff)
    customer = Customer(server, name="Ada", language="en")
    customer.say(CARD_MESSAGE)
    customer.ask_for_person()

    def mine() -> int | None:
        tickets = staff.get("/api/agent/tickets", params={"view": "mine"}).json()["tickets"]
        return next((t["id"] for t in tickets if t["conversation_id"] == customer.id), None)

    ticket_id = wait_until(mine, what=f"the chat assigned to {username}")
    staff.put("/api/agent/me/presence", json={"presence": "offline"})
    return customer, int(ticket_id)


def open_ticket(browser: Browser, server: LiveServer, username: str, ticket_id: int) -> Page:
    page = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=server.url
    ).new_page()
    page.goto("/console")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    item = page.locator(
        f"[data-testid=mine-list] [data-testid=ticket-item][data-ticket-id='{ticket_id}']"
    )
    item.click()
    return page


def test_an_agent_sees_it_masked_and_a_supervisor_reveals_it(
    browser: Browser, live_server: LiveServer
) -> None:
    _customer, ticket_id = chat_taken_by(live_server, "agent-mask", "agent")
    page = open_ticket(browser, live_server, "agent-mask", ticket_id)
    message = page.locator(
        "[data-testid=transcript] [data-testid=message][data-author=customer]"
    ).first
    expect(message).to_contain_text(MASKED)
    expect(message.locator("[data-testid=reveal]")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("4111111111111111")
    page.context.close()

    _customer, ticket_id = chat_taken_by(live_server, "sup-reveal", "supervisor")
    page = open_ticket(browser, live_server, "sup-reveal", ticket_id)
    message = page.locator(
        "[data-testid=transcript] [data-testid=message][data-author=customer]"
    ).first
    expect(message).to_contain_text(MASKED)
    screenshot(page, "console-masked-message")
    message.locator("[data-testid=reveal]").click()
    expect(message).to_contain_text(CARD_MESSAGE)
    expect(message.locator("[data-testid=reveal]")).to_have_count(0)
    page.context.close()
