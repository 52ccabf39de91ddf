"""Service language in the agent console, in Debian's chromium against a live server: a
supervisor lists a phrase, an agent's reply with it is held back with the alternatives, one
click puts an alternative in its place, "Send anyway" sends as written, and the supervisor's
report counts that use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveServer, desk_only, eventually, screenshot
from tests.handoff.desk_helpers import Customer, go_online, ticket_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def desk_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """A served app without the demo knowledge base: this is about the desk alone."""
    with desk_only(tmp_path_factory, embedder, "service-language") as server:
        yield server


def console(browser: Browser, server: LiveServer, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/console")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("[data-testid=connection]")).to_have_text("connected")
    return page


def agent_texts(customer: Customer) -> list[str]:
    return [
        e["payload"]["text"]
        for e in customer.events()
        if e["type"] == "message" and e["author"].startswith("agent:")
    ]


def test_a_held_back_reply_takes_an_alternative_and_the_report_counts_what_was_sent_anyway(
    browser: Browser, desk_server: LiveServer
) -> None:
    server = desk_server
    agent = server.staff("sl-agent", display_name="Wang Fang")
    server.staff("sl-supervisor", "supervisor")
    go_online(agent)

    # The supervisor lists the phrase in the console's Service language dialog.
    lead = console(browser, server, "sl-supervisor")
    lead.click("[data-testid=phrases-open]")
    dialog = lead.locator("[data-testid=phrases-dialog]")
    expect(dialog).to_be_visible()
    lead.fill("[data-testid=phrase-text]", "calm down")
    lead.select_option("[data-testid=phrase-language]", "en")
    lead.fill(
        "[data-testid=phrase-alternatives]",
        "I understand how frustrating this is\nI'm sorry about this",
    )
    lead.click("[data-testid=phrase-save]")
    expect(dialog.locator("[data-testid=phrase-row]")).to_have_count(1)
    expect(dialog.locator("[data-testid=phrase-row]")).to_contain_text("calm down")
    lead.click("#phrases-close")

    customer = Customer(server, name="Bo")
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    assert agent.post(f"/api/agent/tickets/{ticket['id']}/claim").status_code == 200

    page = console(browser, server, "sl-agent")
    page.locator(f"[data-testid=ticket-item][data-ticket-id='{ticket['id']}']").click()
    reply = page.locator("#reply-input")
    expect(reply).to_be_enabled()
    reply.fill("Please calm down, Bo. I'm checking your order.")
    reply.press("Enter")

    warning = page.locator("[data-testid=phrase-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("role", "alert")
    expect(warning.locator("[data-testid=phrase-match]")).to_contain_text("calm down")
    # Nothing was sent: the text is back in the box and no pending bubble is left.
    expect(reply).to_have_value("Please calm down, Bo. I'm checking your order.")
    expect(page.locator("[data-testid=transcript] [data-pending]")).to_have_count(0)
    assert agent_texts(customer) == []
    screenshot(page, "console-service-language-warning")

    warning.get_by_role("button", name="I understand how frustrating this is").click()
    expect(warning).to_be_hidden()
    fixed = "Please I understand how frustrating this is, Bo. I'm checking your order."
    expect(reply).to_have_value(fixed)
    expect(reply).to_be_focused()
    reply.press("Enter")
    eventually(lambda: agent_texts(customer) == [fixed], what="the corrected reply")
    expect(reply).to_have_value("")

    # "Send anyway" sends the reply as written; the report counts it for this agent.
    reply.fill("OK, calm down.")
    reply.press("Enter")
    expect(warning).to_be_visible()
    warning.locator("[data-testid=phrase-send-anyway]").click()
    eventually(lambda: agent_texts(customer)[-1:] == ["OK, calm down."], what="sent anyway")
    expect(warning).to_be_hidden()

    lead.click("[data-testid=phrases-open]")
    row: Any = dialog.locator("[data-testid=phrase-report-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("calm down")
    expect(row).to_contain_text("Wang Fang: 1")
    # Agents read the list, but neither change it nor see the report.
    page.click("[data-testid=phrases-open]")
    expect(page.locator("[data-testid=phrase-row]")).to_have_count(1)
    expect(page.locator("[data-testid=phrases-form]")).to_be_hidden()
    expect(page.locator("[data-testid=phrases-report]")).to_be_hidden()
