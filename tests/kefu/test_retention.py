"""Retention, legal hold, and one customer's export and erasure, through the admin API and the
CLI, on SQLite and PostgreSQL.

Conversations are made through the real chat API; ageing them (moving their last activity
back) is the one thing written to the database directly, as test setup: no surface moves time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.clock import utcnow
from core.identity import IdentityClaims, sign_identity
from core.settings import Settings
from core.staff import Role
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.chat_helpers import Customer
from tests.cli_runner import one_line, run_kefu
from tests.conftest import log_in

PURGE = "/api/admin/privacy/purge"
EXPORT = "/api/admin/customers/export"
ERASE = "/api/admin/customers/erase"

# Every table that holds a conversation's rows, and how to find them by conversation id.
TABLES = {
    "conversation": "SELECT count(*) FROM conversation WHERE id = :cid",
    "conversation_event": "SELECT count(*) FROM conversation_event WHERE conversation_id = :cid",
    "bot_exchange": "SELECT count(*) FROM bot_exchange WHERE conversation_id = :cid",
    "handoff_ticket": "SELECT count(*) FROM handoff_ticket WHERE conversation_id = :cid",
    "conversation_feedback": (
        "SELECT count(*) FROM conversation_feedback WHERE conversation_id = :cid"
    ),
    "complaint": "SELECT count(*) FROM complaint WHERE conversation_id = :cid",
    "learning_review": (
        "SELECT count(*) FROM learning_review WHERE exchange_id IN "
        "(SELECT id FROM bot_exchange WHERE conversation_id = :cid)"
    ),
}


class Chat(Customer):
    """A customer who talks to the bot, leaves an offline message, closes and rates the chat,
    and whose exchanges an admin reviewed in the learning loop: a row in every table."""

    def __init__(self, client: TestClient, email: str) -> None:
        body = client.post("/api/chat/conversations", json={"email": email}).json()
        self.client = client
        self.id = body["conversation_id"]
        self.token = body["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.email = email

    def fill(self) -> Chat:
        self.say(f"my order has not arrived, write to {self.email}")
        base = f"/api/chat/conversations/{self.id}"
        offline = self.client.post(
            f"{base}/offline-message",
            json={"email": self.email, "text": "please call me back"},
            headers=self.headers,
        )
        assert offline.status_code == 201, offline.text
        waiting = self.client.get("/api/agent/tickets", params={"view": "offline"}).json()
        ticket = next(t for t in waiting["tickets"] if t["conversation_id"] == self.id)
        marked = self.client.post(
            f"/api/agent/tickets/{ticket['id']}/complaint", json={"category": "delivery"}
        )
        assert marked.status_code == 201, marked.text
        assert self.client.post(f"{base}/close", headers=self.headers).status_code == 200
        rated = self.client.post(f"{base}/feedback", json={"csat": 2}, headers=self.headers)
        assert rated.status_code == 201, rated.text
        exchanges = self.client.get("/api/admin/exchanges", params={"conversation_id": self.id})
        ids = [x["id"] for x in exchanges.json()]
        dismissed = self.client.post("/api/admin/learning/dismiss", json={"exchange_ids": ids})
        assert dismissed.status_code == 200, dismissed.text
        return self


def rows(engine: Engine, conversation_id: str) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: int(connection.execute(text(sql), {"cid": conversation_id}).scalar_one())
            for name, sql in TABLES.items()
        }


def age(engine: Engine, conversation_id: str, days: float) -> None:
    """Test setup: the conversation's last activity moves ``days`` into the past."""
    then = utcnow() - timedelta(days=days)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE conversation SET updated_at = :then, created_at = :then, "
                "closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE :then END WHERE id = :cid"
            ),
            {"then": then, "cid": conversation_id},
        )


def audit(engine: Engine, action: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT actor_name, target_id, detail, at FROM staff_audit WHERE action = :action "
                "ORDER BY id"
            ),
            {"action": action},
        ).all()
    return [
        {
            "actor_name": row[0],
            "target_id": row[1],
            "detail": row[2] if isinstance(row[2], dict) else json.loads(row[2]),
            "at": row[3] if isinstance(row[3], datetime) else datetime.fromisoformat(row[3]),
        }
        for row in found
    ]


def engine_of(client: TestClient) -> Engine:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


