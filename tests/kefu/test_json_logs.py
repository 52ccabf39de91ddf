"""`KEFU_LOG_FORMAT=json`: every line `kefu serve` writes is one JSON record, tokens redacted."""

from __future__ import annotations

import json

import httpx
import pytest

from core.settings import Settings
from tests.processes import prepare_database, running

pytestmark = pytest.mark.slow


def test_json_logs_are_one_record_per_line_with_tokens_redacted(settings: Settings) -> None:
    prepare_database(settings)
    with (
        running(settings, "json", env={"KEFU_LOG_FORMAT": "json"}) as (server,),
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        started = http.post("/api/chat/conversations").json()
        token = started["token"]
        path = f"/api/chat/conversations/{started['conversation_id']}/events"
        assert http.get(f"{path}?token={token}").status_code == 401
    lines = [line for line in server.log.read_text("utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # any line that is not JSON fails here
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
    messages = [record["message"] for record in records]
    assert any("checking the FAQ index" in m for m in messages)
    assert any("Uvicorn running" in m for m in messages)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert any("/events?token=[redacted]" in r["message"] for r in access), access
    assert token not in server.log.read_text("utf-8")
