"""The audit log of staff actions (issue 15, item 4): each action leaves its entry with the
right actor, target and address; failed sign-ins too, though they answer 401; only admins read
it; filters and keyset pages; the CSV export is itself audited; nothing edits it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.audit import AuditAction, record_audit
from core.db import session_scope
from core.settings import Settings
from core.staff import Role
from knowledge_base.embeddings import SentenceEmbedder
from tests.cli_runner import run_kefu
from tests.conftest import PASSWORD, log_in, staff_client, wait_for_retraining
from tests.factories import FAQ_URL, faq
from tests.kefu.test_staff_mfa import enrol, next_code
from tests.kefu.test_staff_security import NEW_PASSWORD, sign_in, taken, use

AUDIT_URL = "/api/admin/audit-log"
EXPORT_URL = f"{AUDIT_URL}/export.csv"
USERS_URL = "/api/admin/users"
ADDRESS = "testclient"  # the client address TestClient's requests come from
WRONG = "not-the-password-123"
INTENTS = {
    "greeting": ["hello", "hi there", "good morning", "hey"],
    "thanks": ["thank you", "thanks a lot", "many thanks", "cheers"],
    "refund": ["refund my order", "money back", "return for a refund", "I want a refund"],
}


def entries(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(AUDIT_URL, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def newest(client: TestClient, action: str, **params: Any) -> dict[str, Any]:
    """The newest entry of exactly ``action``."""
    found = [
        e for e in entries(client, action=action, limit=200, **params) if e["action"] == action
    ]
    assert found, f"no {action} entry"
    return found[0]


@pytest.fixture
def admin(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    """An admin's client; failures from this one test address never throttle the admin."""
    roomy = migrated.model_copy(update={"login_max_failures_per_address": 1000})
    with staff_client(roomy, embedder) as client:
        yield client


def test_sign_ins_and_failures_are_recorded_though_they_answer_401(admin: TestClient) -> None:
    me = taken(admin)
    log_in(admin, Role.agent, "ana")
    assert sign_in(admin, "ana", WRONG).status_code == 401
    assert sign_in(admin, "=ghost", WRONG).status_code == 401
    answers = [sign_in(admin, "ana", WRONG).status_code for _ in range(6)]
    assert answers[-1] == 429
    use(admin, me)

    succeeded = newest(admin, "login.succeeded", actor="ana")
    assert succeeded["actor_id"] is not None
    assert succeeded["address"] == ADDRESS
    failed = entries(admin, action="login.failed")
    ghost = next(e for e in failed if e["actor_name"] == "=ghost")
    assert ghost["actor_id"] is None
    assert ghost["detail"] == {"step": "password", "reason": "unknown_user"}
    wrong = next(e for e in failed if e["actor_name"] == "ana")
    assert wrong["actor_id"] == succeeded["actor_id"]
    assert wrong["detail"]["reason"] == "wrong_password"
    assert wrong["address"] == ADDRESS
    throttled = newest(admin, "login.throttled")
    assert (throttled["actor_name"], throttled["actor_id"]) == ("ana", succeeded["actor_id"])
    # The password tried is never recorded, anywhere in the log.
    assert WRONG not in admin.get(AUDIT_URL, params={"limit": 200}).text
    assert WRONG not in admin.get(EXPORT_URL).text


