"""Real ``kefu serve`` processes sharing one database and broker, as a deployment runs them.

Each process has its own data directory (its own index generations and intent models), so
nothing they agree on can come from a shared disk: only from the database and the broker.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

from core.db import make_engine, session_scope
from core.settings import Settings
from core.staff import Role, create_user
from kefu import db as migrations
from tests.cli_runner import KEFU, kefu_env
from tests.conftest import PASSWORD
from tests.live import free_port, log_in

__all__ = ["ServerProcess", "ask", "prepare_database", "running", "server_processes"]


class ServerProcess:
    """``kefu serve`` on 127.0.0.1:<port> in its own process, with its own data directory
    (``var-<name>``); its output goes to ``<name>.log``. ``env`` adds ``KEFU_*`` settings."""

    def __init__(self, settings: Settings, name: str, **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = settings.data_dir.parent / f"var-{name}"
        self.log = settings.data_dir.parent / f"{name}.log"
        self.env = kefu_env(
            settings,
            KEFU_DATA_DIR=str(self.data_dir),
            # Everything reaches the log even if the process dies: unbuffered output, and a
            # Python traceback of every thread on a native crash.
            PYTHONUNBUFFERED="1",
            PYTHONFAULTHANDLER="1",
            **env,
        )
        self._process: subprocess.Popen[bytes] | None = None
        self._clients: list[httpx.Client] = []

    def start(self, timeout: float = 300) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting for it: several launched together start in
        parallel."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(KEFU), "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.data_dir.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 300) -> None:
        """Until ``/healthz`` answers. Generous: a loaded two-core machine loads models slowly."""
        assert self._process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise RuntimeError(
                    f"{self.name} exited with {code}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer /healthz within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        assert self._process.wait(timeout=30) == -signal.SIGKILL
        self._process = None

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=30)
        self._process = None

    def http(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30)
        self._clients.append(client)
        return client

    def log_in(self, username: str) -> httpx.Client:
        return log_in(self.http(), username)

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/healthz", timeout=10).json()
        return body


def prepare_database(settings: Settings) -> None:
    """Migrate and create the ``admin`` account (password ``PASSWORD``)."""
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    with session_scope(engine) as session:
        create_user(session, username="admin", password=PASSWORD, role=Role.admin)
    engine.dispose()


@contextmanager
def running(
    settings: Settings, *names: str, env: dict[str, str] | None = None, together: bool = True
) -> Iterator[list[ServerProcess]]:
    """One process per name on an already prepared database, with ``env``'s ``KEFU_*``
    settings, stopped when the block ends; launched ``together`` (their starts overlap) or each
    once the one before is ready."""
    servers = [ServerProcess(settings, name, **(env or {})) for name in names]
    with ExitStack() as stack:
        for server in servers:
            stack.callback(server.stop)
            server.launch()
            if not together:
                server.wait_ready()
        for server in servers:
            server.wait_ready()
        yield servers


@contextmanager
def server_processes(
    settings: Settings, names: tuple[str, ...] = ("a", "b"), **env: str
) -> Iterator[list[ServerProcess]]:
    """Prepare the database, then run one process per name on it."""
    prepare_database(settings)
    with running(settings, *names, env=env, together=False) as servers:
        yield servers


def ask(server: ServerProcess, text: str) -> dict[str, Any]:
    """A new customer's question to ``server``'s bot, and the bot's reply (its payload)."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        started = client.post("/api/chat/conversations", json={"language": "en"}).json()
        response = client.post(
            f"/api/chat/conversations/{started['conversation_id']}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {started['token']}"},
        )
    assert response.status_code == 200, response.text
    messages = [e for e in response.json()["replies"] if e["type"] == "message"]
    assert messages, response.text
    payload: dict[str, Any] = messages[0]["payload"]
    return payload
