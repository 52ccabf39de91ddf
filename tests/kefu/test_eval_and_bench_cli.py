"""`kefu eval intents`, `kefu eval sentiment` and `kefu bench`, run as a user runs them."""

from __future__ import annotations

import csv
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.cli_runner import KEFU, kefu_env, one_line, run_kefu
from tests.processes import ServerProcess

pytestmark = pytest.mark.slow

INTENT_EXAMPLES = {
    "track_order": [
        "where is my order",
        "track my parcel",
        "has my package shipped",
        "order status please",
        "when will my order arrive",
        "my delivery is late where is it",
        "tracking number for my order",
        "is my parcel on the way",
        "我的快递到哪了",
        "查一下物流",
    ],
    "refund": [
        "I want my money back",
        "how do I get a refund",
        "refund my purchase",
        "when is my refund coming",
        "return the money to my card",
        "I was promised a refund",
        "refund status",
        "money back please",
        "我要退款",
        "退款什么时候到账",
    ],
    "password": [
        "I forgot my password",
        "reset my password",
        "can't log in to my account",
        "change my password",
        "password reset link not working",
        "locked out of my account",
        "how to recover my login",
        "new password please",
        "忘记密码了",
        "怎么修改密码",
    ],
    "greeting": [
        "hello",
        "hi there",
        "good morning",
        "hey",
        "hi",
        "good evening",
        "hello, anyone there",
        "greetings",
        "你好",
        "您好",
    ],
}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def cli_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url="", _env_file=None)


