"""A real webhook receiver on loopback: the app's side of an API channel's outbound events.

An ``http.server`` in a thread on 127.0.0.1 that checks each request's signature the way
docs/channels.md tells an app to (HMAC-SHA256 of ``"{t}.{body}"`` with the signing secret,
within a tolerance), and keeps what it got. ``answers`` scripts the status of the next
requests (then 200); ``delay`` holds each answer; ``stop``/``start`` take it down and bring it
back on the same port, so the sender meets a refused connection in between.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Received", "Receiver", "verify"]

TOLERANCE_SECONDS = 300


def verify(secret: str, body: bytes, header: str, *, now: float | None = None) -> bool:
    """What an app does with ``X-Kefu-Signature: t=...,v1=...``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts.get("v1", ""))


@dataclass
class Received:
    at: float  # time.time() when it arrived
    path: str
    headers: dict[str, str]
    raw: bytes
    signed: bool

    @property
    def body(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.raw)
        return loaded

    @property
    def delivery(self) -> str:
        return self.headers.get("X-Kefu-Delivery", "")


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.got: list[Received] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self.redirect_to: str | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/kefu"

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self, path: str = "/hooks/kefu") -> list[Received]:
        with self._lock:
            return [r for r in self.got if r.path == path]

    def _answer(self) -> int:
        with self._lock:
            return self.answers.pop(0) if self.answers else 200

    def _keep(self, received: Received) -> None:
        with self._lock:
            self.got.append(received)

    def _handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signed = verify(receiver.secret, raw, self.headers.get("X-Kefu-Signature", ""))
                headers = dict(self.headers.items())
                receiver._keep(Received(time.time(), self.path, headers, raw, signed))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.redirect_to and self.path != receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", receiver.redirect_to)
                else:
                    self.send_response(receiver._answer())
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
