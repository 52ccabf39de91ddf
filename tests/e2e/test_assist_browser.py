"""Agent assist in the console, in chromium: the customer asks about a refund, the console
suggests the refund answer first, one click puts it in the reply box, and the customer gets it;
a new question brings new suggestions; the use is counted for supervisors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import LiveServer, assigned_to, screenshot, signed_in
from tests.handoff.desk_helpers import Customer, go_online, wait_until
from tests.live import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=15_000)

REFUND = "Refunds go back to your card within 5 business days of receiving the return."
SHIPPING = "Orders arrive in 3 to 5 business days."


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("assist")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'kefu.db'}", _env_file=None
    )
    with serve(settings, embedder) as server:
        admin = server.admin()
        for question, alternatives, answer in (
            ("How do I get a refund?", ["I want my money back"], REFUND),
            ("How long does shipping take?", ["When will my parcel arrive?"], SHIPPING),
            ("How do I reset my password?", ["I forgot my password"], "Use Forgot password."),
        ):
            created = admin.post(
                "/api/admin/kb/faqs",
                json={
                    "question": question,
                    "alternatives": alternatives,
                    "answer": answer,
                    "language": "en",
                    "status": "published",
                },
            )
            assert created.status_code == 201, created.text
        yield server


def test_an_agent_inserts_a_suggested_answer(browser: Browser, live_server: LiveServer) -> None:
    staff = live_server.staff("assist-browser", "agent", languages=["en"])
    go_online(staff)
    customer = Customer(live_server, name="Ada", language="en")
    customer.ask_for_person()

    ticket_id = assigned_to(staff, customer.id)
    customer.say("I want my money back, the shoes don't fit")

    page = signed_in(browser, live_server, "assist-browser")
    page.locator(f"[data-testid=mine-list] [data-ticket-id='{ticket_id}']").click()

    suggestions = page.locator("[data-testid=assist] [data-testid=assist-suggestion]")
    expect(suggestions.first).to_contain_text("How do I get a refund?")
    expect(suggestions.first).to_have_attribute("data-kind", "faq")
    # Entries the bot would not even offer as a "did you mean" are not suggested either.
    expect(page.locator("[data-testid=assist]")).not_to_contain_text("reset my password")
    screenshot(page, "console-assist")

    suggestions.first.click()
    expect(page.locator("#reply-input")).to_have_value(REFUND)
    page.click("#reply-send")
    wait_until(
        lambda: any(e["payload"].get("text") == REFUND for e in customer.events()),
        what="the suggested answer reaching the customer",
    )

    # A new question from the customer brings its own suggestions.
    customer.say("When will my other parcel arrive?")
    expect(suggestions.first).to_contain_text("How long does shipping take?")

    supervisor = live_server.staff("assist-lead", "supervisor")
    report = supervisor.get("/api/agent/assist/usage").json()
    assert report["total"] == 1
    assert report["items"][0]["title"] == "How do I get a refund?"