def test_purge_deletes_old_conversations_from_every_table_and_keeps_recent_and_held(
    client: TestClient,
) -> None:
    engine = engine_of(client)
    old = Chat(client, "old@example.com").fill()
    held = Chat(client, "held@example.com").fill()
    recent = Chat(client, "recent@example.com").fill()
    assert all(rows(engine, old.id).values()), rows(engine, old.id)
    for chat in (old, held):
        age(engine, chat.id, days=1096)
    age(engine, recent.id, days=1000)
    hold = client.post(
        f"/api/admin/conversations/{held.id}/legal-hold", json={"reason": "case 2026-17"}
    )
    assert hold.status_code == 200, hold.text
    assert hold.json() == {"conversation_id": held.id, "legal_hold": True, "changed": True}
    before = {chat.id: rows(engine, chat.id) for chat in (old, held, recent)}

    dry = client.post(PURGE, json={"dry_run": True})
    assert dry.status_code == 200, dry.text
    counted = dry.json()
    assert counted["dry_run"] is True
    assert counted["held"] == 1
    for name in TABLES:
        assert counted["counts"][name] == before[old.id][name], name
    assert {chat.id: rows(engine, chat.id) for chat in (old, held, recent)} == before

    run = client.post(PURGE, json={"dry_run": False})
    assert run.status_code == 200, run.text
    assert run.json()["counts"] == counted["counts"]
    assert rows(engine, old.id) == dict.fromkeys(TABLES, 0)
    assert rows(engine, held.id) == before[held.id]
    assert rows(engine, recent.id) == before[recent.id]
    # The customer's token now names nothing.
    gone = client.get(f"/api/chat/conversations/{old.id}/events", headers=old.headers)
    assert gone.status_code == 404

    entries = audit(engine, "purge.run")
    assert [e["detail"]["dry_run"] for e in entries] == [True, False]
    assert entries[1]["actor_name"] == "admin-tester"
    assert entries[1]["detail"]["counts"]["conversation"] == 1
    assert entries[1]["detail"]["retention_days"] == 1095
    assert audit(engine, "legal_hold.set")[0]["detail"] == {"reason": "case 2026-17"}
    assert audit(engine, "legal_hold.set")[0]["target_id"] == held.id

    # Released, the held conversation goes at the next run.
    released = client.request(
        "DELETE", f"/api/admin/conversations/{held.id}/legal-hold", json={"reason": "case closed"}
    )
    assert released.json()["legal_hold"] is False
    assert audit(engine, "legal_hold.released")[0]["detail"] == {"reason": "case closed"}
    assert client.post(PURGE, json={"dry_run": False}).json()["counts"]["conversation"] == 1
    assert rows(engine, held.id) == dict.fromkeys(TABLES, 0)


def test_purge_spares_a_chat_with_a_person_and_prunes_old_audit_and_sign_in_rows(
    client: TestClient,
) -> None:
    engine = engine_of(client)
    waiting = Chat(client, "w@example.com")
    waiting.say("hello")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE conversation SET state = 'waiting_for_agent' WHERE id = :cid"),
            {"cid": waiting.id},
        )
    age(engine, waiting.id, days=5000)
    refused = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    assert refused.status_code == 401
    record = client.post(f"/api/admin/conversations/{waiting.id}/legal-hold", json={"reason": "r"})
    assert record.status_code == 200
    client.request(
        "DELETE", f"/api/admin/conversations/{waiting.id}/legal-hold", json={"reason": "r"}
    )
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE staff_login_attempt SET at = :then"),
            {"then": utcnow() - timedelta(days=2)},
        )
        connection.execute(
            text("UPDATE staff_audit SET at = :then WHERE action LIKE 'legal_hold.%'"),
            {"then": utcnow() - timedelta(days=2191)},
        )

    report = client.post(PURGE, json={"dry_run": False}).json()
    assert report["with_people"] == 1
    assert report["counts"]["conversation"] == 0
    assert report["counts"]["staff_login_attempt"] >= 1
    assert report["counts"]["staff_audit"] == 2
    assert rows(engine, waiting.id)["conversation"] == 1
    assert audit(engine, "legal_hold.set") == []
    with engine.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM staff_login_attempt")).scalar_one()
    assert left == 0