def test_eval_intents_trains_on_train_only_and_reports_out_of_scope(
    cli_settings: Settings, tmp_path: Path
) -> None:
    train: list[dict[str, str]] = []
    test: list[dict[str, str]] = []
    for intent, examples in INTENT_EXAMPLES.items():
        for n, text in enumerate(examples):
            (test if n % 5 == 4 else train).append({"text": text, "intent": intent})
    test += [
        {"text": "what is the capital of Mongolia", "intent": "none"},
        {"text": "recommend me a pasta recipe", "intent": "none"},
    ]
    out = tmp_path / "pred.csv"
    result = run_kefu(
        cli_settings,
        "eval",
        "intents",
        "--train",
        str(write_csv(tmp_path / "train.csv", train)),
        "--test",
        str(write_csv(tmp_path / "test.csv", test)),
        "--label-column",
        "intent",
        "--oos-label",
        "none",
        "--predictions",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    line = one_line(result.stdout)
    for key in ("accuracy=", "macro_f1=", "in_scope_accuracy=", "oos_recall=", "oos_precision="):
        assert key in line
    curve = curve_rows(result.stdout)
    thresholds = [row[0] for row in curve]
    assert thresholds == sorted(thresholds)
    assert {0.05, 0.5, 0.95} <= {round(t, 4) for t in thresholds}
    # Raising the threshold never answers more in scope, and never rejects fewer unknowns.
    assert [row[1] for row in curve] == sorted((row[1] for row in curve), reverse=True)
    assert [row[2] for row in curve] == sorted(row[2] for row in curve)
    chosen = [row for row in curve if row[4]]
    assert len(chosen) == 1
    threshold = float(line.split("threshold=")[1].split()[0])
    assert chosen[0][0] == pytest.approx(threshold, abs=1e-4)
    in_scope = float(line.split("in_scope_accuracy=")[1].split()[0])
    assert chosen[0][1] == pytest.approx(in_scope, abs=1e-4)
    rows = list(csv.DictReader(out.read_text("utf-8").splitlines()))
    assert list(rows[0]) == ["text", "label", "predicted", "confidence"]
    assert len(rows) == len(test)
    known = [r for r in rows if r["label"] != "none"]
    # Eight examples an intent, one or two of them Chinese: a known question is answered right
    # or rejected, never answered wrong, and the two unrelated ones are rejected.
    assert all(r["predicted"] in {r["label"], "none"} for r in known)
    assert sum(r["label"] == r["predicted"] for r in known) >= len(known) / 2
    assert all(r["predicted"] == "none" for r in rows if r["label"] == "none")
    assert all(0.0 <= float(r["confidence"]) <= 1.0 for r in rows)


def curve_rows(stdout: str) -> list[tuple[float, float, float, float, bool]]:
    """The printed curve: threshold, in-scope accuracy, OOS recall, precision, chosen."""
    lines = stdout.splitlines()
    start = next(i for i, text in enumerate(lines) if text.startswith("threshold "))
    assert lines[start].split() == [
        "threshold",
        "in_scope_accuracy",
        "oos_recall",
        "oos_precision",
    ]
    rows = []
    for text in lines[start + 1 :]:
        threshold, in_scope, recall, precision = (float(c) for c in text.split()[:4])
        rows.append((threshold, in_scope, recall, precision, "chosen" in text))
    return rows


def test_eval_intents_names_a_missing_column(cli_settings: Settings, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "t.csv", [{"text": "hi", "label": "greeting"}])
    result = run_kefu(
        cli_settings,
        "eval",
        "intents",
        "--train",
        str(data),
        "--test",
        str(data),
        "--label-column",
        "category",
        "--predictions",
        str(tmp_path / "o.csv"),
    )
    assert result.returncode == 2
    assert "category" in one_line(result.stderr)


def test_eval_sentiment_writes_predictions_and_per_class_scores(
    cli_settings: Settings, tmp_path: Path
) -> None:
    rows = [
        {
            "text": "This is a disgrace, you scammed me and I want my money back NOW!!!",
            "label": "negative",
        },
        {"text": "垃圾服务，气死我了，我要投诉！", "label": "negative"},
        {"text": "Where is my order?", "label": "neutral"},
        {"text": "我的快递到哪了", "label": "neutral"},
        {"text": "Thank you so much, that was really helpful!", "label": "positive"},
        {"text": "谢谢，服务很好，非常满意", "label": "positive"},
    ]
    out = tmp_path / "pred.csv"
    result = run_kefu(
        cli_settings,
        "eval",
        "sentiment",
        "--test",
        str(write_csv(tmp_path / "s.csv", rows)),
        "--predictions",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    text = one_line(result.stdout)
    assert "negative: precision=1.0000 recall=1.0000 f1=1.0000 support=2" in text
    predicted = list(csv.DictReader(out.read_text("utf-8").splitlines()))
    assert [r["predicted"] for r in predicted] == [r["label"] for r in rows]


def demo_server(settings: Settings, name: str, **env: str) -> ServerProcess:
    """A ``kefu serve`` process (not started) on a migrated database holding the demo."""
    for args in (("db", "upgrade"), ("kb", "load-demo")):
        assert run_kefu(settings, *args).returncode == 0
    return ServerProcess(settings, name, KEFU_DATABASE_URL=settings.resolved_database_url, **env)


def bench(server: ServerProcess, settings: Settings, *args: str) -> tuple[dict[str, Any], str]:
    result = run_kefu(settings, "bench", "--url", server.url, "--json", *args)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary, result.stderr


def test_bench_speaks_the_websocket_protocol_to_a_real_server(cli_settings: Settings) -> None:
    server = demo_server(cli_settings, "bench")
    try:
        server.start()
        closed, _ = bench(server, cli_settings, "--clients", "3", "--messages", "4")
        # Open loop: 4 messages a second for 3 s, offered by whichever of 5 customers is free.
        opened, progress = bench(
            server, cli_settings, "--clients", "5", "--rate", "4", "--duration", "3"
        )
    finally:
        server.stop()
    assert set(closed) == {
        "clients",
        "messages",
        "errors",
        "lost",
        "reconnects",
        "throughput_per_s",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "memory_per_customer_kb",
        "stages_ms",
        "error_codes",
    }
    assert (closed["clients"], closed["messages"], closed["errors"], closed["lost"]) == (
        3,
        12,
        0,
        0,
    )
    assert 0 < closed["p50_ms"] <= closed["p95_ms"] <= closed["p99_ms"]
    # Read from the server's /metrics before and after the customers connected.
    assert isinstance(closed["memory_per_customer_kb"], float)
    # Where a turn's time went, from the server's /metrics: every stage, within the turn.
    stages = closed["stages_ms"]
    assert set(stages) >= {"read", "encode", "intents", "sentiment", "retrieval", "write", "turn"}
    assert 0 < stages["encode"] < stages["turn"]
    assert (opened["clients"], opened["messages"], opened["errors"], opened["lost"]) == (
        5,
        12,
        0,
        0,
    )
    # The offered rate sets the pace: the 12th message is due 2.75 s after the first, so
    # however fast the server, no more than 12 / 2.75 a second.
    assert opened["throughput_per_s"] <= 4.4
    assert "sent " in progress
    assert "answered " in progress


def test_bench_counts_refused_messages_by_their_error_code(cli_settings: Settings) -> None:
    """A run that ends with errors says which: here the server allows two messages a
    conversation, so the third is refused (rate_limited) and the customer starts over."""
    server = demo_server(
        cli_settings, "bench-limited", KEFU_LIMIT_MESSAGES_PER_CONVERSATION="2/minute"
    )
    try:
        server.start()
        summary, _ = bench(server, cli_settings, "--clients", "1", "--messages", "4")
    finally:
        server.stop()
    assert (summary["messages"], summary["errors"], summary["lost"]) == (3, 1, 0), summary
    assert summary["error_codes"] == {"rate_limited": 1}, summary


def test_bench_customers_reconnect_and_replay_when_the_server_is_killed(
    cli_settings: Settings,
) -> None:
    """SIGKILL mid-load and a restart on the same port: every customer reconnects to its own
    conversation from its last seq, sends its pending message again under the same client_id,
    and gets the reply (the restarted process answers the turn the dead one owed)."""
    server = demo_server(
        cli_settings,
        "bench-kill",
        KEFU_BOT_TURN_LEASE_SECONDS="1",
        KEFU_BOT_TURN_SWEEP_SECONDS="0.5",
    )
    command = [str(KEFU), "bench", "--url", server.url, "--json", "--clients", "4"]
    command += ["--rate", "3", "--duration", "12", "--reply-timeout", "240"]
    try:
        server.start()
        with subprocess.Popen(
            command,
            env=kefu_env(cli_settings),
            cwd=cli_settings.data_dir.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as load:
            time.sleep(4)
            server.kill()
            server.start()
            out, err = load.communicate(timeout=600)
    finally:
        server.stop()
    assert load.returncode == 0, err
    summary = json.loads(out)
    assert summary["reconnects"] >= 1, summary
    assert (summary["errors"], summary["lost"]) == (0, 0), summary
    assert summary["messages"] == 36, summary
