"""Staff accounts that resist attack: the password policy, password changes and resets,
login throttling, session lifetimes and lists, and disabling a member (issue 15)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from httpx2 import Response  # what the TestClient of this starlette returns
from sqlmodel import SQLModel
from starlette.websockets import WebSocketDisconnect

from core.db import make_engine
from core.settings import Settings
from core.staff import Role
from kefu.app import create_app
from kefu.models import import_all_models
from knowledge_base.embeddings import SentenceEmbedder
from tests.cli_runner import KEFU, kefu_env, one_line, run_kefu
from tests.conftest import PASSWORD, log_in, need, staff_client

FAQ_URL = "/api/admin/kb/faqs"
USERS_URL = "/api/admin/users"
NEW_PASSWORD = "quiet lantern orchard"


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Response:
    """A fresh sign-in on ``client``: its cookie and CSRF header become this session's."""
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    if response.status_code == 200 and response.json()["csrf_token"]:
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return response


def use(client: TestClient, session: tuple[str, str]) -> None:
    """Act as a session taken earlier with ``taken``."""
    client.cookies.clear()
    client.cookies.set("kefu_session", session[0], domain="testserver.local")
    client.headers["X-CSRF-Token"] = session[1]


def taken(client: TestClient) -> tuple[str, str]:
    return client.cookies["kefu_session"], client.headers["X-CSRF-Token"]


def rule_of(response: Response) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["error"]["details"][0]["code"])


def test_migrations_match_the_models(migrated: Settings) -> None:
    import_all_models()
    engine = make_engine(migrated.resolved_database_url)
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diffs == []


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "password_too_short"),
        ("aaaaaaaaaa", "password_too_common"),
        ("password12", "password_too_common"),
        ("qwertyuiop", "password_too_common"),
        ("ming-is-riding-horses", "password_contains_username"),
    ],
)
def test_the_password_policy_names_the_rule_a_password_breaks(
    client: TestClient, password: str, rule: str
) -> None:
    created = client.post(USERS_URL, json={"username": "ming", "password": password})
    assert rule_of(created) == rule
    message = created.json()["error"]["message"]
    assert ("10 characters" if rule == "password_too_short" else "password") in message
    assert client.post(USERS_URL, json={"username": "ming", "password": PASSWORD}).is_success
    assert rule_of(client.post(f"{USERS_URL}/ming/password", json={"password": password})) == rule
    change = {"current_password": PASSWORD, "new_password": password}
    rule = "password_contains_username" if "ming" in password else rule
    if rule != "password_contains_username":  # the admin's own name is admin-tester
        assert rule_of(client.post("/api/auth/password", json=change)) == rule


