"""Message sentiment in English and Chinese, the customer-service cues, and the trend."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.sentiment import SentimentAnalyzer, sentiment_trend
from core.settings import Settings
from tests.bot.chat_helpers import Customer
from tests.cli_runner import one_line, run_kefu


@pytest.fixture(scope="module")
def analyzer() -> SentimentAnalyzer:
    return SentimentAnalyzer()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("where is my order?", "en"),
        ("How do I reset my password?", "en"),
        ("I need help with my order", "en"),
        ("Please help me change my delivery address", "en"),
        ("I want to cancel my order", "en"),
        ("Can you send the code again?", "en"),
        ("My UPS tracking number shows a DHL label", "en"),
        ("我的快递到哪了", "zh"),
        ("请问什么时候发货", "zh"),
        ("订单号是多少", "zh"),
        ("退货怎么退", "zh"),
        ("这个功能怎么操作", "zh"),
        ("能不能快点发货", "zh"),
        ("在吗", "zh"),
    ],
)
def test_plain_questions_and_requests_are_neutral(
    analyzer: SentimentAnalyzer, text: str, language: str
) -> None:
    result = analyzer.analyze(text, language=language)
    assert result.label == "neutral", result
    assert not {"profanity", "threat_to_leave", "shouting", "exclamations"} & set(result.signals)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("thanks, that helped", "en"),
        ("Great, thank you so much!", "en"),
        ("THANK YOU SO MUCH!!!", "en"),
        ("谢谢，问题解决了", "zh"),
        ("太好了，谢谢！", "zh"),
        ("服务态度非常好，很满意", "zh"),
        ("不错", "zh"),
    ],
)
def test_thanks_and_praise_are_positive(
    analyzer: SentimentAnalyzer, text: str, language: str
) -> None:
    result = analyzer.analyze(text, language=language)
    assert result.label == "positive", result
    assert "shouting" not in result.signals
    assert "exclamations" not in result.signals


@pytest.mark.parametrize(
    ("text", "language", "signal"),
    [
        ("wtf where is my order", "en", "profanity"),
        ("This is shit, total rip-off", "en", "profanity"),
        ("where the f*ck is my refund", "en", "profanity"),
        ("I want to cancel my subscription", "en", "threat_to_leave"),
        ("I'll never buy from you again", "en", "threat_to_leave"),
        ("I'm filing a chargeback with my bank", "en", "threat_to_leave"),
        ("Fix it or I'm switching to a competitor", "en", "threat_to_leave"),
        ("WHERE IS MY ORDER", "en", "shouting"),
        ("where is my order!!!", "en", "exclamations"),
        ("I already told you my order number", "en", "repeated_complaint"),
        ("It stopped working again", "en", "repeated_complaint"),
        ("他妈的怎么还没发货", "zh", "profanity"),
        ("你们sb吧", "zh", "profanity"),
        ("我要投诉到12315", "zh", "threat_to_leave"),
        ("再也不买你们家的东西了", "zh", "threat_to_leave"),
        ("不给退款就给差评", "zh", "threat_to_leave"),
        ("第三次了，还没到", "zh", "repeated_complaint"),
        ("什么破服务！！", "zh", "exclamations"),
        ("垃圾客服，气死我了", "zh", "lexicon"),
        ("你们到底什么时候退钱", "zh", "lexicon"),
    ],
)
def test_angry_messages_are_negative_and_say_why(
    analyzer: SentimentAnalyzer, text: str, language: str, signal: str
) -> None:
    result = analyzer.analyze(text, language=language)
    assert result.label == "negative", result
    assert signal in result.signals


@pytest.mark.parametrize(
    ("plain", "angry", "language"),
    [
        ("where is my order?", "WHERE IS MY ORDER?", "en"),
        ("where is my order?", "where is my order?!!!", "en"),
        ("where is my order?", "where the fuck is my order?", "en"),
        ("I want to cancel my order", "I want to cancel my account", "en"),
        (
            "My order hasn't arrived",
            "My order hasn't arrived. Damn it, I'm calling my lawyer",
            "en",
        ),
        ("The app crashes", "The app crashes, I already told you this twice", "en"),
        ("我的快递到哪了", "我的快递到底到哪了！！", "zh"),
        ("我的快递到哪了", "tmd我的快递到哪了", "zh"),
        ("退货怎么退", "退货怎么退，不买了，差评", "zh"),
        ("我的快递还没到", "第三次了，我的快递还没到", "zh"),
    ],
)
def test_each_cue_makes_the_same_message_more_negative(
    analyzer: SentimentAnalyzer, plain: str, angry: str, language: str
) -> None:
    calm = analyzer.analyze(plain, language=language)
    upset = analyzer.analyze(angry, language=language)
    assert upset.score < calm.score
    assert upset.label == "negative"
    assert calm.label != "negative"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is my order 12345? It has been a week", "en"),
        ("我的快递一个星期都没到，怎么回事", "zh"),
    ],
)
def test_saying_the_same_complaint_again_is_a_repeated_complaint(
    analyzer: SentimentAnalyzer, text: str, language: str
) -> None:
    first = analyzer.analyze(text, language=language)
    again = analyzer.analyze(text, language=language, history=["hi", text])
    assert "repeated_complaint" not in first.signals
    assert "repeated_complaint" in again.signals
    assert again.score < first.score
    assert again.label == "negative"


@pytest.mark.parametrize(("text", "history"), [("ok", ["ok"]), ("thank you so much", ["thanks"])])
def test_repeating_short_or_happy_messages_is_not_a_complaint(
    analyzer: SentimentAnalyzer, text: str, history: list[str]
) -> None:
    assert "repeated_complaint" not in analyzer.analyze(text, history=history).signals


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("满意", "positive"),
        ("不满意", "negative"),
        ("不是很满意", "negative"),
        ("不错", "positive"),
    ],
)
def test_chinese_negation_flips_the_lexicon(
    analyzer: SentimentAnalyzer, text: str, label: str
) -> None:
    assert analyzer.analyze(text, language="zh").label == label


def test_no_problem_is_not_negative(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("没问题", language="zh").score > 0


@pytest.mark.parametrize(
    "text",
    ["你们靠谱吗", "这个怎么操作", "Our team watched it at SB yesterday", "Assess the class"],
)
def test_words_that_only_look_like_profanity(analyzer: SentimentAnalyzer, text: str) -> None:
    assert "profanity" not in analyzer.analyze(text).signals


def test_language_is_detected_when_not_given(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("垃圾客服，气死我了").label == "negative"
    assert analyzer.analyze("thanks, that helped").label == "positive"


def test_every_cue_at_once_stays_within_range(analyzer: SentimentAnalyzer) -> None:
    one = analyzer.analyze("WTF where is my order", language="en")
    all_ = analyzer.analyze("WTF!!! I ALREADY TOLD YOU, CANCEL MY ACCOUNT NOW", language="en")
    assert {
        "profanity",
        "threat_to_leave",
        "shouting",
        "exclamations",
        "repeated_complaint",
    } <= set(all_.signals)
    assert -1.0 < all_.score < one.score < 0


def test_empty_message_is_neutral(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("   ").label == "neutral"
    assert analyzer.analyze("").signals == ()


def test_thresholds_decide_the_label() -> None:
    strict = SentimentAnalyzer(negative_threshold=-0.99, positive_threshold=0.95)
    assert strict.analyze("thanks, that helped", language="en").label == "neutral"
    assert strict.version.startswith("sentiment-")


@pytest.mark.parametrize(("negative", "positive"), [(0.3, -0.25), (0.1, 0.1), (-1.5, 0.3)])
def test_inconsistent_thresholds_are_rejected(negative: float, positive: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        SentimentAnalyzer(negative_threshold=negative, positive_threshold=positive)


def test_concurrent_first_use_gives_the_same_answers() -> None:
    fresh = SentimentAnalyzer()
    texts = ["垃圾客服", "where is my order?", "谢谢", "WTF!!!", "我的快递到哪了"] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fresh.analyze, texts))
    assert results == [SentimentAnalyzer().analyze(t) for t in texts]


@pytest.mark.parametrize(
    ("scores", "worsening"),
    [
        ([0.3, 0.0, -0.3, -0.6, -0.8], True),
        ([0.5, 0.5, 0.4, 0.4, 0.5, 0.0, -0.5, -0.9], True),
        ([0.1, 0.0, 0.1, 0.05, 0.1], False),
        ([-0.8, -0.5, -0.2, 0.1], False),  # improving
        ([0.9, 0.7, 0.5, 0.3], False),  # cooling, but still positive
        ([-0.5, -0.5, -0.5, -0.5], False),  # unhappy, but steady
        ([-0.9, -0.9, -0.9, -0.9, -0.9, 0.9, 0.8, 0.7, 0.6, 0.5], False),  # old history ignored
        ([0.0, -0.4, -0.7], True),
        ([0.0, -0.36], False),  # a greeting, then a question about a late parcel: no trend yet
        ([-0.6], False),
        ([], False),
    ],
)
def test_trend_flags_a_conversation_getting_worse(scores: list[float], worsening: bool) -> None:
    trend = sentiment_trend(scores)
    assert trend.worsening is worsening
    assert trend.count == len(scores)


def test_trend_weights_recent_messages_more() -> None:
    trend = sentiment_trend([-1.0, -1.0, 1.0])
    assert -1 / 3 < trend.mean < 1.0  # pulled toward the latest score, unlike a plain average
    assert sentiment_trend([1.0, -1.0, -1.0]).mean < -1 / 3
    assert trend.last == 1.0
    assert trend.slope == pytest.approx(1.0)
    assert sentiment_trend([]).mean == 0.0


@pytest.mark.parametrize(
    ("messages", "worsening"),
    [
        (
            [
                "Hi, where is my order?",
                "It's been a week, where is it?",
                "This is ridiculous",
                "I ALREADY TOLD YOU MY ORDER NUMBER!!!",
                "wtf, cancel my account",
            ],
            True,
        ),
        (
            [
                "你好，我的快递到哪了",
                "还没到吗？",
                "到底什么时候到",
                "第三次了，还没到！！",
                "垃圾，我要投诉到12315",
            ],
            True,
        ),
        (["Hi, where is my order?", "Order 12345", "OK, when will it arrive?", "thanks!"], False),
        (["你好，我的快递到哪了", "订单号是12345", "好的，什么时候能到？", "谢谢"], False),
    ],
)
def test_analyzed_conversation_trend(
    analyzer: SentimentAnalyzer, messages: list[str], worsening: bool
) -> None:
    scores = [analyzer.analyze(m, history=messages[:i]).score for i, m in enumerate(messages)]
    assert sentiment_trend(scores).worsening is worsening


# -- the trained head, through "test the bot" and `kefu eval sentiment` ------------------------

COMPLAINTS = [
    ("My parcel says delivered but I never got it", "en-main"),
    ("I've been waiting two weeks and nobody answers", "en-main"),
    ("The charger you sent me is broken and I want my money back", "en-main"),
    ("快递一直不到，太失望了", "zh-han"),
    ("客服根本不理人", "zh-han"),
    ("收到的杯子是碎的", "zh-han"),
]
QUESTIONS = [
    ("How do I change my delivery address?", "en-main"),
    ("Do you ship to Canada?", "en-main"),
    ("Can I pay with PayPal?", "en-main"),
    ("请问可以开发票吗", "zh-han"),
    ("运费怎么算", "zh-han"),
    ("我想改一下收货地址", "zh-han"),
]


def explain_sentiment(client: TestClient, text: str) -> dict[str, Any]:
    response = client.post("/api/admin/bot/test", json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("text", "head"), COMPLAINTS)
def test_test_the_bot_shows_a_plain_complaint_as_negative_with_its_probability(
    demo_client: TestClient, text: str, head: str
) -> None:
    body = explain_sentiment(demo_client, text)
    sentiment = body["sentiment"]
    assert sentiment["label"] == "negative", sentiment
    assert 0.5 <= sentiment["negative"] <= 1.0
    assert sentiment["head"] == head
    if not sentiment["signals"]:
        # Noticed by the head alone: a complaint, not yet anger that hands off by itself.
        assert -0.6 < sentiment["score"] <= -0.25
        assert body["decision"]["reason"] != "negative_sentiment"


@pytest.mark.parametrize(("text", "head"), QUESTIONS)
def test_test_the_bot_shows_a_neutral_question_as_not_negative(
    demo_client: TestClient, text: str, head: str
) -> None:
    sentiment = explain_sentiment(demo_client, text)["sentiment"]
    assert sentiment["label"] != "negative", sentiment
    assert 0.0 <= sentiment["negative"] < 0.5
    assert sentiment["head"] == head


def test_the_exchange_log_keeps_the_probability(demo_client: TestClient) -> None:
    customer = Customer(demo_client)
    customer.say("I've been waiting two weeks and nobody answers")
    rows = demo_client.get("/api/admin/exchanges", params={"conversation_id": customer.id}).json()
    assert rows[0]["sentiment_label"] == "negative"
    assert rows[0]["sentiment"]["negative"] >= 0.5
    assert rows[0]["sentiment"]["head"] == "en-main"


def test_eval_sentiment_reports_negative_precision_recall_and_f1(tmp_path: Path) -> None:
    rows = [(text, "negative") for text, _ in COMPLAINTS] + [
        (text, "neutral") for text, _ in QUESTIONS
    ]
    test = tmp_path / "sentiment.csv"
    with test.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    settings = Settings(data_dir=tmp_path / "var", database_url="", _env_file=None)
    out = tmp_path / "predictions.csv"
    result = run_kefu(settings, "eval", "sentiment", "--test", str(test), "--predictions", str(out))
    assert result.returncode == 0, result.stderr
    text = one_line(result.stdout)
    assert "negative_precision=1.0000 negative_recall=1.0000 negative_f1=1.0000" in text
    assert "heads: en-main=6 zh-han=6" in text
    predicted = list(csv.DictReader(out.read_text("utf-8").splitlines()))
    assert [r["predicted"] == "negative" for r in predicted] == [y == "negative" for _, y in rows]
    assert all(0.0 <= float(r["negative"]) <= 1.0 for r in predicted)


def test_eval_sentiment_rejects_unknown_labels(tmp_path: Path) -> None:
    test = tmp_path / "bad.csv"
    test.write_text("text,label\nwhere is my order,angry\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "var", database_url="", _env_file=None)
    result = run_kefu(
        settings, "eval", "sentiment", "--test", str(test), "--predictions", str(tmp_path / "o")
    )
    assert result.returncode != 0
    assert "labels must be negative, neutral or positive" in one_line(result.stdout + result.stderr)


@pytest.mark.parametrize(
    ("greeting", "question"),
    [
        ("hi", "My order still hasn't arrived, where is it?"),
        ("你好", "我的快递怎么还没到，有点着急"),
    ],
)
def test_a_greeting_then_one_unhappy_question_is_answered_not_handed_off(
    demo_client: TestClient, greeting: str, question: str
) -> None:
    customer = Customer(demo_client)
    customer.say(greeting)
    replies = customer.say(question)
    assert [e["type"] for e in replies] == ["message"], replies
    assert replies[0]["payload"]["kind"] in {"answer", "clarify"}
