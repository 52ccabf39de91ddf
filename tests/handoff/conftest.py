"""A desk server per test, on SQLite and PostgreSQL, with the settings the test asks for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import pytest

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.live import LiveServer, serve

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