def test_own_account_actions_are_recorded(admin: TestClient) -> None:
    me = taken(admin)
    log_in(admin, Role.agent, "ana")
    other = taken(admin)
    log_in(admin, Role.agent, "ana")
    # A wrong current password (a session in other hands guessing it) is recorded too.
    wrong = admin.post(
        "/api/auth/password",
        json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422, wrong.text
    second = admin.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert second.status_code == 204, second.text
    sign_in(admin, "ana", NEW_PASSWORD)
    ended = admin.post("/api/auth/sessions/revoke-others")
    assert ended.status_code == 200
    assert admin.post("/api/auth/logout").status_code == 204
    use(admin, other)
    assert admin.get("/api/auth/me").status_code == 401  # ended by the password change
    use(admin, me)

    changed = newest(admin, "password.changed", actor="ana")
    assert changed["target_type"] == "staff_user"
    assert changed["target_id"] == str(changed["actor_id"])
    assert changed["detail"] == {"was_temporary": False, "sessions_ended": 1}
    session_ended = newest(admin, "session.ended", actor="ana")
    assert session_ended["detail"]["ended"] == 1
    assert session_ended["address"] == ADDRESS
    logout = newest(admin, "logout", actor="ana")
    assert logout["actor_id"] == changed["actor_id"]
    failed = newest(admin, "password.change_failed", actor="ana")
    assert failed["detail"] == {"reason": "wrong_current_password"}
    assert failed["address"] == ADDRESS
    assert "not-it-at-all" not in json.dumps(failed)


def test_two_step_sign_in_changes_and_failures_are_recorded(admin: TestClient) -> None:
    me = taken(admin)
    log_in(admin, Role.agent, "ana")
    totp, recovery = enrol(admin)
    challenge = sign_in(admin, "ana").json()["challenge"]
    wrong = admin.post("/api/auth/login/mfa", json={"challenge": challenge, "code": "123456"})
    assert wrong.status_code == 401
    forged = admin.post("/api/auth/login/mfa", json={"challenge": "forged", "code": "123456"})
    assert forged.status_code == 401
    done = admin.post("/api/auth/login/mfa", json={"challenge": challenge, "code": recovery[0]})
    assert done.status_code == 200, done.text
    admin.headers["X-CSRF-Token"] = done.json()["csrf_token"]
    off = admin.post("/api/auth/mfa/disable", json={"password": PASSWORD, "code": next_code(totp)})
    assert off.status_code == 204, off.text
    enrol(admin)
    use(admin, me)
    assert admin.delete(f"{USERS_URL}/ana/mfa").status_code == 204

    ana = newest(admin, "mfa.enabled", actor="ana")["actor_id"]
    assert newest(admin, "mfa.failed", actor="ana")["detail"] == {"reason": "wrong_code"}
    expired = [e for e in entries(admin, action="mfa.failed") if not e["actor_name"]]
    assert [(e["actor_id"], e["detail"]) for e in expired] == [
        (None, {"reason": "challenge_expired"})
    ]
    signed = newest(admin, "login.succeeded", actor="ana")
    assert signed["detail"] == {"second_step": "recovery"}
    assert newest(admin, "mfa.recovery_code_used", actor="ana")["actor_id"] == ana
    assert newest(admin, "mfa.disabled", actor="ana")["target_id"] == str(ana)
    reset = newest(admin, "mfa.reset")
    assert (reset["actor_name"], reset["target_type"], reset["target_id"]) == (
        "admin-tester",
        "staff_user",
        str(ana),
    )
    assert reset["detail"]["was_enabled"] is True
    assert len(entries(admin, action="mfa.enabled", actor="ana")) == 2


def test_staff_management_is_recorded_field_by_field(admin: TestClient) -> None:
    created = admin.post(
        USERS_URL,
        json={"username": "ming", "password": PASSWORD, "teams": ["support"], "max_chats": 3},
    )
    assert created.status_code == 201, created.text
    changed = admin.patch(
        f"{USERS_URL}/ming", json={"role": "supervisor", "teams": ["billing"], "max_chats": 5}
    )
    assert changed.status_code == 200, changed.text
    assert admin.patch(f"{USERS_URL}/ming", json={"disabled": True}).status_code == 200
    assert admin.patch(f"{USERS_URL}/ming", json={"disabled": False}).status_code == 200
    reset = admin.post(f"{USERS_URL}/ming/password", json={})
    assert reset.status_code == 200

    made = newest(admin, "user.created")
    assert made["actor_name"] == "admin-tester"
    assert made["target_type"] == "staff_user"
    assert made["address"] == ADDRESS
    assert made["detail"]["username"] == "ming"
    assert made["detail"]["teams"] == ["support"]
    assert PASSWORD not in json.dumps(made)
    target = {"target_type": "staff_user", "target_id": made["target_id"]}
    edit = newest(admin, "user.changed", **target)
    assert edit["detail"] == {
        "username": "ming",
        "role": ["agent", "supervisor"],
        "teams": [["support"], ["billing"]],
        "max_chats": [3, 5],
    }
    assert newest(admin, "user.disabled", **target)["detail"]["username"] == "ming"
    assert newest(admin, "user.enabled", **target)["actor_name"] == "admin-tester"
    password = newest(admin, "password.reset", **target)
    assert password["detail"]["generated"] is True
    assert reset.json()["temporary_password"] not in json.dumps(password)
    actions = [e["action"] for e in entries(admin, action="user.", **target)]
    assert actions == ["user.enabled", "user.disabled", "user.changed", "user.created"]


def test_the_cli_records_accounts_and_passwords_it_sets(
    migrated: Settings, admin: TestClient
) -> None:
    created = run_kefu(migrated, "user", "create", "bo", "--role", "supervisor")
    assert created.returncode == 0, created.stderr
    reset = run_kefu(migrated, "user", "set-password", "bo", "--password", NEW_PASSWORD)
    assert reset.returncode == 0, reset.stderr

    made = newest(admin, "user.created", actor="cli")
    assert made["actor_id"] is None
    assert made["detail"] == {"username": "bo", "role": "supervisor", "generated": True}
    password = newest(admin, "password.reset", actor="cli")
    assert password["target_id"] == made["target_id"]
    assert password["detail"] == {"username": "bo", "temporary": False, "sessions_ended": 0}
    assert NEW_PASSWORD not in admin.get(AUDIT_URL).text


def test_knowledge_base_edits_and_imports_name_their_revisions(admin: TestClient) -> None:
    entry = faq(admin)
    patched = admin.patch(f"{FAQ_URL}/{entry['id']}", json={"answer": "See My Orders."})
    assert patched.status_code == 200
    assert admin.delete(f"{FAQ_URL}/{entry['id']}").status_code == 204
    yaml = b"- question: Do you ship abroad?\n  answer: To 30 countries.\n"
    imported = admin.post("/api/admin/kb/import", files={"file": ("faq.yaml", yaml)})
    assert imported.status_code == 200, imported.text
    intent = {"name": "greeting", "examples": {"en": ["hello there"]}, "responses": {"en": "Hi"}}
    assert admin.post("/api/admin/kb/intents", json=intent).status_code == 201

    kb = entries(admin, action="kb.", target_type="faq", target_id=entry["id"])
    assert [e["detail"]["change"] for e in kb] == ["delete", "update", "create"]
    revisions = admin.get("/api/admin/kb/audit", params={"entity_id": entry["id"]}).json()
    assert [e["detail"]["revision"] for e in kb] == [r["id"] for r in revisions["items"]]
    assert kb[1]["detail"]["fields"] == ["answer"]
    assert all(e["actor_name"] == "admin-tester" and e["address"] == ADDRESS for e in kb)
    assert kb[0]["actor_id"] is not None
    bulk = newest(admin, "kb.imported")
    assert bulk["detail"]["created"] == 1
    assert bulk["detail"]["revisions"][0] == bulk["detail"]["revisions"][1]
    assert newest(admin, "kb.changed", target_type="intent")["target_id"] == "greeting"
    assert admin.get("/api/admin/kb/export", params={"format": "csv"}).status_code == 200
    exported = newest(admin, "data.exported")
    assert (exported["target_type"], exported["detail"]) == (
        "kb",
        {"what": "knowledge_base", "format": "csv"},
    )


def test_model_activation_and_analytics_exports_are_recorded(admin: TestClient) -> None:
    for name, words in INTENTS.items():
        examples = [f"{word} {tail}" for word in words for tail in ("please", "now", "today")]
        body = {"name": name, "examples": {"en": examples}, "responses": {"en": "Ok"}}
        assert admin.post("/api/admin/kb/intents", json=body).status_code == 201
    wait_for_retraining(admin)
    current = admin.get("/api/admin/bot/models").json()["current"]
    assert current
    assert admin.post(f"/api/admin/bot/models/{current}/activate").status_code == 200
    assert admin.post("/api/admin/bot/models/v9999/activate").status_code == 404
    activated = entries(admin, action="model.")
    assert len(activated) == 1
    assert (activated[0]["target_type"], activated[0]["target_id"]) == ("intent_model", current)

    me = taken(admin)
    log_in(admin, Role.supervisor, "sam")
    export = admin.get("/api/admin/analytics/export.csv", params={"metric": "overview"})
    assert export.status_code == 200
    assert admin.get("/api/admin/analytics/export.csv?metric=nope").status_code == 422
    use(admin, me)
    exported = entries(admin, action="data.exported")
    assert len(exported) == 1
    assert exported[0]["actor_name"] == "sam"
    assert (exported[0]["target_type"], exported[0]["target_id"]) == ("analytics", "overview")
    assert exported[0]["address"] == ADDRESS


def test_only_admins_read_the_log_and_nothing_edits_it(admin: TestClient) -> None:
    me = taken(admin)
    for role in (Role.agent, Role.supervisor):
        log_in(admin, role)
        for url in (AUDIT_URL, EXPORT_URL):
            response = admin.get(url)
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "forbidden"
    admin.cookies.clear()
    assert admin.get(AUDIT_URL).status_code == 401
    use(admin, me)
    first = entries(admin)[-1]["id"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for url in (AUDIT_URL, EXPORT_URL, f"{AUDIT_URL}/{first}"):
            answer = admin.request(method, url, json={})
            assert answer.status_code in (404, 405), (method, url)
        assert admin.request(method, AUDIT_URL, json={}).status_code == 405
    assert entries(admin)[-1]["id"] == first


def test_filters_and_keyset_pages(admin: TestClient) -> None:
    me = taken(admin)
    for n in range(7):
        assert sign_in(admin, f"nobody{n}", WRONG).status_code == 401
    use(admin, me)

    everything = entries(admin, limit=200)
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)  # newest first
    pages, before = [], None
    while True:
        params = {"limit": 3, "before_id": before} if before else {"limit": 3}
        page = admin.get(AUDIT_URL, params=params).json()
        pages.append([e["id"] for e in page["items"]])
        before = page["next_before_id"]
        if before is None:
            break
    assert [i for page in pages for i in page] == ids
    assert all(len(page) == 3 for page in pages[:-1])

    failed = entries(admin, action="login.failed")
    assert len(failed) == 7
    assert [e["actor_name"] for e in entries(admin, action="login.failed", limit=2)] == [
        "nobody6",
        "nobody5",
    ]
    assert {e["action"] for e in entries(admin, action="login")} == {
        "login.failed",
        "login.succeeded",
    }
    assert entries(admin, action="login_") == []  # the prefix is literal, not a pattern
    assert [e["actor_name"] for e in entries(admin, actor="nobody3")] == ["nobody3"]
    middle = datetime.fromisoformat(failed[3]["at"])
    since = entries(admin, action="login.failed", since=middle.isoformat())
    until = entries(admin, action="login.failed", until=middle.isoformat())
    assert {e["id"] for e in since} | {e["id"] for e in until} == {e["id"] for e in failed}
    assert failed[3]["id"] in {e["id"] for e in since}
    future = (datetime.fromisoformat(everything[0]["at"]) + timedelta(hours=1)).isoformat()
    assert entries(admin, since=future) == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"before_id": 0},
        {"before_id": 2**31},
        {"action": "Login%"},
        {"action": "x" * 49},
        {"target_id": "3"},
        {"since": "2026-01-01T00:00:00"},  # no time zone
        {"since": "yesterday"},
        {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ],
)
def test_bad_filters_are_422(client: TestClient, params: dict[str, Any]) -> None:
    before = client.get(AUDIT_URL).json()
    paging = {"limit", "before_id"} & params.keys()
    for url in [AUDIT_URL] if paging else [AUDIT_URL, EXPORT_URL]:
        response = client.get(url, params=params)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid"
    assert client.get(AUDIT_URL).json() == before  # a refused export records nothing


