"""The knowledge base's audit trail, and the import and reindex jobs the admin UI watches."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from core.db import make_engine, session_scope
from core.settings import Settings
from core.staff import Role
from knowledge_base.embeddings import SentenceEmbedder
from knowledge_base.models import FaqEntry
from tests.conftest import log_in, staff_client, wait_for_retraining
from tests.factories import FAQ_URL, faq, top_id

AUDIT_URL = "/api/admin/kb/audit"
IMPORT_JOBS = "/api/admin/kb/import-jobs"
REINDEX_JOBS = "/api/admin/kb/reindex-jobs"
INTENT_URL = "/api/admin/kb/intents"


@pytest.fixture
def client(client: TestClient) -> Iterator[TestClient]:
    yield client
    # Let a background retraining finish before the database goes.
    wait_for_retraining(client)


def audit(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get(AUDIT_URL, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def trail(client: TestClient, **params: Any) -> list[tuple[str, str, str, int, str]]:
    """(entity, entity id, action, version, author) of each audit row, newest first."""
    return [
        (r["entity"], r["entity_id"], r["action"], r["version"], r["author"])
        for r in audit(client, **params)["items"]
    ]


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def finished(client: TestClient, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """The job once it has stopped running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok(client.get(f"/api/admin/jobs/{job_id}"))["state"] != "running":
            return ok(client.get(f"/api/admin/jobs/{job_id}"))
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish within {timeout} s")


def health(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/healthz").json()
    return body


# -- the audit trail --------------------------------------------------------------------------


def edit_as_two_admins(client: TestClient) -> None:
    """Eight changes: five to entry ``a`` by the admin, three by ``editor``."""
    faq(client, id="a", question="Where is my order?", answer="Open My Orders.")
    ok(client.patch(f"{FAQ_URL}/a", json={"answer": "Open My Orders to track it."}))
    ok(client.patch(f"{FAQ_URL}/a", json={"answer": "Open My Orders to track it."}))  # no change
    ok(client.post(f"{FAQ_URL}/a/unpublish"))
    ok(client.post(f"{FAQ_URL}/a/publish"))
    ok(client.post(f"{FAQ_URL}/a/rollback", json={"version": 1}))
    log_in(client, Role.admin, "editor")
    faq(client, id="b", question="Do you sell gift cards?", answer="Yes.")
    ok(client.delete(f"{FAQ_URL}/b"), 204)
    ok(client.post(INTENT_URL, json={"name": "greeting", "examples": {"en": ["hi"]}}), 201)


EVERYTHING = [
    ("intent", "greeting", "create", 1, "editor"),
    ("faq", "b", "delete", 2, "editor"),
    ("faq", "b", "create", 1, "editor"),
    ("faq", "a", "rollback", 5, "admin-tester"),
    ("faq", "a", "publish", 4, "admin-tester"),
    ("faq", "a", "unpublish", 3, "admin-tester"),
    ("faq", "a", "update", 2, "admin-tester"),
    ("faq", "a", "create", 1, "admin-tester"),
]


def test_the_audit_trail_lists_every_change_newest_first(client: TestClient) -> None:
    assert audit(client) == {"items": [], "total": 0}
    edit_as_two_admins(client)
    body = audit(client)
    assert body["total"] == len(EVERYTHING)
    assert trail(client) == EVERYTHING
    ids = [r["id"] for r in body["items"]]
    assert ids == sorted(ids, reverse=True)
    times = [datetime.fromisoformat(r["created_at"]) for r in body["items"]]
    assert times == sorted(times, reverse=True)

    update, create = body["items"][-2:]
    assert create["snapshot"]["answer"] == "Open My Orders."
    assert update["snapshot"]["answer"] == "Open My Orders to track it."
    assert update["changes"] == {"answer": ["Open My Orders.", "Open My Orders to track it."]}
    assert body["items"][1]["snapshot"] is None  # b is gone


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"entity": "faq"}, EVERYTHING[1:]),
        ({"entity": "intent"}, EVERYTHING[:1]),
        ({"author": "editor"}, EVERYTHING[:3]),
        ({"author": "admin-tester"}, EVERYTHING[3:]),
        ({"author": "nobody"}, []),
        ({"entity_id": "b"}, EVERYTHING[1:3]),
        ({"entity": "intent", "entity_id": "b"}, []),
        ({"entity": "faq", "author": "editor"}, EVERYTHING[1:3]),
        ({"limit": 3}, EVERYTHING[:3]),
        ({"limit": 3, "offset": 3}, EVERYTHING[3:6]),
        ({"limit": 3, "offset": 6}, EVERYTHING[6:]),
        ({"offset": 8}, []),
        ({"author": "admin-tester", "limit": 2, "offset": 1}, EVERYTHING[4:6]),
    ],
)
def test_the_audit_trail_filters_and_pages(
    client: TestClient, params: dict[str, Any], expected: list[tuple[str, str, str, int, str]]
) -> None:
    edit_as_two_admins(client)
    assert trail(client, **params) == expected
    unpaged = {k: v for k, v in params.items() if k not in {"limit", "offset"}}
    assert audit(client, **params)["total"] == len(trail(client, **unpaged))


