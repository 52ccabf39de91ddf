"""A desk server per test, on SQLite and PostgreSQL, with the settings the test asks for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.handoff.mail_relay import Relay
from tests.live import LiveServer, free_port, serve

ServerFactory = Callable[..., LiveServer]


@pytest.fixture
def desk(settings: Settings, embedder: SentenceEmbedder) -> Iterator[ServerFactory]:
    """``desk(assignment="pull", ...)`` serves the app with those settings changed."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> LiveServer:
            changed = settings.model_copy(update={"handoff_tick_seconds": 0.2, **overrides})
            running: AbstractContextManager[LiveServer] = serve(changed, embedder)
            return stack.enter_context(running)

        yield start


@pytest.fixture
def relay() -> Iterator[tuple[Relay, str]]:
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()