def test_the_csv_export_is_filtered_safe_and_itself_recorded(admin: TestClient) -> None:
    me = taken(admin)
    assert sign_in(admin, "=HYPERLINK(1)", WRONG).status_code == 401
    use(admin, me)
    response = admin.get(EXPORT_URL, params={"action": "login."})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["action"] for r in rows] == ["login.failed", "login.succeeded"]
    assert rows[0]["actor_name"] == "'=HYPERLINK(1)"  # not run as a formula by a spreadsheet
    assert rows[0]["address"] == ADDRESS
    assert json.loads(rows[0]["detail"]) == {"step": "password", "reason": "unknown_user"}
    recorded = newest(admin, "data.exported")
    assert recorded["target_type"] == "audit_log"
    assert recorded["detail"] == {"what": "audit_log", "filters": {"action": "login."}}
    assert recorded["actor_name"] == "admin-tester"


def test_any_action_shows(admin: TestClient) -> None:
    """Actions that other parts record (reveals, purges, erasures) show like any other."""
    engine = admin.app.state.engine  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        record_audit(session, action=AuditAction.purge_run, detail={"conversations": 3})
    entry = newest(admin, "purge.run")
    assert (entry["actor_id"], entry["actor_name"], entry["detail"]) == (
        None,
        "",
        {"conversations": 3},
    )
