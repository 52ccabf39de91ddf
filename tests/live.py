"""A kefu server on a real port: uvicorn in a thread of the test process.

It can be stopped and started again on the same port and database, as a restart would. Staff
accounts are created through the admin API and each gets its own logged-in HTTP client.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from core.db import make_engine, session_scope
from core.settings import Settings
from core.staff import Role, create_user
from kefu import db as migrations
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import DEMO, PASSWORD

__all__ = ["LiveServer", "free_port", "load_demo", "log_in", "serve", "wait_for_intents"]


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
        self._clients: list[httpx.Client] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        app = create_app(self.settings, embedder=self.embedder)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws="websockets-sansio"
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

    def http(self) -> httpx.Client:
        """An HTTP client for this server, closed when the server's block ends."""
        client = httpx.Client(base_url=self.url, timeout=30)
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

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
        return self.log_in(username)

    def admin(self) -> httpx.Client:
        return self.log_in("admin")

    def log_in(self, username: str) -> httpx.Client:
        return log_in(self.http(), username)


def log_in(client: httpx.Client, username: str) -> httpx.Client:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def wait_for_intents(url: str, timeout: float = 300) -> None:
    """Until the intent model and the answer model are trained on the knowledge base as it is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = httpx.get(f"{url}/healthz", timeout=30).json()
        intents, answers = health["intents"], health["answers"]
        if intents["model"] and not intents["training"] and answers["current"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"the intent and answer models were not trained within {timeout} s")


@contextmanager
def serve(settings: Settings, embedder: SentenceEmbedder) -> Iterator[LiveServer]:
    """Migrate, create the ``admin`` account, and serve until the block ends."""
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    with session_scope(engine) as session:
        create_user(session, username="admin", password=PASSWORD, role=Role.admin)
    engine.dispose()
    server = LiveServer(settings, embedder)
    server.start()
    try:
        yield server
    finally:
        server.close_clients()
        server.stop()


def load_demo(server: LiveServer) -> None:
    """Import the demo knowledge base over HTTP and wait for the intent and answer models."""
    admin = server.admin()
    for path in sorted(DEMO.glob("*.yaml")):
        with path.open("rb") as handle:
            # Embedding a file's phrasings is slow on a loaded two-core machine.
            response = admin.post(
                "/api/admin/kb/import", files={"file": (path.name, handle)}, timeout=300
            )
        response.raise_for_status()
    wait_for_intents(server.url)
