"""Two real server processes on one PostgreSQL and one Redis agree: a knowledge-base change made
on A is what B's bot answers from within a second, B never answers from an index it knows to
be behind, intent changes retrain B's model, and an agent's consoles are counted across both."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from core.settings import Settings
from tests.cli_runner import KEFU, kefu_env
from tests.conftest import (
    DEMO,
    PASSWORD,
    POSTGRES_URL,
    _execute_on_postgres,
    _new_postgres_schema,
    need,
)
from tests.handoff.desk_helpers import agent_socket, go_online, wait_until
from tests.processes import ServerProcess, ask, server_processes

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "")
AWAY_AFTER = 1.0
# How long a process waits for its index to catch up before it declines to answer from it.
STALE_AFTER = 0.2
# Enough entries (three phrasings each) that embedding them keeps B behind for seconds.
FILLERS = 600
FAQ = "/api/admin/kb/faqs"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    need(bool(POSTGRES_URL), "KEFU_TEST_DATABASE_URL is not set")
    need(bool(REDIS_URL), "KEFU_TEST_REDIS_URL is not set")
    root = tmp_path_factory.mktemp("two")
    schema, url = _new_postgres_schema()
    yield Settings(data_dir=root / "var", database_url=url, _env_file=None)
    _execute_on_postgres(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def servers(settings: Settings) -> Iterator[list[ServerProcess]]:
    with server_processes(
        settings,
        KEFU_BROKER_URL=REDIS_URL,
        # English only: the Han model would only slow the two starts down.
        KEFU_HAN_EMBEDDING_MODEL="",
        KEFU_INFERENCE_WORKERS="1",
        KEFU_AGENT_AWAY_AFTER_SECONDS=str(AWAY_AFTER),
        KEFU_HANDOFF_TICK_SECONDS="0.2",
        KEFU_KB_STALE_AFTER_SECONDS=str(STALE_AFTER),
    ) as running:
        yield running


def _entry(entry_id: str, question: str, answer: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": entry_id,
        "question": question,
        "answer": answer,
        "language": "en",
        "status": "published",
        **extra,
    }


def answered_within(
    server: ServerProcess,
    question: str,
    check: Callable[[dict[str, Any]], bool],
    *,
    within: float = 1.0,
    what: str,
) -> float:
    """Ask ``server`` until its reply passes ``check``; fail after ``within`` seconds."""
    started = time.monotonic()
    replies = []
    while True:
        reply = ask(server, question)
        if check(reply):
            return time.monotonic() - started
        replies.append(reply)
        assert time.monotonic() - started < within, f"{what}: {replies[-3:]}"


def answers(entry_id: str, text: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def check(reply: dict[str, Any]) -> bool:
        return reply.get("entry_id") == entry_id and (text is None or text in reply["text"])

    return check


def does_not_answer(entry_id: str, text: str) -> Callable[[dict[str, Any]], bool]:
    def check(reply: dict[str, Any]) -> bool:
        return reply.get("entry_id") != entry_id and text not in reply["text"]

    return check


def test_creations_edits_archivals_and_deletions_on_a_reach_the_bot_on_b_within_a_second(
    servers: list[ServerProcess],
) -> None:
    a, b = servers
    admin = a.log_in("admin")
    question = "Do you sell purple parrots?"
    created = admin.post(
        FAQ, json=_entry("purple-parrots", question, "Purple parrots ship within three days.")
    )
    assert created.status_code == 201, created.text
    answered_within(b, question, answers("purple-parrots", "three days"), what="creation")

    edited = admin.patch(
        f"{FAQ}/purple-parrots", json={"answer": "Purple parrots ship within two days."}
    )
    assert edited.status_code == 200, edited.text
    answered_within(b, question, answers("purple-parrots", "two days"), what="answer edit")

    reworded = admin.patch(
        f"{FAQ}/purple-parrots",
        json={"question": "Can I rent a rowing boat?", "answer": "Rowing boats rent by the hour."},
    )
    assert reworded.status_code == 200, reworded.text
    answered_within(b, "Can I rent a rowing boat?", answers("purple-parrots"), what="new question")

    archived = admin.post(f"{FAQ}/purple-parrots/archive")
    assert archived.status_code == 200, archived.text
    gone = does_not_answer("purple-parrots", "Rowing boats")
    answered_within(b, "Can I rent a rowing boat?", gone, what="archival")
    # And it stays gone: not one more answer from the archived entry.
    for _ in range(5):
        assert gone(ask(b, "Can I rent a rowing boat?"))

    published = admin.post(f"{FAQ}/purple-parrots/publish")
    assert published.status_code == 200, published.text
    answered_within(b, "Can I rent a rowing boat?", answers("purple-parrots"), what="publish")

    deleted = admin.delete(f"{FAQ}/purple-parrots")
    assert deleted.status_code == 204, deleted.text
    answered_within(b, "Can I rent a rowing boat?", gone, what="deletion")
    assert b.health()["index"]["state"] == "ready"


def test_a_process_behind_the_revision_log_does_not_answer_from_its_index(
    servers: list[ServerProcess], settings: Settings, tmp_path: Path
) -> None:
    a, b = servers
    admin = a.log_in("admin")
    kites = _entry("green-kites", "Do you sell green kites?", "Green kites fly in any wind.")
    assert admin.post(FAQ, json=kites).status_code == 201
    answered_within(b, "Do you sell green kites?", answers("green-kites"), what="creation")

    # While B runs, the CLI imports a file that gives the kite entry another question and adds
    # enough entries that embedding them takes B well over its grace to catch up.
    moved = _entry("green-kites", "How do I reset my router?", "Hold the reset button.")
    fillers = [
        _entry(
            f"filler-{n}",
            f"Filler question number {n} about item {n * 7}?",
            f"Filler answer {n}.",
            alternatives=[f"Tell me about filler item {n * 7}", f"Filler {n} details please"],
        )
        for n in range(FILLERS)
    ]
    path = tmp_path / "import.yaml"
    path.write_text(yaml.safe_dump({"faqs": [moved, *fillers]}), "utf-8")
    cli = settings.model_copy(update={"data_dir": tmp_path / "cli-var"})
    # B is watched while the CLI runs: the CLI's own tail (saving its index, exiting) can take
    # as long as B's catch-up on a quiet machine, so waiting for it to exit would find B
    # caught up already (seen in CI).
    importing = subprocess.Popen(
        [str(KEFU), "kb", "import", str(path)],
        env=kefu_env(cli),
        cwd=cli.data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # B's index still maps the kite question to the entry, whose answer is now the
        # router's: a stale index would serve it. B says it is stale, and does not answer from
        # it. (B embeds the import's 1,800 phrasings for 5 s or more; this takes about one.)
        wait_until(lambda: b.health()["index"]["state"] == "stale", timeout=240, what="stale")
        reply = ask(b, "Do you sell green kites?")
        assert reply.get("entry_id") != "green-kites", reply
        assert "reset button" not in reply["text"]
        # Nor does it answer the new question before it has caught up.
        assert not answers("green-kites")(ask(b, "How do I reset my router?"))
    finally:
        _out, err = importing.communicate(timeout=300)
    assert importing.returncode == 0, err

    wait_until(lambda: b.health()["index"]["state"] == "ready", timeout=120, what="catch-up")
    assert does_not_answer("green-kites", "reset button")(ask(b, "Do you sell green kites?"))
    assert answers("green-kites", "reset button")(ask(b, "How do I reset my router?"))
    assert answers("filler-42")(ask(b, "Filler question number 42 about item 294?"))


def test_intent_changes_on_a_retrain_the_model_on_b(servers: list[ServerProcess]) -> None:
    a, b = servers
    admin = a.log_in("admin")
    before = b.health()["intents"]["model"]
    with (DEMO / "intents.yaml").open("rb") as handle:
        response = admin.post("/api/admin/kb/import", files={"file": ("intents.yaml", handle)})
    assert response.status_code == 200, response.text

    def trained() -> bool:
        intents = b.health()["intents"]
        return bool(intents["model"] != before and not intents["training"])

    wait_until(trained, timeout=180, what="B's intent model retrained")
    reply = ask(b, "hello")
    assert reply.get("intent") == "greeting", reply


def presence(staff: httpx.Client) -> str:
    value: str = staff.get("/api/agent/me").json()["presence"]
    return value


def test_an_agent_with_a_console_open_on_either_process_stays_online(
    servers: list[ServerProcess],
) -> None:
    a, b = servers
    created = a.log_in("admin").post(
        "/api/admin/users", json={"username": "pia", "password": PASSWORD, "role": "agent"}
    )
    assert created.status_code == 201, created.text
    on_a, on_b = a.log_in("pia"), b.log_in("pia")
    go_online(on_a)
    with agent_socket(b.url, on_b) as console_b:
        assert '"ready"' in str(console_b.recv(timeout=10))
        with agent_socket(a.url, on_a) as console_a:
            assert '"ready"' in str(console_a.recv(timeout=10))
        # A's console is closed, B's is open: online however long after the away time.
        time.sleep(AWAY_AFTER * 3)
        assert presence(on_a) == "online"
        assert presence(on_b) == "online"
    started = time.monotonic()
    wait_until(lambda: presence(on_b) == "away", timeout=10, what="away after both closed")
    # Not before the away time: a reload would have come back within it.
    assert time.monotonic() - started >= AWAY_AFTER * 0.5
