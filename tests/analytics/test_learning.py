"""The learning loop's pure steps: which exchanges are signals, and how signals are grouped.

The customer's n-th message here has sequence number 10n and the bot's reply 10n + 1, leaving
room for a ``conversation.escalated`` event (the talk-to-a-person button) before the next
message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from analytics.learning import LoggedExchange, Signal, cluster_signals, find_signals

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def exchange(
    n: int,
    decision: str,
    reason: str = "",
    *,
    helpful: bool | None = None,
    conversation: str = "c1",
    text: str | None = None,
) -> LoggedExchange:
    """The customer's n-th message in ``conversation`` and what the bot did with it."""
    return LoggedExchange(
        id=n if conversation == "c1" else 100 + n,
        conversation_id=conversation,
        message_seq=10 * n,
        text=text or f"message {n}",
        language="en",
        decision=decision,
        reason=reason,
        intent=None,
        intent_confidence=None,
        helpful=helpful,
        created_at=START + timedelta(minutes=n),
    )


def reasons(
    rows: Sequence[LoggedExchange], escalations: Mapping[str, Sequence[int]] | None = None
) -> list[tuple[int, str]]:
    return [(s.exchange_id, s.reason) for s in find_signals(rows, escalations or {})]


ANSWER = ("answer_faq", "confident_faq")
NORMAL = ("answer_intent", "small_talk")

# (case, exchanges, escalated event seqs in c1, expected (exchange id, reason) pairs)
FIND_CASES: list[tuple[str, list[LoggedExchange], list[int], list[tuple[int, str]]]] = [
    ("fallback", [exchange(1, "fallback", "not_understood")], [], [(1, "low_confidence")]),
    (
        "second miss escalates",
        [exchange(1, "fallback", "not_understood"), exchange(2, "escalate", "repeated_misses")],
        [22],
        [(1, "low_confidence"), (2, "low_confidence")],
    ),
    ("asking for a person is no miss", [exchange(1, "escalate", "asked_for_person")], [12], []),
    ("escalated on sentiment", [exchange(1, "escalate", "negative_sentiment")], [12], []),
    ("said nothing", [exchange(1, "stay_silent", "person_owns_conversation")], [], []),
    ("rated down", [exchange(1, *ANSWER, helpful=False)], [], [(1, "rated_down")]),
    (
        "intent answer rated down",
        [exchange(1, "answer_intent", "confident_intent", helpful=False)],
        [],
        [(1, "rated_down")],
    ),
    ("rated up", [exchange(1, *ANSWER, helpful=True)], [], []),
    ("answered, nothing after", [exchange(1, *ANSWER)], [], []),
    ("answered, then a normal exchange", [exchange(1, *ANSWER), exchange(2, *NORMAL)], [], []),
    (
        "answered, then the next message escalated",
        [exchange(1, *ANSWER), exchange(2, "escalate", "asked_for_person")],
        [22],
        [(1, "escalated_after_answer")],
    ),
    (
        "answered, then the button",
        [exchange(1, *ANSWER), exchange(2, *NORMAL)],
        [12],
        [(1, "escalated_after_answer")],
    ),
    (
        "answered last, then the button",
        [exchange(1, *ANSWER)],
        [12],
        [(1, "escalated_after_answer")],
    ),
    (
        "the button after the next answer counts for that one",
        [exchange(1, *ANSWER), exchange(2, *NORMAL)],
        [22],
        [(2, "escalated_after_answer")],
    ),
    (
        "the button pressed before the answer",
        [exchange(1, "fallback", "not_understood"), exchange(2, *ANSWER)],
        [12],
        [(1, "low_confidence")],
    ),
    (
        "clarification accepted",
        [exchange(1, "clarify", "unsure"), exchange(2, "answer_faq", "picked_suggestion")],
        [],
        [],
    ),
    (
        "clarification passed over",
        [exchange(1, "clarify", "unsure"), exchange(2, *ANSWER)],
        [],
        [(1, "rejected_clarification")],
    ),
    (
        "clarification passed over with a miss",
        [exchange(1, "clarify", "unsure"), exchange(2, "fallback", "not_understood")],
        [],
        [(1, "rejected_clarification"), (2, "low_confidence")],
    ),
    ("clarification not answered yet", [exchange(1, "clarify", "unsure")], [], []),
    (
        "rated down and escalated: the rating is stronger",
        [exchange(1, *ANSWER, helpful=False), exchange(2, "escalate", "asked_for_person")],
        [12, 22],
        [(1, "rated_down")],
    ),
]


@pytest.mark.parametrize(
    ("rows", "escalated", "expected"),
    [case[1:] for case in FIND_CASES],
    ids=[case[0] for case in FIND_CASES],
)
def test_find_signals(
    rows: list[LoggedExchange], escalated: list[int], expected: list[tuple[int, str]]
) -> None:
    assert reasons(rows, {"c1": escalated}) == expected