@pytest.mark.parametrize(
    "params",
    [
        {"entity": "widget"},
        {"limit": 0},
        {"limit": 501},
        {"offset": -1},
        {"author": "x" * 129},
        {"entity_id": "x" * 65},
    ],
)
def test_bad_audit_parameters_are_422(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get(AUDIT_URL, params=params)
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == f"query.{next(iter(params))}"


# -- import jobs ------------------------------------------------------------------------------

FILE: dict[str, list[dict[str, Any]]] = {
    "faqs": [
        {
            "id": "en-refund",
            "question": "When will I get my refund?",
            "alternatives": ["How long does a refund take?", "refund timeline"],
            "answer": "Refunds arrive within 5 working days.",
            "status": "published",
        },
        {
            "id": "zh-track",
            "question": "我的快递到哪了？",
            "alternatives": ["怎么查物流"],
            "answer": "进入“我的订单”即可查看物流。",
            "status": "published",
        },
        {
            "id": "en-gift",
            "question": "Do you sell gift cards?",
            "answer": "Yes.",
            "status": "draft",
        },
    ],
    "intents": [{"name": "greeting", "examples": {"en": ["hello", "hi"], "zh": ["你好"]}}],
}
PUBLISHED_PHRASINGS = 5


def start_import(client: TestClient, name: str, content: str) -> dict[str, Any]:
    return ok(client.post(IMPORT_JOBS, files={"file": (name, content)}), 202)


def test_an_import_job_imports_with_progress(client: TestClient) -> None:
    job = start_import(client, "kb.json", json.dumps(FILE, ensure_ascii=False))
    assert (job["kind"], job["actor"]) == ("import", "admin-tester")
    assert job["state"] in {"running", "done"}

    done = finished(client, job["id"])
    assert done["state"] == "done", done
    assert done["error"] is None
    assert done["result"] == {
        "created": ["en-refund", "zh-track", "en-gift"],
        "updated": [],
        "unchanged": [],
        "intents_created": ["greeting"],
        "intents_updated": [],
        "intents_unchanged": [],
    }
    # Progress counts the published phrasings embedded.
    assert done["done"] == done["total"] == PUBLISHED_PHRASINGS
    assert done["finished_at"] is not None
    finished_at = datetime.fromisoformat(done["finished_at"])
    assert finished_at >= datetime.fromisoformat(done["started_at"])

    for entry in FILE["faqs"]:
        stored = ok(client.get(f"{FAQ_URL}/{entry['id']}"))
        assert (stored["question"], stored["status"]) == (entry["question"], entry["status"])
        assert stored["author"] == "admin-tester"
    assert ok(client.get(f"{INTENT_URL}/greeting"))["examples"]["zh"] == ["你好"]
    assert top_id(client, "how long until my refund arrives") == "en-refund"
    assert top_id(client, "怎么查物流") == "zh-track"
    assert health(client)["index"]["entries"] == 2
    assert sorted(trail(client)) == sorted(
        [
            ("faq", "en-refund", "create", 1, "admin-tester"),
            ("faq", "zh-track", "create", 1, "admin-tester"),
            ("faq", "en-gift", "create", 1, "admin-tester"),
            ("intent", "greeting", "import", 1, "admin-tester"),
        ]
    )

    again = finished(client, start_import(client, "kb.json", json.dumps(FILE))["id"])
    assert again["state"] == "done", again
    assert again["result"]["unchanged"] == ["en-refund", "zh-track", "en-gift"]
    assert again["result"]["intents_unchanged"] == ["greeting"]
    assert audit(client)["total"] == 4


def test_a_job_accepted_before_shutdown_finishes_before_the_server_stops(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    """Stopping the server waits for a running job: an accepted import is never cut off, and
    no job thread is left using a database the server has let go of."""
    many = {
        "faqs": [
            {"id": f"en-q{n}", "question": f"Question number {n}?", "answer": f"Answer {n}."}
            for n in range(80)
        ]
    }
    with staff_client(migrated, embedder) as client:
        job = start_import(client, "many.json", json.dumps(many))
        assert job["state"] == "running"
    engine = make_engine(migrated.resolved_database_url)
    try:
        with session_scope(engine) as session:
            stored = session.exec(select(func.count()).select_from(FaqEntry)).one()
    finally:
        engine.dispose()
    assert stored == 80


BAD_CSV = (
    "id,question,answer,language\n"
    "a,Where is my order?,Open My Orders.,en\n"
    "b,退款多久到账？,5个工作日内到账。,zh\n"
    "c,,An answer without a question.,en\n"
    "d,Can I pay by card?,Yes.,en\n"
)


@pytest.mark.parametrize(
    ("name", "content", "lines"),
    [
        ("faqs.csv", BAD_CSV, [4]),
        ("faqs.csv", BAD_CSV.replace(",en\n", ",xx\n", 1), [2, 4]),
        (
            "faqs.json",
            '{"faqs": [\n  {"question": "Hi?", "answer": "Yes."},\n  {"answer": "x"}\n]}',
            [3],
        ),
        ("faqs.csv", "id,question,answer\nx,Where?,Here.\n".encode("utf-16"), None),
    ],
    ids=["empty-question", "two-bad-rows", "json-missing-question", "not-utf8"],
)
def test_a_bad_file_is_refused_at_once_and_nothing_is_imported(
    client: TestClient, name: str, content: str | bytes, lines: list[int] | None
) -> None:
    faq(client, id="existing")
    before = (ok(client.get(FAQ_URL))["total"], audit(client)["total"], health(client)["index"])

    response = client.post(IMPORT_JOBS, files={"file": (name, content)})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_file"
    if lines is not None:
        assert [d["line"] for d in error["details"]] == lines
    assert "id" not in response.json()

    after = (ok(client.get(FAQ_URL))["total"], audit(client)["total"], health(client)["index"])
    assert after == before
    assert client.get(f"{FAQ_URL}/a").status_code == 404


# -- reindex jobs and job lookup --------------------------------------------------------------


def test_a_reindex_job_rebuilds_the_index_with_progress(client: TestClient) -> None:
    faq(client, id="a", question="Where is my order?", alternatives=["track my parcel"])
    faq(client, id="b", question="Do you sell gift cards?", alternatives=[], answer="Yes.")
    faq(client, id="c", question="Can I pay by card?", answer="Yes.", status="draft")
    revision = health(client)["index"]["revision"]

    job = ok(client.post(REINDEX_JOBS), 202)
    assert (job["kind"], job["actor"]) == ("reindex", "admin-tester")
    done = finished(client, job["id"])
    assert done["state"] == "done", done
    assert done["result"] == {"entries": 2, "vectors": 3, "revision": revision}
    assert done["done"] == done["total"] == 3

    index = health(client)["index"]
    assert (index["state"], index["entries"], index["vectors"]) == ("ready", 2, 3)
    assert index["revision"] == revision
    assert top_id(client, "where is my parcel") == "a"


def test_an_unknown_job_is_404(client: TestClient) -> None:
    response = client.get("/api/admin/jobs/0123456789ab")
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


def test_audit_and_jobs_are_for_admins_only(client: TestClient) -> None:
    job = ok(client.post(REINDEX_JOBS), 202)
    finished(client, job["id"])
    job_url = f"/api/admin/jobs/{job['id']}"
    token = client.headers.pop("X-CSRF-Token")
    assert client.post(REINDEX_JOBS).status_code == 403
    response = client.post(IMPORT_JOBS, files={"file": ("kb.json", json.dumps(FILE))})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["details"] == [{"code": "csrf"}]
    client.headers["X-CSRF-Token"] = token

    for role in (Role.supervisor, Role.agent):
        log_in(client, role)
        for path in (AUDIT_URL, job_url):
            assert client.get(path).status_code == 403, path
        assert client.post(REINDEX_JOBS).status_code == 403
        response = client.post(IMPORT_JOBS, files={"file": ("kb.json", json.dumps(FILE))})
        assert response.status_code == 403, response.text
    client.cookies.clear()
    for path in (AUDIT_URL, job_url):
        assert client.get(path).status_code == 401, path
    assert client.post(REINDEX_JOBS).status_code == 401

    log_in(client)
    assert ok(client.get(FAQ_URL))["total"] == 0
    assert ok(client.get(job_url))["id"] == job["id"]
