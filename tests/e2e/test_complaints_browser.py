"""Complaints in the agent console, in chromium: an agent marks the open chat a complaint, sees
its clock in the header and in the register, and resolves it with a root cause."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import LiveServer, assigned_to, screenshot, signed_in
from tests.handoff.desk_helpers import Customer, go_online
from tests.live import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("complaints")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'kefu.db'}", _env_file=None
    )
    with serve(settings, embedder) as server:
        yield server


def test_an_agent_marks_and_resolves_a_complaint(browser: Browser, live_server: LiveServer) -> None:
    staff = live_server.staff("complaint-browser", "agent", languages=["en"])
    go_online(staff)
    customer = Customer(live_server, name="Ada", language="en")
    customer.say("The courier threw my parcel over the fence and it broke")
    customer.ask_for_person()

    ticket_id = assigned_to(staff, customer.id)
    page = signed_in(browser, live_server, "complaint-browser")
    page.locator(f"[data-testid=mine-list] [data-ticket-id='{ticket_id}']").click()

    page.click("[data-testid=complaint-mark]")
    page.select_option("[data-testid=complaint-level]", "urgent")
    page.select_option("[data-testid=complaint-category]", "delivery")
    page.fill("[data-testid=complaint-summary]", "parcel thrown over the fence")
    page.click("[data-testid=complaint-submit]")

    badge = page.locator("[data-testid=complaint-badge]")
    expect(badge).to_contain_text("Complaint · Urgent · 23 h")
    item = page.locator("[data-testid=complaints-list] [data-testid=complaint-item]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Ada")
    expect(item).to_contain_text("delivery")
    expect(page.locator("[data-testid=complaint-mark]")).to_be_hidden()
    expect(page.locator("[data-testid=transcript]")).to_contain_text("Marked a complaint (urgent")
    screenshot(page, "console-complaint")

    page.click("[data-testid=complaint-resolve]")
    page.select_option("[data-testid=resolve-cause]", "logistics")
    page.fill("[data-testid=resolve-text]", "Sent a new one by express, with an apology")
    page.click("[data-testid=resolve-submit]")
    expect(badge).to_contain_text("Complaint resolved · logistics · on time")
    expect(item).to_have_count(0)
    # The customer saw none of it.
    assert not [e for e in customer.events() if e["type"].startswith("complaint.")]

    # The register in numbers, in the admin console's analytics.
    live_server.staff("complaint-admin", "admin")
    admin = signed_in(browser, live_server, "complaint-admin", "/admin")
    admin.click("[data-testid=tab-analytics]")
    expect(admin.locator("[data-testid=tile-complaints-urgent]")).to_have_text("100%")
    expect(admin.locator("[data-testid=tile-complaints-urgent-sub]")).to_have_text("1 of 1 on time")
    expect(admin.locator("[data-testid=complaint-categories]")).to_contain_text("delivery")
    expect(admin.locator("[data-testid=complaint-causes]")).to_contain_text("logistics")
    admin.locator("[data-testid=complaint-report]").scroll_into_view_if_needed()
    screenshot(admin, "admin-complaint-report")