def test_rows_are_read_in_message_order_whatever_order_they_come_in() -> None:
    rows = [exchange(2, "escalate", "asked_for_person"), exchange(1, *ANSWER)]
    assert reasons(rows) == [(1, "escalated_after_answer")]


def test_an_escalation_counts_only_in_its_own_conversation() -> None:
    rows = [exchange(1, *ANSWER), exchange(1, *ANSWER, conversation="c2")]
    assert reasons(rows, {"c2": [12]}) == [(101, "escalated_after_answer")]
    assert reasons(rows, {"c3": [12]}) == []


def test_a_signal_carries_what_the_bot_saw() -> None:
    row = LoggedExchange(
        id=7,
        conversation_id="c9",
        message_seq=30,
        text="where is my parcel",
        language="en",
        decision="answer_faq",
        reason="confident_faq",
        intent="order_status",
        intent_confidence=0.41,
        helpful=False,
        created_at=START,
        entry_id="en-order-track",
    )
    assert find_signals([row], {}) == [
        Signal(
            exchange_id=7,
            conversation_id="c9",
            text="where is my parcel",
            language="en",
            reason="rated_down",
            intent="order_status",
            confidence=0.41,
            created_at=START,
            entry_id="en-order-track",
        )
    ]


# -- clustering -------------------------------------------------------------------------------


def signal(
    exchange_id: int,
    text: str,
    reason: str = "low_confidence",
    *,
    language: str = "en",
    intent: str | None = None,
    entry_id: str | None = None,
) -> Signal:
    return Signal(
        exchange_id=exchange_id,
        conversation_id=f"c{exchange_id}",
        text=text,
        language=language,
        reason=reason,
        intent=intent,
        confidence=None,
        created_at=START + timedelta(minutes=exchange_id),
        entry_id=entry_id,
    )


def unit(*components: float, dim: int = 8) -> list[float]:
    vector = np.zeros(dim)
    vector[: len(components)] = components
    return list(vector / np.linalg.norm(vector))


def matrix(rows: Sequence[Sequence[float]]) -> npt.NDArray[np.float32]:
    return np.asarray(rows, dtype=np.float32)


def members(signals: Sequence[Signal]) -> list[int]:
    return sorted(s.exchange_id for s in signals)


def with_cosine(count: int, cosine: float) -> npt.NDArray[np.float32]:
    """Unit vectors whose every pair has the same cosine: an embedding that cannot tell them
    apart by more than that (``0`` gives orthogonal vectors)."""
    vectors = np.zeros((count, count + 1), dtype=np.float32)
    vectors[:, 0] = np.sqrt(cosine)
    for i in range(count):
        vectors[i, i + 1] = np.sqrt(1 - cosine)
    return vectors


def test_no_signals_make_no_clusters() -> None:
    assert cluster_signals([], np.zeros((0, 8), dtype=np.float32)) == []


def test_one_signal_is_one_cluster() -> None:
    only = signal(5, "do you ship to mars", reason="rated_down")
    [cluster] = cluster_signals([only], matrix([unit(1.0)]))
    assert cluster.signals == [only]
    assert cluster.representative == "do you ship to mars"
    assert cluster.cohesion == 1.0
    assert cluster.reasons == {"rated_down": 1}


def test_two_separate_groups_are_two_clusters_largest_first() -> None:
    signals = [
        signal(1, "are you open on sunday"),
        signal(2, "do you ship to mars"),
        signal(3, "sunday opening hours"),
        signal(4, "can you deliver to mars"),
        signal(5, "is the shop open on sundays"),
    ]
    vectors = matrix(
        [
            unit(0.0, 1.0, 0.1),
            unit(1.0, 0.0, 0.0, 0.1),
            unit(0.0, 1.0, 0.0, 0.0, 0.1),
            unit(1.0, 0.0, 0.0, 0.0, 0.0, 0.1),
            unit(0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.1),
        ]
    )
    sunday, mars = cluster_signals(signals, vectors)
    assert members(sunday.signals) == [1, 3, 5]
    assert members(mars.signals) == [2, 4]
    assert 0.45 < sunday.cohesion < 1.0


def test_clusters_are_ordered_by_size() -> None:
    # Three groups along three axes, of sizes 1, 3 and 2, given interleaved.
    axes = {1: 0, 2: 1, 3: 2, 4: 1, 5: 2, 6: 1}
    texts = ["do you ship to mars", "sunday opening hours", "gift card balance"]
    signals = [signal(i, texts[axis]) for i, axis in axes.items()]
    vectors = matrix([unit(*([0.0] * axis + [1.0])) for axis in axes.values()])
    clusters = cluster_signals(signals, vectors)
    assert [members(c.signals) for c in clusters] == [[2, 4, 6], [3, 5], [1]]