def test_export_has_the_customers_messages_and_erase_removes_them_everywhere(
    client: TestClient,
) -> None:
    engine = engine_of(client)
    first = Chat(client, "Ann@Example.com").fill()
    second = Chat(client, "someone-else@example.com")
    second.say("my parcel is late")
    # Another conversation where she gave the address only in an offline message.
    third = Chat(client, "other@example.com")
    offline = client.post(
        f"/api/chat/conversations/{third.id}/offline-message",
        json={"email": "ann@example.com", "text": "call me"},
        headers=third.headers,
    )
    assert offline.status_code == 201, offline.text
    held = Chat(client, "ann@example.com")
    held.say("keep this")
    client.post(f"/api/admin/conversations/{held.id}/legal-hold", json={"reason": "dispute"})

    exported = client.get(EXPORT, params={"email": "ann@example.com"})
    assert exported.status_code == 200, exported.text
    body = exported.json()
    ids = {c["id"] for c in body["conversations"]}
    assert ids == {first.id, third.id, held.id}
    one = next(c for c in body["conversations"] if c["id"] == first.id)
    said = [e["payload"].get("text") for e in one["events"] if e["author"] == "customer"]
    assert "my order has not arrived, write to Ann@Example.com" in said
    assert one["exchanges"]
    assert one["tickets"]
    assert one["feedback"]["csat"] == 2
    assert "token_hash" not in one
    assert next(c for c in body["conversations"] if c["id"] == held.id)["legal_hold"] is True

    refused = client.post(ERASE, json={"email": "ann@example.com"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "confirmation_required"
    assert rows(engine, first.id)["conversation"] == 1

    erased = client.post(ERASE, json={"email": "ann@example.com", "confirm": True})
    assert erased.status_code == 200, erased.text
    result = erased.json()
    assert result["held"] == [held.id]
    assert result["erased"]["conversation"] == 2
    assert rows(engine, first.id) == dict.fromkeys(TABLES, 0)
    assert rows(engine, third.id) == dict.fromkeys(TABLES, 0)
    assert rows(engine, held.id)["conversation_event"] >= 1
    assert rows(engine, second.id)["conversation_event"] >= 1
    after = client.get(EXPORT, params={"email": "ann@example.com"}).json()
    assert [c["id"] for c in after["conversations"]] == [held.id]

    by_id = client.get(EXPORT, params={"conversation_id": second.id}).json()
    assert [c["id"] for c in by_id["conversations"]] == [second.id]

    # The audit log names no one: a masked address and its hash.
    logged = json.dumps(
        [e["detail"] for e in audit(engine, "customer.exported") + audit(engine, "customer.erased")]
    )
    assert "ann@example.com" not in logged.lower()
    entry = audit(engine, "customer.erased")[0]["detail"]
    assert entry["selector"]["masked"] == "a***@e***.com"
    assert len(entry["selector"]["sha256"]) == 64
    assert entry["held"] == [held.id]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "selector"),
        ({"email": "a@example.com", "conversation_id": "x"}, "selector"),
        ({"email": "not-an-address"}, "selector"),
        ({"email": "   "}, "selector"),
        ({"email": " ", "external_id": "x", "conversation_id": "y"}, "selector"),
        ({"email": "x" * 255 + "@e.com"}, "query.email"),
    ],
)
def test_a_bad_selector_is_a_422_and_changes_nothing(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    engine = engine_of(client)
    exported = client.get(EXPORT, params=params)
    assert exported.status_code == 422, exported.text
    erased = client.post(ERASE, json={**params, "confirm": True})
    assert erased.status_code == 422, erased.text
    if field == "selector":
        assert exported.json()["error"]["code"] == "invalid_selector"
        assert erased.json()["error"]["code"] == "invalid_selector"
    assert audit(engine, "customer.exported") == audit(engine, "customer.erased") == []


def test_legal_hold_needs_a_reason_and_an_existing_conversation(client: TestClient) -> None:
    chat = Chat(client, "c@example.com")
    url = f"/api/admin/conversations/{chat.id}/legal-hold"
    assert client.post(url, json={}).status_code == 422
    assert client.post(url, json={"reason": "   "}).status_code == 422
    missing = client.post("/api/admin/conversations/nope/legal-hold", json={"reason": "r"})
    assert missing.status_code == 404
    assert client.get(url).json()["legal_hold"] is False
    assert client.post(url, json={"reason": "r"}).json()["changed"] is True
    assert client.post(url, json={"reason": "r"}).json()["changed"] is False
    assert client.get(url).json()["legal_hold"] is True
    assert len(audit(engine_of(client), "legal_hold.set")) == 1
    # The agent's context packet says so.
    offline = client.post(
        f"/api/chat/conversations/{chat.id}/offline-message",
        json={"email": chat.email, "text": "call me"},
        headers=chat.headers,
    )
    assert offline.status_code == 201, offline.text
    exported = client.get(EXPORT, params={"conversation_id": chat.id}).json()
    ticket_id = exported["conversations"][0]["tickets"][0]["id"]
    packet = client.get(f"/api/agent/tickets/{ticket_id}").json()["context"]
    assert packet["customer"]["legal_hold"] is True


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
def test_staff_who_are_not_admins_get_403(
    migrated: Settings, embedder: SentenceEmbedder, role: Role
) -> None:
    with TestClient(create_app(migrated, embedder=embedder)) as client:
        chat = Chat(client, "d@example.com")
        log_in(client, role)
        for method, url, body in (
            ("POST", PURGE, {"dry_run": True}),
            ("GET", "/api/admin/privacy/retention", None),
            ("GET", f"{EXPORT}?email=d@example.com", None),
            ("POST", ERASE, {"email": "d@example.com", "confirm": True}),
            ("POST", f"/api/admin/conversations/{chat.id}/legal-hold", {"reason": "r"}),
            ("DELETE", f"/api/admin/conversations/{chat.id}/legal-hold", {"reason": "r"}),
        ):
            response = client.request(method, url, json=body)
            assert response.status_code == 403, (method, url, response.text)
        assert rows(engine_of(client), chat.id)["conversation"] == 1


@pytest.fixture
def scheduled(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    changed = migrated.model_copy(update={"purge_interval_seconds": 0.2})
    with TestClient(create_app(changed, embedder=embedder)) as client:
        log_in(client)
        yield client


def test_the_server_purges_on_its_schedule_once_per_interval(scheduled: TestClient) -> None:
    engine = engine_of(scheduled)
    chat = Chat(scheduled, "e@example.com")
    chat.say("hello")
    age(engine, chat.id, days=2000)
    # The run's audit entry is written once its deletions have committed.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = audit(engine, "purge.run")
        if sum(r["detail"]["counts"]["conversation"] for r in runs) == 1:
            break
        time.sleep(0.1)
    assert sum(r["detail"]["counts"]["conversation"] for r in runs) == 1
    assert rows(engine, chat.id) == dict.fromkeys(TABLES, 0)
    assert {r["actor_name"] for r in runs} == {"scheduler"}
    # Once per interval: runs are spaced by the interval, however often the server checks.
    times = [r["at"] for r in runs]
    assert all(b - a >= timedelta(seconds=0.2) for a, b in pairwise(times))
    assert scheduled.get("/api/admin/privacy/retention").json() == {
        "retention_days": 1095,
        "audit_retention_days": 2190,
        "purge_interval_seconds": 0.2,
    }


def test_the_cli_purges_exports_and_erases(client: TestClient, migrated: Settings) -> None:
    engine = engine_of(client)
    old = Chat(client, "f@example.com").fill()
    age(engine, old.id, days=1100)
    keep = Chat(client, "g@example.com")
    keep.say("I want my money back")

    dry = run_kefu(migrated, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "conversation 1" in one_line(dry.stdout)
    assert rows(engine, old.id)["conversation"] == 1
    done = run_kefu(migrated, "purge")
    assert done.returncode == 0, done.stderr
    assert "conversation 1" in one_line(done.stdout)
    assert rows(engine, old.id) == dict.fromkeys(TABLES, 0)
    assert [e["actor_name"] for e in audit(engine, "purge.run")] == ["cli", "cli"]

    exported = run_kefu(migrated, "customer", "export", "--email", "g@example.com")
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    said = [e["payload"].get("text") for e in data["conversations"][0]["events"]]
    assert "I want my money back" in said

    unconfirmed = run_kefu(migrated, "customer", "erase", "--email", "g@example.com")
    assert unconfirmed.returncode == 2
    assert rows(engine, keep.id)["conversation"] == 1
    bad = run_kefu(migrated, "customer", "erase", "--email", "nope", "--yes")
    assert bad.returncode == 2
    assert "not an e-mail address" in one_line(bad.stderr)
    erased = run_kefu(migrated, "customer", "erase", "--email", "g@example.com", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "conversation: 1" in erased.stdout
    assert rows(engine, keep.id) == dict.fromkeys(TABLES, 0)
    assert audit(engine, "customer.erased")[0]["actor_name"] == "cli"


IDENTITY_SECRET = "s" * 40


def test_a_signed_customer_is_exported_and_erased_by_external_id(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    signed = migrated.model_copy(update={"identity_secret": IDENTITY_SECRET})
    expires = int(time.time()) + 600
    claims = IdentityClaims(external_id="u-42", email="ada@example.com", expires=expires)
    with TestClient(create_app(signed, embedder=embedder)) as client:
        log_in(client)
        started = client.post(
            "/api/chat/conversations",
            json={
                "external_id": "u-42",
                "email": "ada@example.com",
                "identity_expires": expires,
                "identity_hash": sign_identity(IDENTITY_SECRET, claims),
            },
        )
        assert started.status_code == 201, started.text
        ada = started.json()["conversation_id"]
        other = Chat(client, "ada@example.com")  # the same address, typed, unsigned
        exported = client.get(EXPORT, params={"external_id": "u-42"}).json()
        assert [c["id"] for c in exported["conversations"]] == [ada]
        assert exported["conversations"][0]["identity_verified"] is True
        erased = client.post(ERASE, json={"external_id": "u-42", "confirm": True}).json()
        assert erased["erased"]["conversation"] == 1
        engine = engine_of(client)
        assert rows(engine, ada)["conversation"] == 0
        assert rows(engine, other.id)["conversation"] == 1
        entry = audit(engine, "customer.erased")[0]["detail"]["selector"]
        assert entry["masked"] == "u-***"
        assert "u-42" not in json.dumps(entry)
