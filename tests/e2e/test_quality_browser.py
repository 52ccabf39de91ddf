"""Quality review in chromium: a supervisor samples a closed chat in the admin console's
Quality tab and scores it beside its transcript; the agent reads the review on their reviews
page; the score is on the scorecard. The staff pages are in English, the rubric's criteria
carry their Chinese names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import LiveServer, desk_only, screenshot, signed_in
from tests.handoff.desk_helpers import go_online
from tests.handoff.test_quality_review import closed_chat, demo_criteria

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    with desk_only(tmp_path_factory, embedder, "quality") as server:
        yield server


def test_a_supervisor_scores_a_chat_and_the_agent_reads_it(
    browser: Browser, live_server: LiveServer
) -> None:
    admin = live_server.admin()
    admin.put("/api/agent/quality/rubric", json={"criteria": demo_criteria()}).raise_for_status()
    agent = live_server.staff("qa-agent", "agent", display_name="Wang Fang")
    live_server.staff("qa-lead", "supervisor", display_name="Lead Li")
    go_online(agent)
    customer, _ = closed_chat(live_server, agent, csat=2)

    # The supervisor gets the tabs a supervisor may use, and samples the agent's chats.
    page = signed_in(browser, live_server, "qa-lead", "/admin#quality")
    expect(page.locator("[data-testid=tab-quality]")).to_have_attribute("aria-selected", "true")
    expect(page.locator("[data-testid=tab-kb]")).to_be_hidden()
    expect(page.locator("[data-testid=tab-analytics]")).to_be_visible()
    page.select_option("[data-testid=quality-agent]", "qa-agent")
    page.fill("[data-testid=quality-size]", "3")
    page.click("[data-testid=quality-sample]")
    expect(page.locator("[data-testid=quality-sample-result]")).to_contain_text("Sampled 1 of 1")
    row = page.locator(f"[data-testid=quality-pending-row][data-conversation='{customer.id}']")
    expect(row).to_contain_text("Wang Fang")
    row.click()

    # The transcript beside the rubric, its criteria named in English and Chinese.
    panel = page.locator("[data-testid=quality-review]")
    expect(panel.locator("[data-testid=quality-transcript]")).to_contain_text(
        "Hello, let me check that for you."
    )
    criteria = panel.locator("[data-testid=quality-criterion]")
    expect(criteria).to_have_count(5)
    expect(criteria.first).to_contain_text("Greeting · 问候")
    expect(panel).to_contain_text("Accuracy of the answer · 答复准确")
    screenshot(page, "admin-quality-review")
    # Submitting with criteria unscored is refused, and says which.
    page.click("[data-testid=quality-submit]")
    expect(page.locator("[data-testid=quality-score-error]")).to_contain_text("0-4")
    for key, points in (
        ("greeting", 2),
        ("understanding", 3),
        ("accuracy", 4),
        ("tone", 2),
        ("resolution", 4),
    ):
        page.click(f"label[for=quality-{key}-{points}]")
    expect(page.locator("[data-testid=quality-total]")).to_have_text("Score 84.2%")
    page.fill("[data-testid=quality-comment]", "Clear answer; greet the customer by name.")
    screenshot(page, "admin-quality-scoring")
    page.click("[data-testid=quality-submit]")
    submitted = page.locator("[data-testid=quality-submitted-row][data-agent=qa-agent]")
    expect(submitted).to_contain_text("84.2%")
    expect(page.locator("[data-testid=quality-pending-row]")).to_have_count(0)
    expect(page.locator("[data-testid=quality-submit]")).to_be_hidden()

    # The review joins the scorecard.
    page.click("[data-testid=tab-analytics]")
    card = page.locator("[data-testid=scorecard-row][data-agent=qa-agent]")
    expect(card.locator("[data-testid=scorecard-review-score]")).to_have_text("84.2%")
    expect(card.locator("[data-testid=scorecard-reviews]")).to_have_text("1")

    # The agent reads it from the console's top bar.
    console = signed_in(browser, live_server, "qa-agent")
    console.click("[data-testid=reviews-link]")
    expect(console).to_have_url(f"{live_server.url}/console/reviews")
    review = console.locator("[data-testid=review-card]")
    expect(review).to_have_count(1)
    expect(review.locator("[data-testid=review-score]")).to_have_text("84.2%")
    expect(review).to_contain_text("Reviewed by Lead Li")
    expect(review).to_contain_text("语气与服务用语")
    expect(review.locator("[data-testid=review-comment]")).to_have_text(
        "Clear answer; greet the customer by name."
    )
    expect(console.locator("[data-testid=reviews-mean]")).to_have_text("84.2%")
    screenshot(console, "reviews-page")

    # An admin edits the rubric: a bad edit is refused and saves nothing; a good one is a new
    # version, and the review keeps the version it was scored against.
    editor = signed_in(browser, live_server, "admin", "/admin#quality")
    version = editor.locator("[data-testid=quality-rubric-version]")
    expect(version).to_have_text("v1")
    expect(editor.locator("[data-testid=rubric-row]")).to_have_count(5)
    editor.click("[data-testid=quality-rubric-add]")
    added = editor.locator("[data-testid=rubric-row]").last
    added.locator("[data-field=key]").fill("greeting")
    added.locator("[data-field=name]").fill("Empathy")
    editor.click("[data-testid=quality-rubric-save]")
    expect(editor.locator("[data-testid=quality-rubric-error]")).to_contain_text("greeting")
    expect(version).to_have_text("v1")
    added.locator("[data-field=key]").fill("empathy")
    added.locator("[data-field=name_zh]").fill("同理心")
    editor.click("[data-testid=quality-rubric-save]")
    expect(version).to_have_text("v2")
    expect(editor.locator("[data-testid=rubric-row][data-key=empathy]")).to_have_count(1)
    editor.locator("#quality-rubric-card").scroll_into_view_if_needed()
    screenshot(editor, "admin-quality-rubric")
    console.reload()
    expect(review.locator("[data-testid=review-criterion]")).to_have_count(5)
    expect(review).to_contain_text("rubric v1")