@pytest.mark.slow
def test_user_commands_apply_the_policy_and_set_passwords(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    weak = run_kefu(migrated, "user", "create", "bo", "--password-env", "BO_PASSWORD")
    assert weak.returncode == 0  # no such variable: a generated (strong) password
    refused = run_kefu(migrated, "user", "set-password", "bo", "--password", "password12")
    assert refused.returncode == 2
    assert "too common" in one_line(refused.stderr)
    assert run_kefu(migrated, "user", "set-password", "nobody", "--password", PASSWORD).returncode
    temporary = run_kefu(
        migrated, "user", "set-password", "bo", "--password", PASSWORD, "--temporary"
    )
    assert temporary.returncode == 0, temporary.stderr
    # Without --password the new one is read from the prompt (here, standard input).
    prompted = subprocess.run(
        [str(KEFU), "user", "set-password", "bo"],
        env=kefu_env(migrated),
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert prompted.returncode == 0, prompted.stderr
    with TestClient(create_app(migrated, embedder=embedder)) as client:
        assert sign_in(client, "bo", PASSWORD).status_code == 401
        assert sign_in(client, "bo", NEW_PASSWORD).json()["user"]["required"] is None
        assert client.get("/api/agent/teams").status_code == 200


def test_changing_ones_password_ends_the_other_sessions(client: TestClient) -> None:
    log_in(client, Role.agent, "ana")
    other = taken(client)
    assert sign_in(client, "ana").status_code == 200
    wrong = client.post(
        "/api/auth/password", json={"current_password": "not it at all", "new_password": "x"}
    )
    assert rule_of(wrong) == "wrong_current_password"
    same = client.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": PASSWORD}
    )
    assert rule_of(same) == "password_unchanged"
    changed = client.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204, changed.text
    assert client.get("/api/auth/me").status_code == 200
    use(client, other)
    assert client.get("/api/auth/me").status_code == 401
    assert sign_in(client, "ana", PASSWORD).status_code == 401
    assert sign_in(client, "ana", NEW_PASSWORD).status_code == 200


def test_an_admin_reset_forces_a_password_change_first(client: TestClient) -> None:
    admin = taken(client)
    log_in(client, Role.agent, "ana")
    agent_session = taken(client)
    use(client, admin)
    reset = client.post(f"{USERS_URL}/ana/password", json={})
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    listed = {u["username"]: u for u in client.get(USERS_URL).json()["users"]}
    assert listed["ana"]["must_change_password"] is True
    use(client, agent_session)
    assert client.get("/api/auth/me").status_code == 401  # the reset ended the session

    signed = sign_in(client, "ana", temporary)
    assert signed.json()["user"]["required"] == "password_change_required"
    for method, url in [("GET", "/api/agent/teams"), ("GET", "/api/auth/sessions")]:
        refused = client.request(method, url)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "password_change_required"
    with client.websocket_connect("/api/agent/ws") as ws:
        assert ws.receive_json()["code"] == "unauthenticated"
    assert client.get("/api/auth/me").json()["required"] == "password_change_required"
    change = {"current_password": temporary, "new_password": NEW_PASSWORD}
    assert client.post("/api/auth/password", json=change).status_code == 204
    assert client.get("/api/agent/teams").status_code == 200
    assert client.get("/api/auth/me").json()["required"] is None


@pytest.fixture
def throttled(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    tight = migrated.model_copy(
        update={"login_max_failures_per_account": 3, "login_max_failures_per_address": 6}
    )
    with staff_client(tight, embedder) as test_client:
        yield test_client


def test_failed_sign_ins_are_throttled_per_account(throttled: TestClient) -> None:
    log_in(throttled, Role.agent, "ana")
    # A success resets the account's count.
    for _ in range(2):
        assert sign_in(throttled, "ana", "wrong password!").status_code == 401
    assert sign_in(throttled, "ana").status_code == 200
    answers = [sign_in(throttled, "ana", "wrong password!").status_code for _ in range(3)]
    assert answers == [401, 401, 401]
    blocked = sign_in(throttled, "ana")  # even the right password now waits
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_attempts"
    assert "try again in" in blocked.json()["error"]["message"]
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    # An unknown account is throttled the same way, so a 429 says nothing about existence.
    unknown = [sign_in(throttled, "nobody-here", "wrong password!").status_code for _ in range(4)]
    assert unknown == [401, 401, 401, 429]


def test_failed_sign_ins_are_throttled_per_address_across_processes(
    throttled: TestClient, migrated: Settings, embedder: SentenceEmbedder
) -> None:
    tight = migrated.model_copy(
        update={"login_max_failures_per_account": 3, "login_max_failures_per_address": 6}
    )
    log_in(throttled, Role.agent, "ana")
    for name in ("u1", "u2", "u3"):
        for _ in range(2):
            assert sign_in(throttled, name, "wrong password!").status_code == 401
    # Another process with the same database counts the same failures.
    other = TestClient(create_app(tight, embedder=embedder))
    blocked = sign_in(other, "ana")
    assert blocked.status_code == 429
    assert "this address" in blocked.json()["error"]["message"]


def test_sessions_are_listed_and_can_be_ended(client: TestClient) -> None:
    log_in(client, Role.agent, "ana")
    first = taken(client)
    client.headers["User-Agent"] = "second-browser"
    assert sign_in(client, "ana").status_code == 200
    listed = client.get("/api/auth/sessions").json()["sessions"]
    assert len(listed) == 2
    current = next(s for s in listed if s["current"])
    other = next(s for s in listed if not s["current"])
    assert current["user_agent"] == "second-browser"
    assert current["address"] == "testclient"
    assert {"created_at", "last_seen_at", "expires_at"} <= set(current)
    assert len(current["id"]) == 24
    assert client.delete("/api/auth/sessions/nosuchsession").status_code == 404
    assert client.delete(f"/api/auth/sessions/{other['id']}").status_code == 204
    second = taken(client)
    use(client, first)
    assert client.get("/api/auth/me").status_code == 401
    use(client, second)
    log_in(client, Role.agent, "ana")
    third = taken(client)
    use(client, second)
    ended = client.post("/api/auth/sessions/revoke-others")
    assert ended.json() == {"ended": 1}
    assert [s["current"] for s in client.get("/api/auth/sessions").json()["sessions"]] == [True]
    use(client, third)
    assert client.get("/api/auth/me").status_code == 401


def test_sessions_end_when_idle_and_at_their_lifetime(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    idle = migrated.model_copy(update={"staff_session_idle_minutes": 0.05})  # 3 s
    with staff_client(idle, embedder) as client:
        for _ in range(3):  # each request keeps it alive
            time.sleep(1.5)
            assert client.get("/api/auth/me").status_code == 200
        time.sleep(3.5)
        assert client.get("/api/auth/me").status_code == 401
    short = migrated.model_copy(update={"staff_session_hours": 3 / 3600})
    with staff_client(short, embedder) as client:
        assert client.get("/api/auth/me").status_code == 200
        time.sleep(1.5)
        assert client.get("/api/auth/me").status_code == 200
        time.sleep(2)
        assert client.get("/api/auth/me").status_code == 401


def _disabled_closes_console(client: TestClient, other: TestClient) -> None:
    """``client`` holds the agent's console; ``other`` (maybe another process) disables them."""
    log_in(client, Role.agent, "ana")
    with client.websocket_connect("/api/agent/ws") as ws:
        assert ws.receive_json()["type"] == "ready"
        disabled = other.patch(f"{USERS_URL}/ana", json={"disabled": True})
        assert disabled.status_code == 200, disabled.text
        assert ws.receive_json()["code"] == "session_ended"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
    assert client.get("/api/auth/me").status_code == 401


def test_disabling_a_member_ends_their_sessions_and_consoles(client: TestClient) -> None:
    admin = taken(client)
    log_in(client, Role.agent, "bo")  # another agent's console stays open
    with client.websocket_connect("/api/agent/ws") as bystander:
        assert bystander.receive_json()["type"] == "ready"
        log_in(client, Role.agent, "ana")
        with client.websocket_connect("/api/agent/ws") as ws:
            assert ws.receive_json()["type"] == "ready"
            use(client, admin)
            assert client.patch(f"{USERS_URL}/ana", json={"disabled": True}).is_success
            assert ws.receive_json()["code"] == "session_ended"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4401
        bystander.send_json({"type": "ping"})
        assert bystander.receive_json() == {"type": "pong"}
    assert sign_in(client, "ana").status_code == 401


@pytest.mark.redis
def test_disabling_closes_consoles_on_another_process(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    url = os.environ.get("KEFU_TEST_REDIS_URL", "")
    need(bool(url), "KEFU_TEST_REDIS_URL is not set")
    shared = migrated.model_copy(update={"broker_url": url})
    with staff_client(shared, embedder) as first, staff_client(shared, embedder) as second:
        _disabled_closes_console(second, first)


@pytest.mark.redis
@pytest.mark.slow
def test_set_password_closes_the_members_consoles_through_redis(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    url = os.environ.get("KEFU_TEST_REDIS_URL", "")
    need(bool(url), "KEFU_TEST_REDIS_URL is not set")
    shared = migrated.model_copy(update={"broker_url": url})
    with staff_client(shared, embedder) as client:
        log_in(client, Role.agent, "ana")
        with client.websocket_connect("/api/agent/ws") as ws:
            assert ws.receive_json()["type"] == "ready"
            done = subprocess.run(
                [str(KEFU), "user", "set-password", "ana", "--password", NEW_PASSWORD],
                env=kefu_env(migrated, KEFU_BROKER_URL=url),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            assert ws.receive_json()["code"] == "session_ended"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4401


def test_an_agents_frames_keep_the_session_alive_but_pings_do_not(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    idle = migrated.model_copy(update={"staff_session_idle_minutes": 0.05})  # 3 s
    with staff_client(idle, embedder) as client:
        with client.websocket_connect("/api/agent/ws") as ws:
            assert ws.receive_json()["type"] == "ready"
            for _ in range(5):
                time.sleep(1)
                ws.send_json({"type": "unsubscribe", "conversation_id": "none"})
            assert client.get("/api/auth/me").status_code == 200
            for _ in range(4):
                time.sleep(1)
                ws.send_json({"type": "ping"})
                assert ws.receive_json() == {"type": "pong"}
        assert client.get("/api/auth/me").status_code == 401
