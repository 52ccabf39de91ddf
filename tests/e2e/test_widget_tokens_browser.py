"""The widget and its expiring token, in a real browser against a live server.

A tab whose clock says half the token's life has passed rotates it before connecting; the other
tab's socket, closed by the rotation, takes the new token; an expired token starts a new
conversation and the message that found it expired goes there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import eventually
from tests.e2e.test_widget_browser import (
    ask,
    context,
    last_message,
    messages,
    open_store,
    stored_conversation,
    watch,
)
from tests.live import LiveServer, serve

__all__ = ["context"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHORT_TTL_SECONDS = 4.0


def events_status(url: str, cid: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{url}/api/chat/conversations/{cid}/events",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def server(root: Path, embedder: SentenceEmbedder, **options: Any) -> Iterator[LiveServer]:
    """A served app with an empty knowledge base: the bot's fallback answers are enough here."""
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'kefu.db'}", _env_file=None
    )
    with serve(settings.model_copy(update=options), embedder) as live:
        yield live


@pytest.fixture(scope="module")
def plain_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    yield from server(tmp_path_factory.mktemp("plain"), embedder)


@pytest.fixture(scope="module")
def short_lived_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """Customer tokens that live a few seconds."""
    yield from server(
        tmp_path_factory.mktemp("short"),
        embedder,
        customer_token_ttl_days=SHORT_TTL_SECONDS / 86400,
    )


def chat(page: Page, text: str, replies: int) -> None:
    """Send, see it stored (acknowledged), and see the bot's reply count reach ``replies``."""
    ask(page, text)
    expect(last_message(page, "customer")).to_have_attribute("data-state", "sent")
    expect(messages(page, "bot")).to_have_count(replies)


def test_a_rotation_in_one_tab_keeps_both_tabs_chatting(
    plain_server: LiveServer, context: BrowserContext
) -> None:
    url = plain_server.url
    page = context.new_page()
    errors = watch(page)
    open_store(page, url)
    chat(page, "hello", 1)
    first = stored_conversation(page, url)
    half_life = datetime.fromtimestamp(first["rotate"] / 1000, UTC) - datetime.now(UTC)
    assert timedelta(days=14) < half_life < timedelta(days=16)

    # A second tab whose clock is sixteen days ahead: the token is due for rotation.
    later = context.new_page()
    errors += watch(later)
    later.clock.set_system_time(datetime.now(UTC) + timedelta(days=16))
    open_store(later, url)

    def rotated() -> dict[str, Any] | None:
        data = stored_conversation(later, url)
        return data if data["token"] != first["token"] else None

    second = eventually(rotated, "the second tab to rotate the token")
    assert second["cid"] == first["cid"]
    assert second["rotate"] > first["rotate"]
    expect(later.locator("[data-testid=kefu-status]")).to_have_attribute("data-status", "connected")
    # The old token is refused at once; the new one reads the whole conversation.
    assert events_status(url, first["cid"], first["token"]).status_code == 401
    assert events_status(url, second["cid"], second["token"]).status_code == 200

    # The first tab's socket was closed by the rotation; it took the new token and chats on.
    chat(page, "is anybody there?", 2)
    expect(page.locator("[data-testid=kefu-status]")).to_have_attribute("data-status", "connected")
    chat(later, "one more question", 3)
    expect(messages(page, "bot")).to_have_count(3)
    for tab in (page, later):
        expect(tab.get_by_text("no longer available")).to_have_count(0)
    assert stored_conversation(page, url)["cid"] == first["cid"]
    assert errors == []


def test_an_expired_token_starts_a_new_conversation_with_the_message(
    short_lived_server: LiveServer, context: BrowserContext
) -> None:
    url = short_lived_server.url
    page = context.new_page()
    errors = watch(page)
    open_store(page, url)
    ask(page, "hello there")
    expect(last_message(page, "customer")).to_have_attribute("data-state", "sent")
    first = stored_conversation(page, url)
    eventually(
        lambda: events_status(url, first["cid"], first["token"]).status_code == 401,
        "the token to expire",
        timeout=5 * SHORT_TTL_SECONDS,
    )
    assert (
        events_status(url, first["cid"], first["token"]).json()["error"]["code"] == "token_expired"
    )

    ask(page, "are you still there?")
    expect(page.get_by_text("no longer available")).to_be_visible()
    resent = last_message(page, "customer")
    expect(resent).to_contain_text("are you still there?")
    expect(resent).to_have_attribute("data-state", "sent")
    second = stored_conversation(page, url)
    assert second["cid"] != first["cid"]
    texts = [
        e["payload"].get("text")
        for e in events_status(url, second["cid"], second["token"]).json()["events"]
        if e["author"] == "customer"
    ]
    assert texts == ["are you still there?"]
    assert errors == []
