"""Schemathesis over the app's whole OpenAPI document, as an admin, against real data.

Shared by tests/kefu/test_openapi_fuzz.py and benchmarks/openapi_fuzz.py. Each operation gets
fresh data first (an FAQ entry, an intent, a customer's conversation with its token, an exchange,
an offline ticket, a canned response, a second staff member) and three kinds of cases: random
everywhere, valid input aimed at that data (so PATCH bodies and ids reach the database instead of
stopping at a 404), and schemathesis's negative cases. Every response must not be a server error,
must keep to the documented status codes, content types and schemas (4xx: the app's error shape).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import requests
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.staff import Role
from tests.bot.chat_helpers import Customer
from tests.conftest import log_in
from tests.factories import faq

__all__ = ["EXCLUDED", "FuzzReport", "admin_session", "fuzz_operations"]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Left out, each with its reason; everything else in the document is fuzzed.
EXCLUDED = {
    # Each starts a background thread that re-embeds every entry or trains an intent model;
    # one runs at a time (409 job_running), so fuzzing adds nothing but minutes of CPU.
    "POST /api/admin/kb/reindex-jobs": "starts a background reindex",
    "POST /api/admin/kb/import-jobs": "starts a background import",
    "POST /api/admin/bot/train": "starts background training",
    # Ends the fuzzer's own session; it is covered by tests/kefu/test_staff_auth.py.
    "POST /api/auth/logout": "ends the session the fuzzer runs in",
}

FUZZ_USER = "fuzz-agent"


@dataclass
class FuzzReport:
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: int = 0
    unsendable: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        by_class = Counter(f"{s // 100}xx" for s in self.statuses.elements())
        return (
            f"operations={self.operations} cases={self.cases} "
            f"server_errors={self.server_errors} failures={len(self.failures)} "
            f"unsendable={self.unsendable} statuses={dict(sorted(by_class.items()))} "
            f"seconds={self.seconds:.0f}"
        )


@contextmanager
def admin_session(app: FastAPI) -> Iterator[requests.Session]:
    """An in-process client (schemathesis's own, which runs the app's lifespan), signed in as an
    admin with the CSRF header set; the app is shut down on exit."""
    try:
        with asgi.get_client(cast(Any, app)) as session:
            log_in(_as_client(session), Role.admin)
            log_in(_as_client(session), Role.agent, FUZZ_USER)  # the user the fuzz may edit
            log_in(_as_client(session), Role.admin)
            yield session
    finally:
        asgi.shutdown_lifespans()


def _as_client(session: requests.Session) -> TestClient:
    # The helpers only call .post/.get/.headers and .app, which the ASGI session has too.
    return cast(TestClient, session)


def _seed(session: requests.Session) -> tuple[dict[str, str], dict[str, str]]:
    """Fresh data for one operation: its path parameters, and the customer's headers."""
    client = _as_client(session)
    log_in(client, Role.admin)  # a new session, in case the last operation ended it
    unique = time.monotonic_ns()
    entry = faq(client, question=f"How do I track order {unique}?")
    intent = f"fuzz-{unique}"
    session.post("/api/admin/kb/intents", json={"name": intent, "examples": {"en": ["hi"]}})
    customer = Customer(client)
    customer.say("How do I track my order?")
    ticket = session.post(
        f"/api/chat/conversations/{customer.id}/offline-message",
        json={"email": "fuzz@example.com", "text": "Please call me back."},
        headers=customer.headers,
    ).json()["ticket_id"]
    canned = session.post(
        "/api/agent/canned",
        json={"shortcut": f"c{unique}", "title": "Hello", "text": "Hello!"},
    ).json()["id"]
    known = {
        "entry_id": entry["id"],
        "name": intent,
        "conversation_id": customer.id,
        "ticket_id": str(ticket),
        "canned_id": str(canned),
        "username": FUZZ_USER,
    }
    return known, {"authorization": customer.headers["Authorization"]}


def _strategy(
    operation: Any, known: dict[str, str], headers: dict[str, str]
) -> st.SearchStrategy[Case[Any]]:
    names = {p.name for p in operation.path_parameters}
    aimed = {k: v for k, v in known.items() if k in names}
    has_auth_header = any(p.name.lower() == "authorization" for p in operation.headers)
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(
            GenerationMode.POSITIVE,
            path_parameters=aimed or None,
            headers=headers if has_auth_header else None,
        ),
    ]
    if names or operation.query or operation.body or operation.headers:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(strategies)


def fuzz_operations(
    app: FastAPI,
    session: requests.Session,
    *,
    examples_per_operation: int,
    chosen: Callable[[str], bool] = lambda label: True,
) -> FuzzReport:
    """Run every operation's cases (deterministically) and report; nothing raises per case."""
    report = FuzzReport()
    started = time.monotonic()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # an operation the document cannot describe
            report.failures.append(f"invalid operation in the document: {result.err()}")
            continue
        operation = result.ok()
        if operation.label in EXCLUDED or not chosen(operation.label):
            continue
        report.operations += 1
        known, headers = _seed(session)
        _run(
            operation, _strategy(operation, known, headers), session, report, examples_per_operation
        )
    report.seconds = time.monotonic() - started
    return report


def _run(
    operation: Any,
    strategy: st.SearchStrategy[Case[Any]],
    session: requests.Session,
    report: FuzzReport,
    examples: int,
) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(case: Case[Any]) -> None:
        try:
            response = case.call(session=session)
        except (requests.exceptions.InvalidHeader, UnicodeEncodeError):
            report.unsendable += 1  # a header no HTTP client can send: nothing reached the app
            return
        report.cases += 1
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, AssertionError) as failure:  # every failed check, or the one
            report.failures.append(f"{operation.label} -> {response.status_code}: {failure}")

    one()
