"""The follow-up survey in the widget, in a real browser: a customer whose chat closed days ago
comes back, opens the widget, and is asked whether the problem stayed solved (English and
Chinese). The days pass in the database: the chat's close is moved into the past."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from core.clock import utcnow
from core.db import make_engine
from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import screenshot, signed_in
from tests.e2e.test_widget_browser import (
    ask,
    last_message,
    new_context,
    open_store,
    stored_conversation,
    watch,
)
from tests.live import LiveServer, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """An empty knowledge base: the bot's fallback is enough to have talked."""
    root = tmp_path_factory.mktemp("follow-up")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'kefu.db'}", _env_file=None
    )
    with serve(settings, embedder) as live:
        yield live


def closed_days_ago(server: LiveServer, conversation_id: str, days: float) -> None:
    engine = make_engine(server.settings.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE conversation SET closed_at = :then WHERE id = :cid"),
            {"then": utcnow() - timedelta(days=days), "cid": conversation_id},
        )
    engine.dispose()


def talk_and_end(page: Page, server: LiveServer, question: str) -> dict[str, str]:
    open_store(page, server.url)
    ask(page, question)
    expect(last_message(page, "customer")).to_have_attribute("data-state", "sent")
    page.locator("[data-testid=kefu-end]").click()
    page.locator("[data-testid=kefu-end-confirm]").click()
    expect(page.locator("[data-testid=kefu-new-chat]")).to_be_visible()
    return stored_conversation(page, server.url)


@pytest.mark.parametrize(
    ("locale", "question", "answer", "thanks"),
    [
        ("en-US", "Where is my parcel?", "not_solved", "Our team has been told"),
        ("zh-CN", "我的包裹还没到", "solved", "很高兴问题已经解决"),
    ],
)
def test_a_returning_customer_is_asked_if_the_problem_stayed_solved(
    server: LiveServer, browser: Browser, locale: str, question: str, answer: str, thanks: str
) -> None:
    page = new_context(browser, locale=locale, reduced_motion="reduce").new_page()
    errors = watch(page)
    conversation = talk_and_end(page, server, question)
    # Closed just now: nothing to ask.
    expect(page.locator("[data-testid=kefu-follow-up]")).to_have_count(0)

    closed_days_ago(server, conversation["cid"], 3.1)
    # A supervisor's console is told at once when a customer says the problem came back.
    server.staff("follow-up-lead", "supervisor")
    lead = signed_in(browser, server, "follow-up-lead")
    expect(lead.locator("[data-testid=connection]")).to_have_attribute("data-state", "connected")
    page.reload()  # the customer comes back days later
    open_store(page, server.url)
    card = page.locator("[data-testid=kefu-follow-up]")
    expect(card).to_be_in_viewport()
    language = locale[:2]
    screenshot(page, f"follow-up-widget-{language}")
    card.locator(f"[data-testid=kefu-follow-up-{answer}]").click()
    expect(page.locator("[data-testid=kefu-follow-up-thanks]")).to_contain_text(thanks)
    told = lead.locator("[data-testid=toast]", has_text="says the problem came back")
    expect(told).to_have_count(1 if answer == "not_solved" else 0)
    screenshot(page, f"follow-up-widget-{language}-answered")

    recorded = httpx.get(
        f"{server.url}/api/chat/conversations/{conversation['cid']}/follow-up",
        headers={"Authorization": f"Bearer {conversation['token']}"},
        timeout=30,
    ).json()["follow_up"]
    assert recorded["answer"] == answer
    # Answered: a later visit does not ask again.
    page.reload()
    open_store(page, server.url)
    expect(page.locator("[data-testid=kefu-new-chat]")).to_be_visible()
    expect(page.locator("[data-testid=kefu-follow-up]")).to_have_count(0)
    assert errors == []
