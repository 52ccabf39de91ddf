"""Schemathesis over the whole OpenAPI document: no server errors, responses as documented.

Deterministic (hypothesis derandomised), on SQLite and PostgreSQL, signed in as an admin with
real data behind the ids (see tests/fuzzing.py for what is excluded and why).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from fastapi import FastAPI

from core.settings import Settings
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.fuzzing import admin_session, fuzz_operations

EXAMPLES_PER_OPERATION = 20
MIN_CASES = 1000


@pytest.fixture
def app(migrated: Settings, embedder: SentenceEmbedder) -> FastAPI:
    # The fuzzer's thousands of wrong sign-ins come from one address, and each operation signs
    # in again: login throttling (tested in test_staff_security.py) would refuse those.
    unthrottled = migrated.model_copy(
        update={
            "login_max_failures_per_account": 1_000_000,
            "login_max_failures_per_address": 1_000_000,
        }
    )
    return create_app(unthrottled, embedder=embedder)


@pytest.fixture
def session(app: FastAPI) -> Iterator[requests.Session]:
    with admin_session(app) as signed_in:
        yield signed_in


def test_the_openapi_document_is_valid_and_documents_the_error_shape(
    app: FastAPI, session: requests.Session
) -> None:
    schemathesis.openapi.from_asgi("/openapi.json", app).validate()
    document = session.get("/openapi.json").json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            refused = operation["responses"].get("4XX")
            assert refused, f"{method.upper()} {path} does not document its 4xx responses"
            schema = refused["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
            assert "422" not in operation["responses"], "FastAPI's {detail} shape is not sent"


def test_unknown_paths_and_methods_answer_in_the_error_shape(session: requests.Session) -> None:
    missing = session.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = session.delete("/api/admin/kb/search")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_no_server_errors_across_the_openapi_document(
    app: FastAPI, session: requests.Session
) -> None:
    report = fuzz_operations(app, session, examples_per_operation=EXAMPLES_PER_OPERATION)
    print(report.summary())
    assert report.server_errors == 0, "\n\n".join(report.failures)
    assert not report.failures, "\n\n".join(report.failures)
    assert report.cases >= MIN_CASES, report.summary()
