"""Admins manage channels over ``/api/admin/channels``: create (secrets shown once), read,
change, rotate; every change audited, no secret in the log; bad input changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from core.staff import Role
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import log_in, staff_client

CHANNELS = "/api/admin/channels"


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(CHANNELS, json={"name": "shop-app", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def audit(client: TestClient, action: str) -> list[dict[str, Any]]:
    response = client.get("/api/admin/audit-log", params={"action": action, "limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def send(client: TestClient, name: str, secret: str, text: str = "hello") -> Any:
    return client.post(
        f"/api/channels/{name}/messages",
        json={"contact": {"id": "u-1"}, "text": text},
        headers={"Authorization": f"Bearer {secret}"},
    )


def detail_code(response: Any) -> str:
    error = response.json()["error"]
    details = error["details"]
    return str(details[0].get("code") if details and "code" in details[0] else error["code"])


def test_a_channel_is_created_with_its_secrets_shown_once(client: TestClient) -> None:
    created = create(client, webhook_url="https://app.example/kefu-events")
    assert created["kind"] == "api"
    assert created["enabled"] is True
    assert created["inbound_path"] == "/api/channels/shop-app/messages"
    assert created["secret"].startswith("kefu_in_")
    assert created["signing_secret"].startswith("kefu_whsec_")
    assert len(created["secret"]) > 40
    assert created["has_secret"] is created["has_signing_secret"] is True
    shown = client.get(f"{CHANNELS}/shop-app").json()
    listed = client.get(CHANNELS).json()
    assert listed == [shown]
    for record in (shown, *listed):
        assert "secret" not in record
        assert "signing_secret" not in record
        assert created["secret"] not in json.dumps(record)
    assert shown["webhook_url"] == "https://app.example/kefu-events"
    # The secret works for the app at once.
    assert send(client, "shop-app", created["secret"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": ""}, "invalid_name"),
        ({"name": "Shop"}, "invalid_name"),
        ({"name": "-shop"}, "invalid_name"),
        ({"name": ".."}, "invalid_name"),
        ({"name": "shop app"}, "invalid_name"),
        ({"name": "商店"}, "invalid_name"),
        ({"name": "s" * 65}, "invalid_name"),
        ({"name": "shop", "kind": "wechat"}, "unsupported_kind"),
        ({"name": "shop", "kind": "nonsense"}, "unsupported_kind"),
        ({"name": "shop", "webhook_url": "ftp://app.example/x"}, "invalid_webhook_url"),
        ({"name": "shop", "webhook_url": "app.example/x"}, "invalid_webhook_url"),
        ({"name": "shop", "webhook_url": "https://"}, "invalid_webhook_url"),
        (
            {"name": "shop", "webhook_url": "https://app.example/" + "x" * 2000},
            "invalid_webhook_url",
        ),
        ({"name": "shop", "enabled": "maybe"}, "invalid"),
        ({"name": None}, "invalid"),
        ({"name": "shop\u0000"}, "invalid"),
    ],
)
def test_a_bad_channel_is_refused_and_nothing_is_saved(
    client: TestClient, body: dict[str, Any], code: str
) -> None:
    response = client.post(CHANNELS, json=body)
    assert response.status_code == 422, response.text
    assert detail_code(response) == code or response.json()["error"]["code"] == code
    assert client.get(CHANNELS).json() == []
    assert audit(client, "channel.") == []


def test_a_taken_name_is_a_409(client: TestClient) -> None:
    create(client)
    again = client.post(CHANNELS, json={"name": "shop-app"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_name"
    assert len(client.get(CHANNELS).json()) == 1


def test_a_channel_is_changed_field_by_field_and_never_set_to_null(client: TestClient) -> None:
    create(client)
    path = f"{CHANNELS}/shop-app"
    changed = client.patch(path, json={"webhook_url": "http://127.0.0.1:9000/hook"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["webhook_url"] == "http://127.0.0.1:9000/hook"
    assert changed.json()["enabled"] is True
    disabled = client.patch(path, json={"enabled": False}).json()
    assert (disabled["enabled"], disabled["webhook_url"]) == (False, "http://127.0.0.1:9000/hook")
    for body in ({"enabled": None}, {"webhook_url": None}, {"webhook_url": "gopher://x"}):
        refused = client.patch(path, json=body)
        assert refused.status_code == 422, body
    assert client.get(path).json() == disabled
    cleared = client.patch(path, json={"webhook_url": ""}).json()
    assert cleared["webhook_url"] is None
    # The name and kind are not for changing: an app's integration names the channel.
    kept = client.patch(path, json={"name": "renamed", "kind": "email"}).json()
    assert (kept["name"], kept["kind"]) == ("shop-app", "api")
    unknown = client.patch(f"{CHANNELS}/no-such", json={"enabled": True})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_channel"
    assert client.get(f"{CHANNELS}/no-such").status_code == 404


def test_rotating_one_secret_leaves_the_other(client: TestClient) -> None:
    created = create(client)
    signing = client.post(f"{CHANNELS}/shop-app/rotate-signing-secret")
    assert signing.status_code == 200, signing.text
    assert signing.json()["secret"] is None
    new_signing = signing.json()["signing_secret"]
    assert new_signing.startswith("kefu_whsec_")
    assert new_signing != created["signing_secret"]
    # The inbound secret still works; rotating it ends it.
    assert send(client, "shop-app", created["secret"]).status_code == 200
    inbound = client.post(f"{CHANNELS}/shop-app/rotate-secret").json()
    assert inbound["signing_secret"] is None
    assert send(client, "shop-app", created["secret"]).status_code == 401
    assert send(client, "shop-app", inbound["secret"]).status_code == 200
    assert client.post(f"{CHANNELS}/no-such/rotate-secret").status_code == 404


def test_every_change_is_audited_without_a_secret(client: TestClient) -> None:
    created = create(client, webhook_url="https://app.example/hook")
    client.patch(f"{CHANNELS}/shop-app", json={"enabled": False})
    client.patch(f"{CHANNELS}/shop-app", json={"enabled": False})  # no change: no entry
    rotated = client.post(f"{CHANNELS}/shop-app/rotate-secret").json()
    signing = client.post(f"{CHANNELS}/shop-app/rotate-signing-secret").json()
    entries = audit(client, "channel.")
    assert [e["action"] for e in entries] == [
        "channel.secret_rotated",
        "channel.secret_rotated",
        "channel.changed",
        "channel.created",
    ]
    assert {e["actor_name"] for e in entries} == {"admin-tester"}
    assert {(e["target_type"], e["target_id"]) for e in entries} == {
        ("channel", str(created["id"]))
    }
    assert entries[3]["detail"] == {"name": "shop-app", "kind": "api", "enabled": True}
    assert entries[2]["detail"] == {"name": "shop-app", "enabled": [True, False]}
    assert [e["detail"]["secret"] for e in entries[:2]] == ["signing", "inbound"]
    text = json.dumps(entries)
    for secret in (
        created["secret"],
        created["signing_secret"],
        rotated["secret"],
        signing["signing_secret"],
    ):
        assert secret not in text


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
def test_only_admins_manage_channels(
    migrated: Settings, embedder: SentenceEmbedder, role: Role
) -> None:
    with staff_client(migrated, embedder) as client:
        created = create(client)
        log_in(client, role)
        assert client.get(CHANNELS).status_code == 403
        assert client.post(CHANNELS, json={"name": "other"}).status_code == 403
        assert client.post(f"{CHANNELS}/shop-app/rotate-secret").status_code == 403
        # The app's own routes take the channel's secret, not a staff session.
        assert send(client, "shop-app", "").status_code == 401
        assert send(client, "shop-app", created["secret"]).status_code == 200


def test_a_channel_is_held_to_its_message_limit(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    limited = migrated.model_copy(update={"limit_messages_per_channel": "2/minute"})
    with staff_client(limited, embedder) as client:
        secret = create(client)["secret"]
        assert [send(client, "shop-app", secret).status_code for _ in range(2)] == [200, 200]
        refused = send(client, "shop-app", secret)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        # A wrong secret spends nothing and learns nothing.
        assert send(client, "shop-app", "nope").status_code == 401
