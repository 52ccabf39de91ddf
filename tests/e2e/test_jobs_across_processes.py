"""Admin jobs on a queue every process sees: progress read from any process, one import at a
time across the cluster, and an import that outlives the process that accepted it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.conftest import POSTGRES_URL, _execute_on_postgres, _new_postgres_schema, need
from tests.handoff.desk_helpers import wait_until
from tests.processes import ServerProcess, prepare_database, server_processes

pytestmark = [pytest.mark.slow]

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "")
IMPORT_JOBS = "/api/admin/kb/import-jobs"
# Enough phrasings that embedding them takes seconds on one inference thread.
ENTRIES = 500
FAST = {
    # English only: the Han model would only slow the starts down.
    "KEFU_HAN_EMBEDDING_MODEL": "",
    "KEFU_INFERENCE_WORKERS": "1",
    "KEFU_JOB_LEASE_SECONDS": "2",
    "KEFU_JOB_POLL_SECONDS": "0.2",
}


def many_entries(prefix: str, count: int = ENTRIES) -> str:
    faqs = [
        {
            "id": f"{prefix}-{n}",
            "question": f"How do I look after a {prefix} plant number {n}?",
            "alternatives": [f"{prefix} plant {n} care", f"watering {prefix} plant {n}"],
            "answer": f"Water {prefix} plant {n} once a week.",
            "language": "en",
        }
        for n in range(count)
    ]
    return json.dumps({"faqs": faqs})


def submit(admin: httpx.Client, name: str, content: str) -> httpx.Response:
    return admin.post(IMPORT_JOBS, files={"file": (name, content)})


def job(admin: httpx.Client, job_id: str) -> dict[str, Any]:
    response = admin.get(f"/api/admin/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def seen_in_progress(admin: httpx.Client, job_id: str) -> dict[str, Any]:
    """The job as ``admin``'s process shows it, once it has counted some but not all work."""

    def partly_done() -> dict[str, Any] | None:
        state = job(admin, job_id)
        assert state["state"] in {"queued", "running"}, f"it ended before it was seen: {state}"
        return state if 0 < state["done"] < state["total"] else None

    found: dict[str, Any] = wait_until(partly_done, timeout=120, what="progress")
    return found


def finished(admin: httpx.Client, job_id: str, timeout: float = 180) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        state = job(admin, job_id)
        return state if state["state"] in {"done", "failed"} else None

    found: dict[str, Any] = wait_until(ended, timeout=timeout, what="the job's end")
    return found


def stored(admin: httpx.Client, word: str) -> int:
    """How many FAQ entries mention ``word``."""
    response = admin.get("/api/admin/kb/faqs", params={"q": word, "limit": 1})
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


@pytest.fixture
def on_postgres(tmp_path: Path) -> Iterator[Settings]:
    need(bool(POSTGRES_URL), "KEFU_TEST_DATABASE_URL is not set")
    need(bool(REDIS_URL), "KEFU_TEST_REDIS_URL is not set")
    schema, url = _new_postgres_schema()
    yield Settings(data_dir=tmp_path / "var", database_url=url, _env_file=None)
    _execute_on_postgres(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.postgres
@pytest.mark.redis
def test_an_import_accepted_on_a_is_watched_from_b_and_b_finishes_it_when_a_dies(
    on_postgres: Settings,
) -> None:
    with server_processes(on_postgres, ("a", "b"), KEFU_BROKER_URL=REDIS_URL, **FAST) as (a, b):
        admin_a, admin_b = a.log_in("admin"), b.log_in("admin")

        # A reindex works on one process's own index: each process may run its own at once,
        # and each is readable from the other.
        reindex_a = admin_a.post("/api/admin/kb/reindex-jobs")
        reindex_b = admin_b.post("/api/admin/kb/reindex-jobs")
        assert (reindex_a.status_code, reindex_b.status_code) == (202, 202), reindex_b.text
        assert finished(admin_b, reindex_a.json()["id"])["state"] == "done"
        assert finished(admin_a, reindex_b.json()["id"])["state"] == "done"

        accepted = submit(admin_a, "ferns.json", many_entries("fern"))
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        assert accepted.json()["state"] == "running"

        # B reads A's progress as A writes it.
        watched = seen_in_progress(admin_b, job_id)
        assert (watched["kind"], watched["actor"], watched["attempts"]) == ("import", "admin", 1)

        # One import at a time across the cluster: B refuses a second while A's runs.
        refused = submit(admin_b, "cacti.json", many_entries("cactus", 3))
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["details"] == [{"code": "job_running"}]

        # A dies mid-import; its transaction dies with it. B claims the job once A's lease
        # has run out, and imports the file whole.
        a.kill()
        assert job(admin_b, job_id)["state"] == "running"
        done = finished(admin_b, job_id)
        assert done["state"] == "done", done
        assert done["attempts"] == 2
        assert done["done"] == done["total"] == ENTRIES * 3
        assert len(done["result"]["created"]) == ENTRIES
        assert stored(admin_b, "fern") == ENTRIES

        # With the cluster's import finished, the next one is accepted (here by B).
        again = submit(admin_b, "cacti.json", many_entries("cactus", 3))
        assert again.status_code == 202, again.text
        assert finished(admin_b, again.json()["id"])["result"]["created"] == [
            "cactus-0",
            "cactus-1",
            "cactus-2",
        ]


def test_an_import_cut_off_by_a_crash_finishes_when_the_process_restarts(
    tmp_path: Path,
) -> None:
    """One process on SQLite: the job is in the database, so a SIGKILL loses nothing."""
    settings = Settings(
        data_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'kefu.db'}", _env_file=None
    )
    prepare_database(settings)
    server = ServerProcess(settings, "solo", **FAST)
    try:
        server.start()
        admin = server.log_in("admin")
        accepted = submit(admin, "ferns.json", many_entries("fern"))
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        seen_in_progress(admin, job_id)
        server.kill()

        server.start()
        admin = server.log_in("admin")
        done = finished(admin, job_id)
        assert done["state"] == "done", done
        assert done["attempts"] == 2
        assert len(done["result"]["created"]) == ENTRIES
        assert stored(admin, "fern") == ENTRIES
    finally:
        server.stop()
