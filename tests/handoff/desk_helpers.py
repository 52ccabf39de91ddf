"""Driving the desk as its users do: customers with a conversation token, staff with a session,
over a real server's HTTP and WebSocket."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from core.auth import COOKIE
from core.identity import IdentityClaims, sign_identity
from tests.live import LiveServer

# KEFU_IDENTITY_SECRET of the servers whose customers are signed in on the embedding site.
IDENTITY_SECRET = "test-identity-secret-0123456789abcdef"


def signed(
    secret: str = IDENTITY_SECRET, *, expires: int | None = None, **claims: Any
) -> dict[str, Any]:
    """The start body of a customer whose identity the embedding site signed, as its server
    would (docs/security.md, "Signed identity")."""
    hashed = sign_identity(secret, IdentityClaims(expires=expires, **claims))
    body = {**claims, "identity_hash": hashed}
    return body if expires is None else {**body, "identity_expires": expires}


class Customer:
    def __init__(self, server: LiveServer, **start: Any) -> None:
        self.http = server.http()
        url = server.url
        body = self.http.post("/api/chat/conversations", json=start).json()
        self.id: str = body["conversation_id"]
        self.token: str = body["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.url = url

    def post(self, action: str, **body: Any) -> httpx.Response:
        # ASCII-escaped JSON, as a browser's JSON.stringify sends it, so text no database can
        # store (a lone surrogate) still reaches the server to be refused there.
        return self.http.post(
            f"/api/chat/conversations/{self.id}/{action}",
            content=json.dumps(body) if body else None,
            headers={"Content-Type": "application/json"} if body else None,
        )

    def say(self, text: str) -> list[dict[str, Any]]:
        response = self.post("messages", text=text)
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()["replies"]
        return replies

    def ask_for_person(self) -> dict[str, Any]:
        response = self.post("handoff")
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()
        return status

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.http.get(f"/api/chat/conversations/{self.id}/status").json()
        return status

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        response = self.http.get(
            f"/api/chat/conversations/{self.id}/events", params={"after": after}
        )
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def socket(self, last_seq: int = 0) -> ClientConnection:
        ws_url = self.url.replace("http://", "ws://")
        return connect(
            f"{ws_url}/api/chat/ws?conversation_id={self.id}&token={self.token}&last_seq={last_seq}"
        )


def agent_socket(url: str, staff: httpx.Client) -> ClientConnection:
    ws_url = url.replace("http://", "ws://")
    return connect(
        f"{ws_url}/api/agent/ws",
        additional_headers={"Cookie": f"{COOKIE}={staff.cookies[COOKIE]}", "Origin": url},
    )


def go_online(staff: httpx.Client, presence: str = "online") -> None:
    response = staff.put("/api/agent/me/presence", json={"presence": presence})
    assert response.status_code == 200, response.text


def tickets(staff: httpx.Client, view: str = "queue") -> list[dict[str, Any]]:
    response = staff.get("/api/agent/tickets", params={"view": view})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["tickets"]
    return found


def ticket_of(staff: httpx.Client, conversation_id: str, view: str = "queue") -> dict[str, Any]:
    matching = [t for t in tickets(staff, view) if t["conversation_id"] == conversation_id]
    assert len(matching) == 1, matching
    return matching[0]


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def frames_until(
    ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Frames up to and including the first one ``predicate`` accepts."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        frames.append(frame)
        if predicate(frame):
            return frames
    raise AssertionError(f"no matching frame in {frames}")


def event_of(kind: str, author: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def matches(frame: dict[str, Any]) -> bool:
        event = frame.get("event") or {}
        return (
            frame.get("type") == "event"
            and event.get("type") == kind
            and (author is None or str(event.get("author", "")).startswith(author))
        )

    return matches