@pytest.mark.parametrize("central", [0, 1, 2])
def test_the_representative_is_the_medoid(central: int) -> None:
    """The member most similar to the others speaks for the cluster, wherever it stands."""
    texts = ["where is my parcel now", "where is my parcel today", "where is my parcel please"]
    spokes = [unit(1.0, 0.0, 0.75), unit(1.0, 0.0, 0.0, 0.75), unit(1.0, 0.0, 0.0, 0.0, 0.75)]
    vectors = [unit(1.0) if i == central else spokes[i] for i in range(3)]
    [cluster] = cluster_signals([signal(i, t) for i, t in enumerate(texts)], matrix(vectors))
    assert cluster.representative == texts[central]


def test_identical_questions_make_a_perfectly_cohesive_cluster() -> None:
    signals = [signal(1, "Where is my parcel"), signal(2, "where is my parcel")]
    [cluster] = cluster_signals(signals, matrix([unit(1.0), unit(1.0)]))
    assert members(cluster.signals) == [1, 2]
    assert cluster.cohesion == pytest.approx(1.0)


def test_reasons_are_counted_strongest_first() -> None:
    signals = [
        signal(1, "where is my parcel", reason="low_confidence"),
        signal(2, "where is my parcel", reason="rated_down"),
        signal(3, "where is my parcel", reason="low_confidence"),
        signal(4, "where is my parcel", reason="escalated_after_answer"),
    ]
    [cluster] = cluster_signals(signals, matrix([unit(1.0)] * 4))
    assert list(cluster.reasons.items()) == [
        ("rated_down", 1),
        ("escalated_after_answer", 1),
        ("low_confidence", 2),
    ]


def test_public_view_summarises_the_cluster() -> None:
    signals = [
        signal(3, "where is my parcel", intent="order_status", entry_id="en-order-track"),
        signal(1, "where is my parcel", language="zh", intent="order_status"),
        signal(2, "Where is my parcel", intent="greeting", entry_id="en-order-track"),
    ]
    [cluster] = cluster_signals(signals, matrix([unit(1.0)] * 3))
    body = cluster.public()
    assert body["size"] == 3
    assert body["language"] == "en"
    assert body["languages"] == {"en": 2, "zh": 1}
    assert body["suggested_intent"] == "order_status"
    assert body["answered_with"] == "en-order-track"
    assert body["texts"] == ["where is my parcel", "Where is my parcel"]
    assert sorted(body["exchange_ids"]) == [1, 2, 3]
    assert body["last_seen"] == (START + timedelta(minutes=3)).isoformat()
    # The key names the set of exchanges, whatever order they were found in.
    [again] = cluster_signals(signals[::-1], matrix([unit(1.0)] * 3))
    assert again.key == cluster.key
    [fewer] = cluster_signals(signals[:2], matrix([unit(1.0)] * 2))
    assert fewer.key != cluster.key


# Chinese questions on two topics, parcels (0-2) and invoices (3-5), sharing characters within
# a topic and hardly any across.
CHINESE = [
    "我的快递到哪了",
    "快递到哪了",
    "我的快递到哪里了",
    "怎么开发票",
    "怎么开发票呢",
    "开发票",
]


def test_character_ngrams_split_chinese_topics_that_the_embedding_cannot() -> None:
    """The default embedding model barely separates Chinese: here every pair of vectors is
    equally similar, so only the shared characters can tell the topics apart."""
    signals = [signal(i, text, language="zh") for i, text in enumerate(CHINESE)]
    clusters = cluster_signals(signals, with_cosine(len(CHINESE), 0.7))
    assert sorted(members(c.signals) for c in clusters) == [[0, 1, 2], [3, 4, 5]]


def test_with_orthogonal_vectors_chinese_paraphrases_still_group_but_english_ones_do_not() -> None:
    """The n-grams weigh more for Han text (the embedding 0.2, against 0.5 for Latin text), so
    Chinese sharing most characters groups on them alone; English sharing as many letters needs
    the embedding to agree."""
    zh = [signal(i, text, language="zh") for i, text in enumerate(CHINESE)]
    clusters = [members(c.signals) for c in cluster_signals(zh, with_cosine(len(zh), 0.0))]
    assert [0, 1, 2] in clusters
    assert [3, 4] in clusters
    assert all(set(c) <= {0, 1, 2} or set(c) <= {3, 4, 5} for c in clusters), clusters

    english = ["where is my parcel", "where is my parcel now", "where is the parcel"]
    en = [signal(i, text) for i, text in enumerate(english)]
    assert [members(c.signals) for c in cluster_signals(en, with_cosine(3, 0.0))] == [
        [0],
        [1],
        [2],
    ]
    together = cluster_signals(en, with_cosine(3, 0.8))
    assert [members(c.signals) for c in together] == [[0, 1, 2]]
