"""Staff accounts: login, session cookies, CSRF, roles, and the `kefu user` commands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from core.staff import Role
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.cli_runner import one_line, run_kefu
from tests.conftest import PASSWORD, log_in

FAQ_URL = "/api/admin/kb/faqs"
NEW_FAQ = {"question": "Do you gift wrap?", "answer": "Yes, for 5 yuan."}


@pytest.fixture
def anonymous(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    with TestClient(create_app(migrated, embedder=embedder)) as test_client:
        yield test_client


def test_staff_apis_need_a_login(anonymous: TestClient) -> None:
    for method, url in [
        ("GET", FAQ_URL),
        ("POST", FAQ_URL),
        ("GET", "/api/admin/exchanges"),
        ("GET", "/api/auth/me"),
    ]:
        response = anonymous.request(method, url, json=NEW_FAQ if method == "POST" else None)
        assert response.status_code == 401, (method, url)
        assert response.json()["error"]["code"] == "unauthenticated"
    # The customer side needs no staff login.
    assert anonymous.post("/api/chat/conversations").status_code == 201


def test_login_sets_a_strict_http_only_cookie_and_logout_ends_it(anonymous: TestClient) -> None:
    log_in(anonymous, Role.admin, "mei")
    anonymous.post("/api/auth/logout").raise_for_status()
    login = anonymous.post("/api/auth/login", json={"username": "mei", "password": PASSWORD})
    header = login.headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=strict" in header
    cookie = anonymous.cookies.get("kefu_session")
    assert cookie
    me = anonymous.get("/api/auth/me").json()
    assert me == {
        "username": "mei",
        "display_name": "mei",
        "role": "admin",
        "required": None,
        "mfa_enabled": False,
    }
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    assert anonymous.post("/api/auth/logout", headers=csrf).status_code == 204
    anonymous.cookies.set("kefu_session", cookie)
    assert anonymous.get("/api/auth/me").status_code == 401


def test_wrong_password_and_unknown_user_look_the_same(anonymous: TestClient) -> None:
    log_in(anonymous, Role.admin, "li")
    anonymous.cookies.clear()
    wrong = anonymous.post("/api/auth/login", json={"username": "li", "password": "nope-nope-nope"})
    unknown = anonymous.post("/api/auth/login", json={"username": "zed", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert anonymous.get(FAQ_URL).status_code == 401


def test_state_changes_need_the_csrf_token(anonymous: TestClient) -> None:
    log_in(anonymous, Role.admin)
    token = anonymous.headers.pop("X-CSRF-Token")
    refused = anonymous.post(FAQ_URL, json=NEW_FAQ)
    assert refused.status_code == 403
    assert refused.json()["error"]["details"] == [{"code": "csrf"}]
    assert anonymous.get(FAQ_URL).json()["total"] == 0
    forged = anonymous.post(FAQ_URL, json=NEW_FAQ, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    accepted = anonymous.post(FAQ_URL, json=NEW_FAQ, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201
    assert accepted.json()["author"] == "admin-tester"


@pytest.mark.parametrize(
    ("role", "kb", "exchanges"),
    [(Role.agent, 403, 403), (Role.supervisor, 403, 200), (Role.admin, 200, 200)],
)
def test_roles_decide_what_staff_may_do(
    anonymous: TestClient, role: Role, kb: int, exchanges: int
) -> None:
    log_in(anonymous, role)
    assert anonymous.get(FAQ_URL).status_code == kb
    assert anonymous.post(FAQ_URL, json=NEW_FAQ).status_code == (201 if kb == 200 else 403)
    assert anonymous.get("/api/admin/exchanges").status_code == exchanges


@pytest.mark.slow
def test_user_commands_create_accounts_that_can_log_in(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    first = run_kefu(migrated, "user", "ensure-admin")
    assert first.returncode == 0, first.stderr
    password = one_line(first.stdout).split("one-time password: ")[1].split()[0]
    # Framed, with where to sign in, so it stands out from everything scripts/run prints.
    lines = first.stdout.strip().splitlines()
    assert lines[0].startswith("╭"), first.stdout
    assert lines[-1].startswith("╰"), first.stdout
    assert f"http://{migrated.host}:{migrated.port}/admin" in first.stdout
    assert run_kefu(migrated, "user", "ensure-admin").stdout == ""
    created = run_kefu(
        migrated, "user", "create", "wang", "--role", "agent", "--display-name", "王"
    )
    assert created.returncode == 0, created.stderr
    agent_password = one_line(created.stdout).split("one-time password: ")[1].split()[0]
    duplicate = run_kefu(migrated, "user", "create", "wang")
    assert duplicate.returncode == 2
    assert "already exists" in one_line(duplicate.stderr)
    with TestClient(create_app(migrated, embedder=embedder)) as client:
        admin = client.post("/api/auth/login", json={"username": "admin", "password": password})
        assert admin.json()["user"]["role"] == "admin"
        # A printed password is a one-time password: it must be changed before anything else.
        assert admin.json()["user"]["required"] == "password_change_required"
        agent = client.post(
            "/api/auth/login", json={"username": "wang", "password": agent_password}
        )
        assert agent.json()["user"] == {
            "username": "wang",
            "display_name": "王",
            "role": "agent",
            "required": "password_change_required",
            "mfa_enabled": False,
        }
