"""Channel fixtures: a served app with the demo knowledge base, on SQLite and PostgreSQL, and API
channels made through the admin API, with their secrets, to send messages as an app does."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import fresh_database
from tests.live import LiveServer, load_demo, serve

CHANNELS = "/api/admin/channels"
_SERIAL = itertools.count(1)


@dataclass
class ApiChannel:
    """An API channel as its app knows it: the name and the secrets shown at creation."""

    server: LiveServer
    admin: httpx.Client
    record: dict[str, Any]
    secret: str
    signing_secret: str
    app: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.app = self.server.http()

    @property
    def name(self) -> str:
        return str(self.record["name"])

    @property
    def id(self) -> int:
        return int(self.record["id"])

    def send(
        self,
        contact: str | dict[str, Any],
        text: Any = "hello",
        *,
        key: str | None = None,
        secret: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """POST a message as the app would; ``secret`` overrides the channel's (``""``: none)."""
        body = {"contact": contact if isinstance(contact, dict) else {"id": contact}}
        body |= {"text": text, **extra}
        return self.app.post(
            f"/api/channels/{self.name}/messages", json=body, headers=self._headers(secret, key)
        )

    def say(self, contact: str | dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
        response = self.send(contact, text, **extra)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def events(self, contact: str, after: int = 0, *, secret: str | None = None) -> httpx.Response:
        return self.app.get(
            f"/api/channels/{self.name}/contacts/{contact}/events",
            params={"after": after},
            headers=self._headers(secret, None),
        )

    def _headers(self, secret: str | None, key: str | None) -> dict[str, str]:
        token = self.secret if secret is None else secret
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return headers | ({"Idempotency-Key": key} if key is not None else {})


ChannelFactory = Callable[..., ApiChannel]


def create_channel(server: LiveServer, admin: httpx.Client, **body: Any) -> ApiChannel:
    """An API channel made through the admin API (``body`` overrides the name and the rest)."""
    body = {"name": f"app-{next(_SERIAL)}", "kind": "api", **body}
    response = admin.post(CHANNELS, json=body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    secret, signing = record.pop("secret"), record.pop("signing_secret")
    return ApiChannel(server, admin, record, secret, signing)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def channel_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    embedder: SentenceEmbedder,
) -> Iterator[LiveServer]:
    """One served app per module and backend, with the demo knowledge base."""
    root = tmp_path_factory.mktemp("channels")
    with fresh_database(request.param, root) as url:
        settings = Settings(
            data_dir=root / "var", database_url=url, handoff_tick_seconds=0.2, _env_file=None
        )
        with serve(settings, embedder) as server:
            load_demo(server)
            yield server


@pytest.fixture
def channel_factory(channel_server: LiveServer) -> ChannelFactory:
    """``channel_factory(webhook_url=...)``: a new API channel on the module's server."""
    admin = channel_server.admin()
    return lambda **body: create_channel(channel_server, admin, **body)


@pytest.fixture
def api_channel(channel_factory: ChannelFactory) -> ApiChannel:
    return channel_factory()
