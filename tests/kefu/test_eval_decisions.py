"""`kefu eval decisions`, run as a user runs it, on small files written for these tests."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from core.settings import Settings
from tests.cli_runner import one_line, run_kefu

pytestmark = pytest.mark.slow

FAQS = "\n".join(
    [
        "id,question,answer,alternatives,language",
        "shipping_time,How long does shipping take?,Shipping takes 3 to 5 days.,"
        "When will my order arrive|delivery time,en",
        "refund_policy,How do I get a refund?,Refunds reach your card within 7 days.,"
        "I want my money back|return it for a refund,en",
        "reset_password,How do I reset my password?,Use the forgot-password link.,"
        "I forgot my password|I can't log in,en",
        "shipping_time_zh,运费怎么算？,满99元包邮。,邮费多少|要付运费吗,zh",
        "",
    ]
)

# Hand-counted: four known questions, three asked exactly as an entry phrases them (answered
# right), one asked as an entry phrases it but labelled with another entry (answered wrong);
# two the knowledge base does not answer, one of them worded exactly like an entry (so the
# bot, which cannot know better, answers it) and one far off every entry (not answered).
QUERIES = """text,faq_id
How long does shipping take?,shipping_time
I want my money back,refund_policy
运费怎么算？,shipping_time_zh
I forgot my password,refund_policy
How do I reset my password?,
what is the capital of Mongolia,
"""

TRAIN = [
    ("where is my order", "track_order"),
    ("track my parcel", "track_order"),
    ("has my package shipped", "track_order"),
    ("order status please", "track_order"),
    ("is my parcel on the way", "track_order"),
    ("我的快递到哪了", "track_order"),
    ("hello", "greeting"),
    ("hi there", "greeting"),
    ("good morning", "greeting"),
    ("hey", "greeting"),
    ("hello, anyone there", "greeting"),
    ("你好", "greeting"),
    ("thank you", "thanks"),
    ("thanks a lot", "thanks"),
    ("many thanks", "thanks"),
    ("thank you so much", "thanks"),
    ("cheers, thanks", "thanks"),
    ("谢谢", "thanks"),
]

COLUMNS = ["text", "expected", "decision", "entry_id", "suggestions", "confidence", "top_faq"]


@pytest.fixture
def cli_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url="", _env_file=None)


def _files(tmp_path: Path, queries: str = QUERIES) -> tuple[Path, Path]:
    faqs, questions = tmp_path / "faqs.csv", tmp_path / "queries.csv"
    faqs.write_text(FAQS, "utf-8")
    questions.write_text(queries, "utf-8")
    return faqs, questions


def _snapshot(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def _eval(settings: Settings, tmp_path: Path, *extra: str) -> tuple[str, list[dict[str, str]]]:
    faqs, queries = _files(tmp_path)
    out = tmp_path / "decisions.csv"
    result = run_kefu(
        settings,
        "eval",
        "decisions",
        "--faqs",
        str(faqs),
        "--queries",
        str(queries),
        "--predictions",
        str(out),
        *extra,
    )
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        rows = list(reader)
    return one_line(result.stdout), rows


def test_decisions_are_counted_and_the_serving_knowledge_base_is_untouched(
    cli_settings: Settings, tmp_path: Path
) -> None:
    serving = tmp_path / "serving.csv"
    serving.write_text("id,question,answer\nhours,When are you open?,Nine to five.\n", "utf-8")
    assert run_kefu(cli_settings, "db", "upgrade").returncode == 0
    assert run_kefu(cli_settings, "kb", "import", str(serving)).returncode == 0
    before = _snapshot(cli_settings.data_dir)

    printed, rows = _eval(cli_settings, tmp_path)

    assert _snapshot(cli_settings.data_dir) == before
    exported = run_kefu(cli_settings, "kb", "export", "-", "--format", "csv")
    assert "hours" in exported.stdout
    assert "shipping_time" not in exported.stdout
    assert [(r["decision"], r["entry_id"]) for r in rows[:5]] == [
        ("answer_faq", "shipping_time"),
        ("answer_faq", "refund_policy"),
        ("answer_faq", "shipping_time_zh"),
        ("answer_faq", "reset_password"),
        ("answer_faq", "reset_password"),
    ]
    assert rows[5]["decision"] in {"fallback", "clarify"}
    assert rows[5]["entry_id"] == ""
    assert [r["expected"] for r in rows] == [
        "shipping_time",
        "refund_policy",
        "shipping_time_zh",
        "refund_policy",
        "",
        "",
    ]
    assert all(0.0 <= float(r["confidence"]) <= 1.0 for r in rows)
    assert "known=4 answered_right=0.7500 (3) answered_wrong=0.2500 (1)" in printed
    assert "clarified_right=0.0000 (0)" in printed
    assert "unknown=2 unknown_answered=0.5000 (1)" in printed
    # Every query has a top FAQ, so at threshold 0 everything is answered by it; the exact
    # repeats keep their confidence of about 1 up to the highest threshold.
    assert "threshold=0.00 right=0.7500 wrong=0.2500 unknown_answered=1.0000" in printed
    assert "threshold=0.95 right=0.7500 wrong=0.2500 unknown_answered=0.5000" in printed


def test_with_intents_the_trained_model_answers_too(cli_settings: Settings, tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    with train.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(TRAIN)
    queries = QUERIES + "hi there,greeting\n"
    faqs, questions = _files(tmp_path, queries)
    out = tmp_path / "decisions.csv"
    result = run_kefu(
        cli_settings,
        "eval",
        "decisions",
        "--faqs",
        str(faqs),
        "--queries",
        str(questions),
        "--intents",
        str(train),
        "--predictions",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "Training the intent classifier" in one_line(result.stdout)
    rows = list(csv.DictReader(out.read_text("utf-8").splitlines()))
    assert (rows[-1]["decision"], rows[-1]["entry_id"]) == ("answer_intent", "greeting")
    assert "known=5 answered_right=0.8000 (4) answered_wrong=0.2000 (1)" in one_line(result.stdout)


def test_without_intents_small_talk_is_not_answered_by_an_intent(
    cli_settings: Settings, tmp_path: Path
) -> None:
    faqs, questions = _files(tmp_path, "text,faq_id\nhi there,\n")
    out = tmp_path / "decisions.csv"
    result = run_kefu(
        cli_settings,
        "eval",
        "decisions",
        "--faqs",
        str(faqs),
        "--queries",
        str(questions),
        "--predictions",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.read_text("utf-8").splitlines()))
    assert rows[0]["decision"] != "answer_intent"


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ("", "queries.csv is empty"),
        ("text,label\nhello,x\n", "queries.csv lacks column(s): faq_id"),
        ("text,faq_id,note\nhello,,x\n", "queries.csv has unknown column(s): note"),
        ("text,faq_id\nhello,\nbye,,extra\n", "queries.csv line 3"),
        ('text,faq_id\nhello,\n"never closed,\n', "queries.csv line"),
        ("text,faq_id\nhello,no_such_entry\n", "line 2: faq_id 'no_such_entry' is no entry"),
        ("text,faq_id\n", "queries.csv has a header but no rows"),
    ],
)
def test_bad_queries_are_refused_with_exit_code_2(
    cli_settings: Settings, tmp_path: Path, queries: str, message: str
) -> None:
    faqs, questions = _files(tmp_path, queries)
    out = tmp_path / "decisions.csv"
    result = run_kefu(
        cli_settings,
        "eval",
        "decisions",
        "--faqs",
        str(faqs),
        "--queries",
        str(questions),
        "--predictions",
        str(out),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in one_line(result.stderr)
    assert not out.exists()
    assert not cli_settings.data_dir.exists()


def test_a_bad_faq_file_and_bad_intents_name_the_line(
    cli_settings: Settings, tmp_path: Path
) -> None:
    faqs, questions = _files(tmp_path)
    faqs.write_text("id,question,answer\nok,Fine?,Yes.\nbroken,,No answer here\n", "utf-8")
    args = ["eval", "decisions", "--queries", str(questions), "--predictions", "o.csv"]
    result = run_kefu(cli_settings, *args, "--faqs", str(faqs))
    assert result.returncode == 2
    assert "line 3" in one_line(result.stderr)

    _files(tmp_path)
    train = tmp_path / "train.csv"
    train.write_text("text,intent\nhello,greeting\n", "utf-8")
    result = run_kefu(cli_settings, *args, "--faqs", str(faqs), "--intents", str(train))
    assert result.returncode == 2
    assert "train.csv lacks column(s): label" in one_line(result.stderr)
