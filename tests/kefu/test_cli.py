"""The ``kefu`` command, run as a real subprocess against the test's database and data directory.

Every run loads the embedding model, so each test strings several commands together.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.cli_runner import one_line, run_kefu
from tests.conftest import staff_client
from tests.factories import FAQ_URL, top_id

pytestmark = pytest.mark.slow

FAQS_CSV = (
    "id,question,answer,category,language,tags,alternatives\n"
    "en-track,How do I track my order?,Open My Orders to see the tracking number.,orders,en,"
    "tracking,Where is my parcel?\n"
    "en-track,my package hasn't arrived yet,,,,,\n"
    "zh-refund,退款多久到账？,退款在5个工作日内到账。,refunds,zh,退款,钱什么时候退回来\n"
    'en-pay,Which payment methods do you accept?,"Cards, PayPal and Alipay.",payments,en,,\n'
)

BAD_CSV = (
    "id,question,answer,language\n"
    "a,Where is my order?,Open My Orders.,en\n"
    "b,退款多久到账？,5个工作日内到账。,zh\n"
    "c,,An answer without a question.,en\n"
    "d,Can I pay by card?,Yes.,en\n"
    "e,Do you ship abroad?,Yes.,xx\n"
)


def test_kb_commands_import_export_and_reindex(
    settings: Settings, embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    upgraded = run_kefu(settings, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "newest schema" in upgraded.stderr

    faqs = tmp_path / "faqs.csv"
    faqs.write_text(FAQS_CSV, "utf-8")
    first = run_kefu(settings, "kb", "import", str(faqs))
    assert first.returncode == 0, first.stderr
    assert "FAQ entries: 3 created, 0 updated, 0 unchanged" in one_line(first.stderr)

    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, "utf-8")
    rejected = run_kefu(settings, "kb", "import", str(bad))
    assert rejected.returncode == 2
    message = one_line(rejected.stderr)
    assert "nothing was imported" in message
    assert "line 4 question" in message
    assert "line 6 language" in message

    out = tmp_path / "out" / "kb.json"
    out.parent.mkdir()
    exported = run_kefu(settings, "kb", "export", str(out))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(out.read_text("utf-8"))
    assert [e["id"] for e in document["faqs"]] == ["en-pay", "en-track", "zh-refund"]
    assert document["intents"] == []
    track = next(e for e in document["faqs"] if e["id"] == "en-track")
    assert track["alternatives"] == ["Where is my parcel?", "my package hasn't arrived yet"]

    to_stdout = run_kefu(settings, "kb", "export", "-", "--format", "csv")
    assert to_stdout.returncode == 0, to_stdout.stderr
    rows = list(csv.DictReader(io.StringIO(to_stdout.stdout)))
    assert [row["id"] for row in rows] == ["en-pay", "en-track", "zh-refund"]
    assert rows[2]["question"] == "退款多久到账？"
    assert rows[2]["alternatives"] == "钱什么时候退回来"

    reindexed = run_kefu(settings, "kb", "reindex")
    assert reindexed.returncode == 0, reindexed.stderr
    expected = "indexed 3 entries (6 phrasings) with all-MiniLM-L6-v2+multilingual-e5-small-q4"
    assert expected in one_line(reindexed.stderr)

    with staff_client(settings, embedder) as client:
        index = client.get("/healthz").json()["index"]
        assert (index["state"], index["entries"], index["vectors"]) == ("ready", 3, 6)
        assert top_id(client, "my package hasn't arrived yet") == "en-track"
        assert top_id(client, "退款多久到账") == "zh-refund"
        assert top_id(client, "can I pay with PayPal") == "en-pay"
        assert client.get(FAQ_URL).json()["total"] == 3


def test_load_demo_only_fills_an_empty_knowledge_base(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    loaded = run_kefu(migrated, "kb", "load-demo", "--if-empty")
    assert loaded.returncode == 0, loaded.stderr
    match = re.search(
        r"demo loaded: (\d+) published entries indexed, (\d+) canned", one_line(loaded.stderr)
    )
    assert match, loaded.stderr
    assert int(match[1]) >= 120
    assert int(match[2]) >= 10
    # Every step's bar ends finished, also a step that had no count to report.
    assert "0/?" not in loaded.stdout
    assert re.search(r"Checking the FAQ index .* done", loaded.stdout), loaded.stdout

    again = run_kefu(migrated, "kb", "load-demo", "--if-empty")
    assert again.returncode == 0, again.stderr
    assert "already has entries; demo not loaded" in one_line(again.stderr)

    with staff_client(migrated, embedder) as client:
        for language in ("en", "zh"):
            page = client.get(FAQ_URL, params={"language": language}).json()
            assert page["total"] >= 60
        assert client.get(FAQ_URL).json()["total"] == int(match[1])
        assert len(client.get("/api/admin/kb/intents").json()) >= 10
        assert client.get("/healthz").json()["index"]["state"] == "ready"
        shortcuts = {c["shortcut"] for c in client.get("/api/agent/canned").json()["canned"]}
        assert {"hello", "nihao"} <= shortcuts
        assert top_id(client, "How do I track my order?") == "en-order-track"
        assert top_id(client, "怎么查询订单物流？") == "zh-order-track"


EVAL_FAQS = (
    "id,question,answer,language\n"
    "en-track,How do I track my order?,Open My Orders.,en\n"
    "en-track,Where is my parcel?,Open My Orders.,en\n"
    "en-refund,When will I get my refund?,Within 5 working days.,en\n"
    "en-password,How do I reset my password?,Use the link on the sign-in page.,en\n"
    "zh-track,怎么查询订单物流？,进入我的订单查看物流。,zh\n"
    "zh-track,快递到哪了,进入我的订单查看物流。,zh\n"
    "zh-refund,退款多久到账？,5个工作日内到账。,zh\n"
    "zh-invoice,怎么开发票？,在订单详情页申请发票。,zh\n"
)

EVAL_QUERIES = (
    "text,faq_id\n"
    "where is my package,en-track\n"
    "how long until I get my refund,en-refund\n"
    "I forgot my password,en-password\n"
    "我的快递到哪了？,zh-track\n"
    "退款多久能到账,zh-refund\n"
    "发票怎么开,zh-invoice\n"
)


def test_eval_retrieval_scores_queries_and_writes_predictions(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", database_url="", _env_file=None)
    faqs, queries = tmp_path / "faqs.csv", tmp_path / "queries.csv"
    faqs.write_text(EVAL_FAQS, "utf-8")
    queries.write_text(EVAL_QUERIES, "utf-8")
    out = tmp_path / "eval" / "predictions.csv"
    result = run_kefu(
        settings,
        "eval",
        "retrieval",
        "--faqs",
        str(faqs),
        "--queries",
        str(queries),
        "--predictions",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    match = re.search(r"queries=6 top1=([\d.]+) top5=([\d.]+) mrr=([\d.]+)", result.stdout)
    assert match, result.stdout
    top1, top5, mrr = (float(value) for value in match.groups())
    assert top1 == 1.0
    assert top5 == 1.0
    assert mrr == 1.0

    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["text", "faq_id", "top1", "top5"]
        rows = list(reader)
    assert [row["text"] for row in rows] == [
        line.split(",")[0] for line in EVAL_QUERIES.splitlines()[1:]
    ]
    for row in rows:
        assert row["top1"] == row["faq_id"]
        ranked = row["top5"].split("|")
        assert ranked[0] == row["top1"]
        assert len(ranked) == len(set(ranked)) == 5


def test_import_errors_quoting_square_brackets_are_reported(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", database_url="", _env_file=None)
    bad = tmp_path / "shortcuts.yaml"
    bad.write_text(
        'faqs:\n  - question: How do I search?\n    answer: "Press [/] to search\n', "utf-8"
    )
    result = run_kefu(settings, "kb", "import", str(bad))
    assert result.returncode == 2
    assert "line 4" in result.stderr
    assert "Press [/] to search" in result.stderr
