"""Signed identity: the embedding site signs who its customer is; only a signed identity links
earlier conversations and raises priority, and an unsigned one is shown as unverified."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.cli_runner import KEFU, kefu_env
from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import IDENTITY_SECRET, Customer, go_online, signed, ticket_of
from tests.live import LiveServer

CHAT = "/api/chat/conversations"


def context_of(agent: httpx.Client, customer: Customer) -> dict[str, Any]:
    ticket = ticket_of(agent, customer.id)
    response = agent.get(f"/api/agent/tickets/{ticket['id']}")
    assert response.status_code == 200, response.text
    context: dict[str, Any] = response.json()["context"]
    return context


def queued(server: LiveServer, **start: Any) -> Customer:
    customer = Customer(server, **start)
    customer.say("My parcel is late")
    assert customer.ask_for_person()["state"] == "waiting_for_agent"
    return customer


def start(server: LiveServer, body: dict[str, Any]) -> httpx.Response:
    return server.http().post(CHAT, json=body)


def test_the_signature_is_hmac_sha256_over_the_documented_payload(desk: ServerFactory) -> None:
    server = desk(identity_secret=IDENTITY_SECRET, assignment="pull")
    agent = server.staff("verifier")
    go_online(agent)
    expires = int(time.time()) + 600
    # What a site's server computes, written out without kefu's code (docs/security.md).
    payload = f"kefu-identity-v1\nu-42\nada@example.com\nAda Lovelace\nvip\n{expires}"
    digest = hmac.new(IDENTITY_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    body = {
        "external_id": "u-42",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "tier": "vip",
        "identity_expires": expires,
        "identity_hash": digest,
    }
    # Any claim changed, added or dropped breaks the signature, and nothing is created.
    for changed in (
        {"external_id": "u-43"},
        {"email": "eve@example.com"},
        {"name": "Eve"},
        {"tier": "standard"},
        {"identity_expires": expires + 1},
        {"identity_hash": digest.replace(digest[0], "0" if digest[0] != "0" else "1")},
        {"identity_hash": "x" * 64},
    ):
        refused = start(server, {**body, **changed})
        assert refused.status_code == 401, (changed, refused.text)
        assert refused.json()["error"]["code"] == "identity_invalid"
    without_name = {k: v for k, v in body.items() if k != "name"}
    assert start(server, without_name).json()["error"]["code"] == "identity_invalid"

    customer = queued(server, **{**body, "identity_hash": digest.upper()})
    customer_info = context_of(agent, customer)["customer"]
    assert customer_info["verified"] is True
    assert customer_info["external_id"] == "u-42"
    assert customer_info["email"] == "ada@example.com"
    assert ticket_of(agent, customer.id)["priority"] == "high"


@pytest.mark.parametrize(
    ("secret", "body", "status", "code"),
    [
        ("", signed(email="a@example.com"), 422, "identity_not_configured"),
        (IDENTITY_SECRET, signed(email="a@example.com", expires=1), 401, "identity_expired"),
        (
            IDENTITY_SECRET,
            {"external_id": "u-1", "email": "a@example.com"},
            422,
            "identity_unsigned",
        ),
        (IDENTITY_SECRET, {"identity_expires": 2**40}, 422, "identity_unsigned"),
        (IDENTITY_SECRET, signed(name="No Id"), 422, "identity_incomplete"),
        (IDENTITY_SECRET, {"email": "a@example.com", "identity_hash": "ab" * 40}, 422, "invalid"),
    ],
)
def test_bad_identities_are_refused_with_a_code(
    desk: ServerFactory, secret: str, body: dict[str, Any], status: int, code: str
) -> None:
    server = desk(identity_secret=secret)
    response = start(server, body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_unsigned_claims_are_unverified_link_nothing_and_raise_nothing(
    desk: ServerFactory,
) -> None:
    server = desk(identity_secret=IDENTITY_SECRET, assignment="pull")
    agent = server.staff("linker")
    go_online(agent)
    victim = queued(server, **signed(external_id="u-7", email="ada@example.com", tier="vip"))
    # Anyone can type Ada's address and declare themselves VIP.
    impostor = queued(server, name="Ada", email="ada@example.com", tier="vip")
    seen = context_of(agent, impostor)["customer"]
    assert seen["verified"] is False
    assert seen["email"] == "ada@example.com"
    assert seen["tier"] == "vip"
    assert seen["earlier_conversations"] == []
    assert ticket_of(agent, impostor.id)["priority"] == "normal"
    assert ticket_of(agent, impostor.id)["customer"]["tier"] == "standard"
    assert ticket_of(agent, victim.id)["priority"] == "high"

    # Ada again, signed in: linked to her earlier conversation by id, then by e-mail; the
    # impostor's unverified one is not hers.
    again = queued(server, **signed(external_id="u-7", email="ada@example.com"))
    earlier = context_of(agent, again)["customer"]["earlier_conversations"]
    assert [c["conversation_id"] for c in earlier] == [victim.id]
    by_mail = queued(server, **signed(email="ada@example.com", name="Ada"))
    earlier = context_of(agent, by_mail)["customer"]["earlier_conversations"]
    assert {c["conversation_id"] for c in earlier} == {victim.id, again.id}

    # An offline message's address is the ticket's: the signed e-mail stays as signed.
    left = again.post("offline-message", email="someone@else.example", text="call me")
    assert left.status_code == 201, left.text
    assert context_of(agent, again)["customer"]["email"] == "ada@example.com"


def test_kefu_identity_sign_prints_what_the_widget_sends(
    desk: ServerFactory, settings: Settings
) -> None:
    server = desk(identity_secret=IDENTITY_SECRET)
    env = kefu_env(settings, KEFU_IDENTITY_SECRET=IDENTITY_SECRET)
    done = subprocess.run(
        [str(KEFU), "identity", "sign", "--id", "u-9", "--email", "bo@example.com", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    attributes = json.loads(done.stdout)
    assert attributes["customer-tier"] == "standard"
    assert int(attributes["customer-expires"]) > time.time() + 3600
    body = {
        "external_id": attributes["customer-id"],
        "email": attributes["customer-email"],
        "identity_expires": int(attributes["customer-expires"]),
        "identity_hash": attributes["customer-hash"],
    }
    assert start(server, body).status_code == 201
    tag = subprocess.run(
        [str(KEFU), "identity", "sign", "--email", 'a"b@example.com', "--name", "<Bo>"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert 'data-customer-email="a&quot;b@example.com"' in tag
    assert 'data-customer-name="&lt;Bo&gt;"' in tag
