"""Importing and exporting the knowledge base over HTTP: CSV, JSON, YAML and Markdown files,
idempotent re-imports, lossless round trips, and bad files that are rejected whole."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from core.db import make_engine
from core.settings import Settings
from kefu import db as migrations
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import staff_client
from tests.factories import FAQ_URL, faq, search, top_id

IMPORT_URL = "/api/admin/kb/import"
EXPORT_URL = "/api/admin/kb/export"
INTENT_URL = "/api/admin/kb/intents"


def settle(client: TestClient) -> None:
    """Changed intents retrain in the background; let that finish before the database goes."""
    deadline = time.monotonic() + 120
    while client.get("/healthz").json().get("intents", {}).get("training"):
        assert time.monotonic() < deadline, "intent retraining did not finish within 120 s"
        time.sleep(0.05)


@pytest.fixture
def client(client: TestClient) -> Iterator[TestClient]:
    yield client
    settle(client)


def upload(
    client: TestClient, name: str, content: str | bytes, **params: str
) -> tuple[int, dict[str, Any]]:
    response = client.post(IMPORT_URL, files={"file": (name, content)}, params=params)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def imported(client: TestClient, name: str, content: str | bytes, **params: str) -> dict[str, Any]:
    status, report = upload(client, name, content, **params)
    assert status == 200, report
    return report


def rejected(client: TestClient, name: str, content: str | bytes) -> dict[str, Any]:
    """The error of an import that must fail as an invalid file."""
    status, body = upload(client, name, content)
    assert status == 422, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == "invalid_file", error
    return error


def counts(report: dict[str, Any]) -> tuple[int, int, int]:
    return len(report["created"]), len(report["updated"]), len(report["unchanged"])


def entries(client: TestClient) -> dict[str, dict[str, Any]]:
    page = client.get(FAQ_URL, params={"limit": 500}).json()
    return {item["id"]: item for item in page["items"]}


def versions_and_history(client: TestClient) -> dict[str, tuple[int, int]]:
    return {
        entry_id: (entry["version"], len(client.get(f"{FAQ_URL}/{entry_id}/history").json()))
        for entry_id, entry in entries(client).items()
    }


def migrate(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    engine.dispose()


def export(client: TestClient, fmt: str) -> str:
    response = client.get(EXPORT_URL, params={"format": fmt})
    assert response.status_code == 200, response.text
    return response.text


def hit_ids(client: TestClient, query: str) -> list[str]:
    return [hit["entry"]["id"] for hit in search(client, query)]


def index_revision(client: TestClient) -> int:
    revision: int = client.get("/healthz").json()["index"]["revision"]
    return revision


# -- the same small knowledge base in every format ---------------------------------------------

CSV_FILE = (
    "id,question,answer,category,language,tags,status,alternatives\n"
    "en-refund,When will I get my refund?,Refunds arrive within 5 working days.,"
    "refunds,en,refund|money,published,refund timeline\n"
    "en-refund,How long does a refund take?,Refunds arrive within 5 working days.,,,,,\n"
    "zh-track,我的快递到哪了？,进入“我的订单”即可查看物流。,orders,zh,物流,published,怎么查物流\n"
    "zh-track,快递几天能到？,,,,,,物流信息在哪里看\n"
    ',Do you sell gift cards?,"Yes, in any amount.",,,,draft,\n'
)

FAQS: list[dict[str, Any]] = [
    {
        "id": "en-refund",
        "question": "When will I get my refund?",
        "alternatives": ["refund timeline", "How long does a refund take?"],
        "answer": "Refunds arrive within 5 working days.",
        "category": "refunds",
        "language": "en",
        "tags": ["refund", "money"],
        "status": "published",
    },
    {
        "id": "zh-track",
        "question": "我的快递到哪了？",
        "alternatives": ["怎么查物流", "快递几天能到？", "物流信息在哪里看"],
        "answer": "进入“我的订单”即可查看物流。",
        "category": "orders",
        "language": "zh",
        "tags": ["物流"],
        "status": "published",
    },
    {"question": "Do you sell gift cards?", "answer": "Yes, in any amount.", "status": "draft"},
]

INTENTS: list[dict[str, Any]] = [
    {
        "name": "greeting",
        "action": "respond",
        "responses": {"en": "Hi!", "zh": "您好！"},
        "examples": {"en": ["hello", "hi there"], "zh": ["你好"]},
    },
    {
        "name": "human",
        "action": "handoff",
        "examples": {"en": ["talk to a person", "I want a human agent"], "zh": ["转人工"]},
    },
]


def markdown_file() -> str:
    blocks = []
    for entry in FAQS:
        meta = {name: value for name, value in entry.items() if name != "answer"}
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        blocks.append(f"---\n{front}---\n{entry['answer']}\n\n")
    return "".join(blocks)


FILES: dict[str, tuple[str, str]] = {
    "csv": ("faqs.csv", CSV_FILE),
    "json-list": ("faqs.json", json.dumps(FAQS, ensure_ascii=False, indent=2)),
    "json-mapping": (
        "kb.json",
        json.dumps({"faqs": FAQS, "intents": INTENTS}, ensure_ascii=False, indent=2),
    ),
    "yaml": ("kb.yaml", yaml.safe_dump({"faqs": FAQS, "intents": INTENTS}, allow_unicode=True)),
    "markdown": ("faqs.md", markdown_file()),
}


@pytest.mark.parametrize("kind", FILES)
def test_each_format_imports_searchable_english_and_chinese_entries(
    client: TestClient, kind: str
) -> None:
    name, content = FILES[kind]
    report = imported(client, name, content)
    assert counts(report) == (3, 0, 0)
    stored = entries(client)
    [gift_id] = set(stored) - {"en-refund", "zh-track"}
    assert gift_id.startswith("faq-")
    for expected in FAQS[:2]:
        entry = stored[expected["id"]]
        assert {name: entry[name] for name in expected} == expected
        assert entry["version"] == 1
    gift = stored[gift_id]
    assert (gift["language"], gift["status"], gift["category"]) == ("en", "draft", "general")

    assert top_id(client, "how long does a refund take") == "en-refund"
    assert top_id(client, "快递几天能到") == "zh-track"
    assert top_id(client, "物流信息在哪里看") == "zh-track"
    assert gift_id not in hit_ids(client, "Do you sell gift cards?")

    with_intents = kind in {"json-mapping", "yaml"}
    assert report["intents_created"] == (["greeting", "human"] if with_intents else [])
    intents = {i["name"]: i for i in client.get(INTENT_URL).json()}
    assert set(intents) == ({"greeting", "human"} if with_intents else set())
    if with_intents:
        assert intents["greeting"]["responses"] == {"en": "Hi!", "zh": "您好！"}
        assert intents["human"]["action"] == "handoff"


@pytest.mark.parametrize("kind", FILES)
def test_reimporting_the_same_file_changes_nothing(client: TestClient, kind: str) -> None:
    name, content = FILES[kind]
    first = imported(client, name, content)
    before = versions_and_history(client)
    revision = index_revision(client)

    again = imported(client, name, content)
    assert counts(again) == (0, 0, 3)
    assert sorted(again["unchanged"]) == sorted(first["created"])
    assert again["intents_created"] == again["intents_updated"] == []
    assert len(again["intents_unchanged"]) == len(first["intents_created"])
    assert versions_and_history(client) == before
    assert index_revision(client) == revision


def test_format_query_overrides_the_file_name_and_status_fills_in_missing_status(
    client: TestClient,
) -> None:
    content = 'question,answer\nCan I pay by invoice?,"Yes, for business accounts."\n'
    drafts = imported(client, "notes.txt", content, format="csv", status="draft")
    [entry_id] = drafts["created"]
    assert entries(client)[entry_id]["status"] == "draft"
    assert entry_id not in hit_ids(client, "Can I pay by invoice?")

    published = imported(client, "notes.txt", content, format="csv")
    assert published["updated"] == [entry_id]
    assert entries(client)[entry_id]["status"] == "published"
    assert top_id(client, "pay by invoice") == entry_id


# -- export and round trips --------------------------------------------------------------------


def seed_varied_knowledge_base(client: TestClient) -> None:
    """Entries whose text tests each format's quoting: commas, quotes, colons, newlines."""
    faq(
        client,
        id="en-ship",
        question='Do you ship "abroad", e.g. to Japan: yes or no?',
        alternatives=["yes", "404", "international shipping, customs & duties"],
        answer="Yes: to **30 countries**.\n\n- Customs are paid on delivery\n- Tracking: included",
        category="shipping",
        tags=["abroad", "customs"],
    )
    faq(
        client,
        id="zh-invoice",
        question="怎么开发票？",
        alternatives=["发票：电子版还是纸质版？", "能开增值税专用发票吗"],
        answer="在“我的订单”中点击“申请发票”，\n电子发票一般在24小时内发送到邮箱。",
        category="invoices",
        tags=["发票"],
    )
    faq(client, id="en-draft", question="Do you sell gift cards?", status="draft")
    faq(client, id="en-old", question="Is the winter sale on?")
    client.post(f"{FAQ_URL}/en-old/archive").raise_for_status()
    client.patch(f"{FAQ_URL}/en-ship", json={"tags": ["abroad"]}).raise_for_status()
    for intent in INTENTS:
        assert client.post(INTENT_URL, json=intent).status_code == 201


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("csv", "kb.csv"), ("json", "kb.json"), ("yaml", "kb.yml"), ("md", "kb.markdown")],
)
def test_export_then_reimport_is_a_lossless_round_trip(
    client: TestClient, fmt: str, name: str
) -> None:
    seed_varied_knowledge_base(client)
    exported = export(client, fmt)
    before = versions_and_history(client)
    revision = index_revision(client)

    report = imported(client, name, exported)
    assert counts(report) == (0, 0, 4)
    carries_intents = fmt in {"json", "yaml"}
    expected_intents = ["greeting", "human"] if carries_intents else []
    assert sorted(report["intents_unchanged"]) == expected_intents
    assert report["intents_created"] == report["intents_updated"] == []
    assert versions_and_history(client) == before
    assert index_revision(client) == revision


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("csv", "kb.csv"), ("json", "kb.json"), ("yaml", "kb.yaml"), ("md", "kb.md")],
)
def test_an_export_recreates_the_knowledge_base_elsewhere(
    client: TestClient, embedder: SentenceEmbedder, tmp_path: Path, fmt: str, name: str
) -> None:
    seed_varied_knowledge_base(client)
    exported = export(client, fmt)
    source = entries(client)
    (tmp_path / "elsewhere").mkdir()
    elsewhere = Settings(data_dir=tmp_path / "elsewhere", database_url="", _env_file=None)
    migrate(elsewhere)
    with staff_client(elsewhere, embedder) as other:
        report = imported(other, name, exported)
        assert sorted(report["created"]) == sorted(source)
        fields = ("question", "alternatives", "answer", "category", "language", "tags", "status")
        copied = entries(other)
        for entry_id, entry in source.items():
            assert {f: copied[entry_id][f] for f in fields} == {f: entry[f] for f in fields}
        assert export(other, fmt) == exported
        assert top_id(other, "international shipping customs") == "en-ship"
        assert top_id(other, "能开增值税专用发票吗") == "zh-invoice"
        assert "en-draft" not in hit_ids(other, "Do you sell gift cards?")
        assert "en-old" not in hit_ids(other, "Is the winter sale on?")
        settle(other)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_structured_exports_hold_entries_and_intents(client: TestClient, fmt: str) -> None:
    seed_varied_knowledge_base(client)
    response = client.get(EXPORT_URL, params={"format": fmt})
    assert f'filename="kefu-kb.{fmt}"' in response.headers["content-disposition"]
    document = json.loads(response.text) if fmt == "json" else yaml.safe_load(response.text)
    assert [e["id"] for e in document["faqs"]] == ["en-draft", "en-old", "en-ship", "zh-invoice"]
    statuses = {e["id"]: e["status"] for e in document["faqs"]}
    assert statuses["en-draft"] == "draft"
    assert statuses["en-old"] == "archived"
    greeting = next(i for i in document["intents"] if i["name"] == "greeting")
    assert greeting["examples"] == {"en": ["hello", "hi there"], "zh": ["你好"]}


