"""Driving the customer chat API as a client would."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession


class Customer:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        body = client.post("/api/chat/conversations").json()
        self.id: str = body["conversation_id"]
        self.token: str = body["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def say(self, text: str, **extra: Any) -> list[dict[str, Any]]:
        response = self.client.post(
            f"/api/chat/conversations/{self.id}/messages",
            json={"text": text, **extra},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()["replies"]
        return replies

    def reply_to(self, text: str, **extra: Any) -> dict[str, Any]:
        messages = [e for e in self.say(text, **extra) if e["type"] == "message"]
        assert len(messages) == 1, messages
        payload: dict[str, Any] = messages[0]["payload"]
        payload["seq"] = messages[0]["seq"]
        return payload

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        response = self.client.get(
            f"/api/chat/conversations/{self.id}/events",
            params={"after": after},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def socket(self, last_seq: int = 0) -> WebSocketTestSession:
        return self.client.websocket_connect(
            f"/api/chat/ws?conversation_id={self.id}&token={self.token}&last_seq={last_seq}"
        )


def receive_until(
    ws: WebSocketTestSession, predicate: Any, limit: int = 20
) -> list[dict[str, Any]]:
    """Frames up to and including the first one ``predicate`` accepts."""
    frames = []
    for _ in range(limit):
        frame: dict[str, Any] = ws.receive_json()
        frames.append(frame)
        if predicate(frame):
            return frames
    raise AssertionError(f"no matching frame in {frames}")


def is_bot_message(frame: dict[str, Any]) -> bool:
    event = frame.get("event") or {}
    return frame.get("type") == "event" and event.get("author") == "bot"
