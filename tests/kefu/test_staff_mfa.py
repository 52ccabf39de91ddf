"""Two-step sign-in for staff (TOTP): enrolment with a QR code, the second sign-in step,
recovery codes, throttling, turning it off, roles that must have it, and an admin's reset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from core.staff import Role
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD, log_in, staff_client
from tests.kefu.test_staff_security import sign_in, taken, use

FAQ_URL = "/api/admin/kb/faqs"


def enrol(client: TestClient) -> tuple[pyotp.TOTP, list[str]]:
    """Turn two-step sign-in on for the signed-in member; their authenticator and codes."""
    setup = client.post("/api/auth/mfa/setup")
    assert setup.status_code == 200, setup.text
    body = setup.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/kefu:")
    assert body["qr_svg"].lstrip().startswith("<svg")
    assert 'xmlns="http://www.w3.org/2000/svg"' in body["qr_svg"]  # shown as an image
    totp = pyotp.TOTP(body["secret"])
    wrong = client.post("/api/auth/mfa/confirm", json={"code": "000000"})
    assert wrong.status_code == 422
    confirmed = client.post("/api/auth/mfa/confirm", json={"code": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    return totp, confirmed.json()["recovery_codes"]


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the next 30-second step: one step of clock drift is accepted, and the
    current step's code was used up by the confirmation."""
    return totp.at(datetime.now(UTC) + timedelta(seconds=30))


def test_enrolment_makes_sign_in_two_steps(client: TestClient) -> None:
    log_in(client, Role.agent, "ana")
    totp, recovery = enrol(client)
    assert len(recovery) == len(set(recovery)) == 10
    assert client.get("/api/auth/me").json()["mfa_enabled"] is True
    assert client.post("/api/auth/mfa/setup").status_code == 409

    first = sign_in(client, "ana")
    assert first.status_code == 200
    assert first.json()["mfa_required"] is True
    assert first.json()["user"] is None
    assert "kefu_session" not in client.cookies
    challenge = first.json()["challenge"]
    wrong = client.post("/api/auth/login/mfa", json={"challenge": challenge, "code": "123456"})
    assert wrong.status_code == 401
    assert client.post("/api/auth/login/mfa", json={"challenge": "forged", "code": "1"}).json()[
        "error"
    ]["details"] == [{"code": "challenge_expired"}]
    code = next_code(totp)
    done = client.post("/api/auth/login/mfa", json={"challenge": challenge, "code": code})
    assert done.status_code == 200, done.text
    assert done.json()["user"]["username"] == "ana"
    client.headers["X-CSRF-Token"] = done.json()["csrf_token"]
    assert client.get("/api/agent/teams").status_code == 200
    # The challenge is used up, and the code cannot be used twice.
    again = client.post("/api/auth/login/mfa", json={"challenge": challenge, "code": code})
    assert again.status_code == 401
    replay = sign_in(client, "ana").json()["challenge"]
    assert (
        client.post("/api/auth/login/mfa", json={"challenge": replay, "code": code}).status_code
        == 401
    )

    # A recovery code works once, however it is typed.
    spaced = recovery[0].upper().replace("-", " ")
    assert (
        client.post("/api/auth/login/mfa", json={"challenge": replay, "code": spaced}).status_code
        == 200
    )
    reused = sign_in(client, "ana").json()["challenge"]
    assert (
        client.post(
            "/api/auth/login/mfa", json={"challenge": reused, "code": recovery[0]}
        ).status_code
        == 401
    )


def test_the_second_step_is_throttled(migrated: Settings, embedder: SentenceEmbedder) -> None:
    tight = migrated.model_copy(update={"login_max_failures_per_account": 3})
    with staff_client(tight, embedder) as client:
        log_in(client, Role.agent, "ana")
        _totp, recovery = enrol(client)
        challenge = sign_in(client, "ana").json()["challenge"]
        answers = [
            client.post(
                "/api/auth/login/mfa", json={"challenge": challenge, "code": "654321"}
            ).status_code
            for _ in range(4)
        ]
        assert answers == [401, 401, 401, 429]
        blocked = client.post(
            "/api/auth/login/mfa", json={"challenge": challenge, "code": recovery[1]}
        )
        assert blocked.status_code == 429
        assert "Retry-After" in blocked.headers


def test_turning_it_off_needs_the_password_and_a_code(client: TestClient) -> None:
    log_in(client, Role.agent, "ana")
    _totp, recovery = enrol(client)
    wrong = client.post(
        "/api/auth/mfa/disable", json={"password": "not the password", "code": recovery[0]}
    )
    assert wrong.json()["error"]["details"][0]["code"] == "wrong_password"
    no_code = client.post("/api/auth/mfa/disable", json={"password": PASSWORD, "code": "111111"})
    assert no_code.json()["error"]["details"][0]["code"] == "wrong_code"
    off = client.post("/api/auth/mfa/disable", json={"password": PASSWORD, "code": recovery[0]})
    assert off.status_code == 204, off.text
    assert sign_in(client, "ana").json()["user"]["mfa_enabled"] is False


def test_an_admin_can_reset_a_members_two_step_sign_in(client: TestClient) -> None:
    admin = taken(client)
    log_in(client, Role.agent, "ana")
    enrol(client)
    member = taken(client)
    use(client, admin)
    assert client.delete("/api/admin/users/ana/mfa").status_code == 204
    use(client, member)
    assert client.get("/api/auth/me").status_code == 401  # the reset ended their sessions
    signed = sign_in(client, "ana")
    assert signed.json()["mfa_required"] is False
    assert signed.json()["user"]["mfa_enabled"] is False


@pytest.fixture
def mfa_for_admins(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    forced = migrated.model_copy(update={"mfa_required_roles": ["admin"]})
    with staff_client(forced, embedder) as test_client:
        yield test_client


def test_roles_that_need_it_must_enrol_before_anything_else(mfa_for_admins: TestClient) -> None:
    client = mfa_for_admins
    assert client.get("/api/auth/me").json()["required"] == "mfa_enrollment_required"
    refused = client.get(FAQ_URL)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "mfa_enrollment_required"
    with client.websocket_connect("/api/agent/ws") as ws:
        assert ws.receive_json()["code"] == "unauthenticated"
    enrol(client)
    assert client.get(FAQ_URL).status_code == 200
    assert client.get("/api/auth/me").json()["required"] is None
    # Agents are not asked.
    log_in(client, Role.agent, "ana")
    assert client.get("/api/agent/teams").status_code == 200
