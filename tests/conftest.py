"""Shared fixtures: a real database per test (SQLite, and PostgreSQL when configured), a real
embedding model loaded once per session, and the app built through its own factory."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import select

from core.db import make_engine, session_scope
from core.settings import DEFAULT_EMBEDDING_MODEL, Settings
from core.staff import Role, StaffUser, create_user
from kefu import db as migrations
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("KEFU_TEST_DATABASE_URL", "")

# The suite plays many customers from one address ("testclient", 127.0.0.1) within seconds,
# which real abuse limits rightly refuse. Every server a test starts (in this process: through
# the environment; `kefu serve` children: tests/cli_runner.py, deploy clusters: their env) gets
# these instead; tests of the limits set their own (tests/bot/test_abuse_limits.py).
GENEROUS_LIMITS = {
    f"KEFU_LIMIT_{name}": "100000/minute"
    for name in (
        "CONVERSATIONS_PER_ADDRESS",
        "REQUESTS_PER_ADDRESS",
        "MESSAGES_PER_CONVERSATION",
        "MESSAGES_PER_ADDRESS",
        "RATINGS_PER_CONVERSATION",
        "RATINGS_PER_ADDRESS",
        "OFFLINE_MESSAGES_PER_CONVERSATION",
        "OFFLINE_MESSAGES_PER_ADDRESS",
        "MESSAGES_PER_CHANNEL",
    )
}
for _name, _limit in GENEROUS_LIMITS.items():
    os.environ.setdefault(_name, _limit)


def need(condition: bool, reason: str) -> None:
    """Skip locally when a real service is missing; under CI a missing service is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: nothing may skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder(DEFAULT_EMBEDDING_MODEL)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kefu.db'}"
        return
    need(bool(POSTGRES_URL), "KEFU_TEST_DATABASE_URL is not set")
    schema, url = _new_postgres_schema()
    yield url
    _execute_on_postgres(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url=database_url, _env_file=None)


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    engine.dispose()
    return settings


PASSWORD = "correct horse battery"


def log_in(client: TestClient, role: Role = Role.admin, username: str | None = None) -> None:
    """Create the account if needed and log in through the API; the client keeps the cookie."""
    username = username or f"{role}-tester"
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        if session.exec(select(StaffUser).where(StaffUser.username == username)).first() is None:
            create_user(session, username=username, password=PASSWORD, role=role)
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]


@contextmanager
def staff_client(
    settings: Settings, embedder: SentenceEmbedder, role: Role = Role.admin
) -> Iterator[TestClient]:
    """The app, started, with a staff member of ``role`` logged in."""
    with TestClient(create_app(settings, embedder=embedder)) as test_client:
        log_in(test_client, role)
        yield test_client


@pytest.fixture
def client(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    with staff_client(migrated, embedder) as test_client:
        yield test_client


DEMO = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo"


def wait_for_retraining(client: TestClient, timeout: float = 120) -> None:
    """Intent edits retrain in the background; wait until none is running."""
    deadline = time.monotonic() + timeout
    while client.get("/healthz").json()["intents"]["training"]:
        assert time.monotonic() < deadline, f"intent retraining did not finish within {timeout} s"
        time.sleep(0.05)


def load_demo(client: TestClient) -> None:
    """Import the demo knowledge base over HTTP and wait until the intent and answer models are
    trained on it."""
    for path in sorted(DEMO.glob("*.yaml")):
        with path.open("rb") as handle:
            response = client.post("/api/admin/kb/import", files={"file": (path.name, handle)})
        assert response.status_code == 200, response.text
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        health = client.get("/healthz").json()
        intents, answers = health["intents"], health["answers"]
        if intents["model"] and not intents["training"] and answers["model"] and answers["current"]:
            return
        time.sleep(0.1)
    raise AssertionError("the intent and answer models were not trained within 300 s")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def demo_client(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    embedder: SentenceEmbedder,
) -> Iterator[TestClient]:
    """One app per module and backend with the demo loaded; tests use their own conversations."""
    root = tmp_path_factory.mktemp("demo")
    if request.param == "sqlite":
        url, schema = f"sqlite:///{root / 'kefu.db'}", None
    else:
        need(bool(POSTGRES_URL), "KEFU_TEST_DATABASE_URL is not set")
        schema, url = _new_postgres_schema()
    settings = Settings(data_dir=root / "var", database_url=url, _env_file=None)
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    with staff_client(settings, embedder) as test_client:
        load_demo(test_client)
        yield test_client
    if schema:
        _execute_on_postgres(f'DROP SCHEMA "{schema}" CASCADE')


def _new_postgres_schema() -> tuple[str, str]:
    """A fresh, empty schema, and a database URL whose search path points at it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _execute_on_postgres(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    return schema, f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_database(backend: str, root: Path) -> Iterator[str]:
    """A new, empty database for one server: a SQLite file under ``root``, or (``postgres``) a
    PostgreSQL schema of its own, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{root / 'kefu.db'}"
        return
    need(bool(POSTGRES_URL), "KEFU_TEST_DATABASE_URL is not set")
    schema, url = _new_postgres_schema()
    try:
        yield url
    finally:
        _execute_on_postgres(f'DROP SCHEMA "{schema}" CASCADE')


def _execute_on_postgres(statement: str) -> None:
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(statement))
    admin.dispose()
