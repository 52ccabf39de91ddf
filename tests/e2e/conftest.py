"""A real server on a real port, and Debian's chromium driven by playwright, for end-to-end tests.

The server runs uvicorn in a thread of the test process with the demo knowledge base loaded;
it can be stopped and started again on the same port and database, as a restart would.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from core.db import make_engine
from core.settings import Settings
from kefu import db as migrations
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import DEMO, IN_CI, PASSWORD, need

CHROMIUM = os.environ.get("KEFU_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LiveServer:
    """The kefu app served by uvicorn on 127.0.0.1:<port>; ``restart`` keeps port and data."""

    def __init__(self, settings: Settings, embedder: SentenceEmbedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        app = create_app(self.settings, embedder=self.embedder)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws="websockets"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self._server = None
        self._thread = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def staff(self, username: str, role: str = "agent", **profile: Any) -> httpx.Client:
        """A logged-in staff HTTP client; the account is created through the admin API."""
        admin = self.admin()
        response = admin.post(
            "/api/admin/users",
            json={"username": username, "password": PASSWORD, "role": role, **profile},
        )
        assert response.status_code in (201, 409), response.text
        if profile and response.status_code == 409:
            admin.put(f"/api/agent/agents/{username}", json=profile).raise_for_status()
        return log_in(self.url, username)

    def admin(self) -> httpx.Client:
        return log_in(self.url, "admin")


def log_in(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def wait_for_intents(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        intents = httpx.get(f"{url}/healthz").json()["intents"]
        if intents["model"] and not intents["training"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"the intent model was not trained within {timeout} s")


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """A served app on SQLite with the demo knowledge base and an admin account."""
    from core.db import session_scope
    from core.staff import Role, create_user

    root = tmp_path_factory.mktemp("live")
    settings = Settings(
        data_dir=root / "var",
        database_url=f"sqlite:///{root / 'kefu.db'}",
        first_response_seconds=30,
        _env_file=None,
    )
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    with session_scope(engine) as session:
        create_user(session, username="admin", password=PASSWORD, role=Role.admin)
    engine.dispose()
    server = LiveServer(settings, embedder)
    server.start()
    admin = server.admin()
    for path in sorted(DEMO.glob("*.yaml")):
        with path.open("rb") as handle:
            admin.post(
                "/api/admin/kb/import", files={"file": (path.name, handle)}
            ).raise_for_status()
    wait_for_intents(server.url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    found = Path(CHROMIUM).exists() or shutil.which("chromium") is not None
    need(found, f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield instance
        instance.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot as a test artifact under var/test-artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


__all__ = ["IN_CI", "LiveServer", "free_port", "log_in", "screenshot", "wait_for_intents"]
