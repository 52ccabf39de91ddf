"""No customer token and no staff session token ever reaches the server's log.

``kefu serve`` runs as a real process at debug level, so uvicorn's access and error logs and
every library's debug output are captured; the customer uses every way of sending its token.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from core.settings import Settings
from tests.conftest import PASSWORD
from tests.processes import ServerProcess, prepare_database, running

pytestmark = pytest.mark.slow


@contextmanager
def kefu_serve(settings: Settings) -> Iterator[ServerProcess]:
    """``kefu serve`` at debug level, everything it prints in ``server.log``."""
    prepare_database(settings)
    with running(settings, "server", env={"KEFU_LOG_LEVEL": "debug"}) as (server,):
        yield server


def ws_url(url: str, query: str) -> str:
    return url.replace("http", "ws", 1) + "/api/chat/ws?" + query


def until_ready(ws: ClientConnection) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if '"ready"' in str(ws.recv(timeout=30)):
            return
    raise AssertionError("no ready frame")


def test_no_token_reaches_the_server_log(settings: Settings) -> None:
    secrets: list[str] = []
    with kefu_serve(settings) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        url = server.url
        started = http.post("/api/chat/conversations").json()
        cid, token = started["conversation_id"], started["token"]
        secrets.append(token)
        bearer = {"Authorization": f"Bearer {token}"}
        # The old transport: the token in the URL. It still works.
        with connect(
            ws_url(url, f"conversation_id={cid}&token={token}&last_seq=0"), proxy=None
        ) as ws:
            until_ready(ws)
        # The header transport the widget uses.
        with connect(
            ws_url(url, f"conversation_id={cid}&last_seq=0"),
            subprotocols=[Subprotocol("kefu.v1"), Subprotocol(f"kefu.token.{token}")],
            proxy=None,
        ) as ws:
            assert ws.subprotocol == "kefu.v1"
            until_ready(ws)
        # A refused socket logs too.
        with connect(ws_url(url, f"conversation_id={cid}&token=wrong{token}"), proxy=None) as ws:
            assert "invalid_token" in str(ws.recv(timeout=30))
        # REST with the token, and with it where it does not belong (a query string).
        assert http.get(f"/api/chat/conversations/{cid}/events", headers=bearer).status_code == 200
        http.get(f"/api/chat/conversations/{cid}/events?token={token}&access_token={token}")
        http.get(f"/api/chat/conversations/{cid}/status", headers=bearer)
        rotated = http.post(f"/api/chat/conversations/{cid}/token", headers=bearer)
        assert rotated.status_code == 200, rotated.text
        secrets.append(rotated.json()["token"])
        # Staff: the session cookie and the CSRF token.
        login = http.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        assert login.status_code == 200, login.text
        secrets += [login.cookies["kefu_session"], login.json()["csrf_token"]]
        assert http.get("/api/auth/me").status_code == 200
    text = server.log.read_text("utf-8", "replace")
    # The log does record the socket and the requests: the test can see a leak.
    assert "/api/chat/ws?conversation_id=" in text, text
    assert f"/api/chat/conversations/{cid}/events" in text, text
    for secret in secrets:
        assert secret not in text, f"a token is in the server log:\n{text}"
    assert "token=[redacted]" in text
