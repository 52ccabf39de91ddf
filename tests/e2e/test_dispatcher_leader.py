"""On PostgreSQL one process leads the handoff dispatcher; when it dies, the other takes over
and the queue keeps moving."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest

from core.settings import Settings
from tests.conftest import (
    PASSWORD,
    POSTGRES_URL,
    _execute_on_postgres,
    _new_postgres_schema,
    need,
)
from tests.handoff.desk_helpers import agent_socket, go_online, wait_until
from tests.processes import ServerProcess, server_processes

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "")


@pytest.fixture
def settings(tmp_path: os.PathLike[str]) -> Iterator[Settings]:
    need(bool(POSTGRES_URL), "KEFU_TEST_DATABASE_URL is not set")
    need(bool(REDIS_URL), "KEFU_TEST_REDIS_URL is not set")
    schema, url = _new_postgres_schema()
    yield Settings(data_dir=f"{tmp_path}/var", database_url=url, _env_file=None)
    _execute_on_postgres(f'DROP SCHEMA "{schema}" CASCADE')


def leaders(servers: list[ServerProcess]) -> list[str]:
    return [s.name for s in servers if s.health()["dispatcher"]["leader"]]


def test_one_process_leads_and_the_other_takes_over_when_it_dies(settings: Settings) -> None:
    with server_processes(
        settings,
        KEFU_BROKER_URL=REDIS_URL,
        KEFU_HAN_EMBEDDING_MODEL="",
        KEFU_INFERENCE_WORKERS="1",
        KEFU_HANDOFF_TICK_SECONDS="0.2",
    ) as servers:
        (leader,) = wait_until(
            lambda: leaders(servers) if len(leaders(servers)) == 1 else None,
            timeout=30,
            what="exactly one leader",
        )
        # It stays exactly one over many ticks.
        for _ in range(10):
            time.sleep(0.2)
            assert leaders(servers) == [leader]

        dead = next(s for s in servers if s.name == leader)
        survivor = next(s for s in servers if s.name != leader)
        dead.kill()
        wait_until(lambda: survivor.health()["dispatcher"]["leader"], timeout=10, what="takeover")

        # The new leader's dispatcher works: a customer who asks for a person is given the
        # agent who is online, without anyone claiming the chat.
        created = survivor.log_in("admin").post(
            "/api/admin/users", json={"username": "lin", "password": PASSWORD, "role": "agent"}
        )
        assert created.status_code == 201, created.text
        agent = survivor.log_in("lin")
        go_online(agent)
        with agent_socket(survivor.url, agent) as console:
            assert '"ready"' in str(console.recv(timeout=10))
            customer = httpx.Client(base_url=survivor.url, timeout=30)
            started = customer.post("/api/chat/conversations", json={}).json()
            customer.headers["Authorization"] = f"Bearer {started['token']}"
            path = f"/api/chat/conversations/{started['conversation_id']}"
            assert customer.post(f"{path}/handoff").status_code < 300
            wait_until(
                lambda: customer.get(f"{path}/status").json()["state"] == "agent",
                timeout=15,
                what="automatic assignment after the takeover",
            )
            customer.close()