def test_csv_export_puts_one_entry_on_each_row(client: TestClient) -> None:
    seed_varied_knowledge_base(client)
    response = client.get(EXPORT_URL, params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "id,question,alternatives,answer,category,language,tags,status"
    assert "zh-invoice,怎么开发票？,发票：电子版还是纸质版？|能开增值税专用发票吗," in response.text


# -- bad files ---------------------------------------------------------------------------------


def assert_nothing_imported(client: TestClient) -> None:
    assert client.get(FAQ_URL).json()["total"] == 0
    assert client.get(INTENT_URL).json() == []
    assert search(client, "Where is my order?") == []


def test_a_csv_with_bad_rows_is_rejected_whole_naming_each_line(client: TestClient) -> None:
    content = (
        "id,question,answer,language\n"
        "a,Where is my order?,Open My Orders.,en\n"
        "b,退款多久到账？,5个工作日内到账。,zh\n"
        "c,,An answer without a question.,en\n"
        "d,Can I pay by card?,Yes.,en\n"
        "e,Do you ship abroad?,Yes.,xx\n"
    )
    error = rejected(client, "faqs.csv", content)
    assert "nothing was imported" in error["message"]
    assert [(d["line"], d["field"]) for d in error["details"]] == [(4, "question"), (6, "language")]
    assert "'xx'" in error["details"][1]["message"]
    assert_nothing_imported(client)
    assert search(client, "退款多久到账") == []


LONG_ANSWER = "a" * 5001

BAD_FILES: list[tuple[str, str | bytes, list[int], str]] = [
    (
        "broken.json",
        '[\n  {"question": "Where is my order?", "answer": "Open My Orders."},\n'
        '  {"question": "Can I pay by card?" "answer": "Yes."}\n]\n',
        [3],
        "invalid JSON",
    ),
    (
        "broken.yaml",
        "faqs:\n  - question: Where is my order?\n\tanswer: Open My Orders.\n",
        [3],
        "invalid YAML",
    ),
    (
        "duplicate.json",
        '[\n  {"id": "x", "question": "Where is my order?", "answer": "Open My Orders."},\n'
        '  {"id": "x", "question": "Where is my parcel?", "answer": "Ask the courier."}\n]\n',
        [3],
        "duplicate id 'x' (first on line 2)",
    ),
    (
        "duplicate.yaml",
        "faqs:\n  - id: x\n    question: Where is my order?\n    answer: Open My Orders.\n"
        "  - id: x\n    question: 我的快递呢？\n    answer: 请查看订单。\n",
        [5],
        "duplicate id 'x' (first on line 2)",
    ),
    ("columns.csv", "id,question\nx,Where is my order?\n", [1], "missing column(s): answer"),
    ("latin1.csv", "id,question,answer\nx,Café ouvert?,Oui\n".encode("latin-1"), [], "UTF-8"),
    (
        "open.md",
        "---\nid: ok\nquestion: Can I pay by card?\n---\nYes.\n\n"
        "---\nid: m1\nquestion: Where is my order?\nOpen My Orders.\n",
        [7],
        "not closed",
    ),
    ("intro.md", "Our FAQ\n---\nid: m1\n---\nbody\n", [1], "must start with '---'"),
    (
        "long.csv",
        "id,question,answer\nok,Where is my order?,Open My Orders.\nx," + "q" * 501 + ",A.\n",
        [3],
        "at most 500 characters",
    ),
    (
        "long.md",
        "---\nid: ok\nquestion: Where?\n---\nHere.\n"
        f"---\nid: x\nquestion: Why?\n---\n{LONG_ANSWER}\n",
        [6],
        "at most 5000 characters",
    ),
    (
        "repeated.csv",
        "id,question,answer\nx,Where is my order?,Open My Orders.\nx,Where is my parcel?,Ask us.\n",
        [3],
        "repeats line 2 with a different answer",
    ),
    (
        "ragged.csv",
        "id,question,answer\nx,Where is my order?,Open My Orders.,surplus\n",
        [2],
        "different number of fields",
    ),
    (
        "extra.yaml",
        "- question: Where is my order?\n  answer: Open My Orders.\n  colour: red\n",
        [1],
        "Extra inputs are not permitted",
    ),
    (
        "intent.json",
        '{"faqs": [], "intents": [\n  {"name": "greeting", "examples": {"xx": ["hi"]}}\n]}\n',
        [2],
        "unknown language 'xx'",
    ),
    ("empty.csv", "id,question,answer\n", [], "no FAQ entries or intents"),
    ("scalar.yaml", "just some text\n", [1], "expected a list of entries"),
    ("notes.txt", "question,answer\nWhere?,Here.\n", [], "cannot tell the format"),
]


@pytest.mark.parametrize(
    ("name", "content", "lines", "message"), BAD_FILES, ids=[case[0] for case in BAD_FILES]
)
def test_a_bad_file_is_rejected_whole_and_says_where(
    client: TestClient, name: str, content: str | bytes, lines: list[int], message: str
) -> None:
    error = rejected(client, name, content)
    assert [detail["line"] for detail in error["details"]] == lines
    texts = [error["message"], *(detail["message"] for detail in error["details"])]
    assert any(message in text for text in texts), texts
    assert_nothing_imported(client)


def test_a_file_over_the_size_limit_is_rejected(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    small = migrated.model_copy(update={"max_import_bytes": 1000})
    with staff_client(small, embedder) as client:
        content = "question,answer\n" + "Where is my order?,Open My Orders.\n" * 30
        assert "larger than 1000 bytes" in rejected(client, "huge.csv", content)["message"]
        assert client.get(FAQ_URL).json()["total"] == 0


def test_a_rejected_file_leaves_earlier_imports_untouched(client: TestClient) -> None:
    imported(client, "faqs.csv", CSV_FILE)
    before = entries(client)
    history = versions_and_history(client)
    revision = index_revision(client)
    content = (
        "id,question,answer,alternatives\n"
        "en-refund,When will I get my refund?,Refunds take 30 days now.,money back\n"
        "en-new,Do you have a loyalty programme?,Yes: Lumen Points.,\n"
        "zh-track,,进入“我的订单”即可查看物流。,\n"
    )
    error = rejected(client, "update.csv", content)
    assert [d["line"] for d in error["details"]] == [4]
    assert entries(client) == before
    assert versions_and_history(client) == history
    assert index_revision(client) == revision
    assert "en-new" not in hit_ids(client, "Do you have a loyalty programme?")
    assert top_id(client, "how long does a refund take") == "en-refund"
    hit = search(client, "money back")[0]
    assert hit["phrasing"] != "money back"


# -- edge cases found while testing ------------------------------------------------------------


def test_entries_without_ids_that_collide_are_rejected(client: TestClient) -> None:
    content = json.dumps(
        [
            {"question": "Do you ship abroad?", "answer": "Yes, to 30 countries."},
            {"question": "Do you ship abroad?", "answer": "No, only within China."},
        ],
        indent=2,
    )
    error = rejected(client, "faqs.json", content)
    # The second item starts on line 6 and repeats the first one's question (line 2).
    assert [d["line"] for d in error["details"]] == [6]
    assert "first on line 2" in error["details"][0]["message"]


def test_a_repeated_csv_id_with_an_empty_question_is_rejected(client: TestClient) -> None:
    content = (
        "id,question,answer,alternatives\n"
        "a,Where is my order?,Open My Orders.,\n"
        "a,,Open My Orders.,parcel location\n"
    )
    error = rejected(client, "faqs.csv", content)
    assert [d["line"] for d in error["details"]] == [3]


def test_markdown_round_trip_keeps_a_horizontal_rule_in_an_answer(client: TestClient) -> None:
    faq(client, id="rule", question="What do you sell?", answer="Lamps.\n\n---\n\nAnd bulbs.")
    report = imported(client, "kb.md", export(client, "md"))
    assert counts(report) == (0, 0, 1)


def test_csv_round_trip_keeps_a_pipe_inside_a_phrasing(client: TestClient) -> None:
    faq(client, id="ab", question="Do you run A/B tests?", alternatives=["A|B testing"])
    report = imported(client, "kb.csv", export(client, "csv"))
    assert counts(report) == (0, 0, 1)
    assert entries(client)["ab"]["alternatives"] == ["A|B testing"]


def test_errors_in_tab_indented_json_name_their_line(client: TestClient) -> None:
    content = json.dumps(
        [
            {"question": "Where is my order?", "answer": "Open My Orders."},
            {"question": "Do you ship abroad?", "answer": "Yes.", "language": "xx"},
        ],
        indent="\t",
    )
    error = rejected(client, "faqs.json", content)
    assert [d["line"] for d in error["details"]] == [6]


def test_a_deleted_entry_can_be_imported_again(client: TestClient) -> None:
    imported(client, "faqs.csv", CSV_FILE)
    assert client.delete(f"{FAQ_URL}/en-refund").status_code == 204
    report = imported(client, "faqs.csv", CSV_FILE)
    assert report["created"] == ["en-refund"]
    assert top_id(client, "how long does a refund take") == "en-refund"
