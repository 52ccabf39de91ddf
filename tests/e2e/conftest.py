"""End-to-end fixtures: a served app with the demo knowledge base, and Debian's chromium driven
by playwright (launched through ``executable_path``; playwright's own download does not work
here)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD, need
from tests.live import LiveServer, load_demo, serve

CHROMIUM = os.environ.get("KEFU_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Set to 1 to refresh the screenshots the documentation shows; otherwise tests leave docs alone.
UPDATE_DOCS = os.environ.get("KEFU_UPDATE_SCREENSHOTS") == "1"

__all__ = [
    "ARTIFACTS",
    "LiveServer",
    "assigned_to",
    "desk_only",
    "eventually",
    "screenshot",
    "signed_in",
]
T = TypeVar("T")


@contextmanager
def desk_only(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: SentenceEmbedder,
    name: str,
    **changes: Any,
) -> Iterator[LiveServer]:
    """A served app on SQLite with no knowledge base, where agents pull their chats (so a
    ticket stays queued until someone claims it): for tests about the desk alone."""
    root = tmp_path_factory.mktemp(name)
    settings = Settings(
        data_dir=root / "var",
        database_url=f"sqlite:///{root / 'kefu.db'}",
        _env_file=None,
        **{"assignment": "pull", **changes},
    )
    with serve(settings, embedder) as server:
        yield server


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """A served app on SQLite with the demo knowledge base and an ``admin`` account."""
    root = tmp_path_factory.mktemp("live")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'kefu.db'}", _env_file=None
    )
    with serve(settings, embedder) as server:
        load_demo(server)
        yield server


def _chromium() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium()
    need(
        executable is not None, f"chromium is not installed ({CHROMIUM}); apt-get install chromium"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield instance
        instance.close()


def screenshot(page: Any, name: str, *, docs: bool = False) -> Path:
    """Save a screenshot as a test artifact under var/test-artifacts/; with ``docs``, also as
    docs/screenshots/<name>.png when KEFU_UPDATE_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if docs and UPDATE_DOCS:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}.png")
    return path


def eventually(probe: Callable[[], T | None], what: str = "condition", timeout: float = 15) -> T:
    """Poll ``probe`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def signed_in(browser: Any, server: LiveServer, username: str, path: str = "/console") -> Any:
    """A page of its own browser context at ``path`` (a staff page), signed in as ``username``."""
    page = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=server.url
    ).new_page()
    page.goto(path)
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    return page


def assigned_to(staff: Any, conversation_id: str) -> int:
    """The id of the ticket the desk assigned to ``staff`` for this conversation, once it has."""

    def mine() -> int | None:
        tickets = staff.get("/api/agent/tickets", params={"view": "mine"}).json()["tickets"]
        return next((t["id"] for t in tickets if t["conversation_id"] == conversation_id), None)

    return int(eventually(mine, what="the chat assigned to the agent"))
