"""The dialogue policy, rule by rule, as a table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.policy import (
    AnswerEstimate,
    Decision,
    DecisionKind,
    FaqCandidate,
    IntentGuess,
    PolicySettings,
    Reason,
    TurnState,
    Understanding,
    decide,
)

SETTINGS = PolicySettings()
TRACK = FaqCandidate("track", 0.9, "How do I track my order?")
REFUND = FaqCandidate("refund", 0.5, "When do I get my refund?")
RETURN = FaqCandidate("return", 0.45, "How do I return an item?")
WEAK = FaqCandidate("weak", 0.2, "Something unrelated?")


def seen(
    *,
    intent: IntentGuess | None = None,
    faqs: tuple[FaqCandidate, ...] = (),
    sentiment: float = 0.0,
    worsening: bool = False,
    language: str = "en",
    picked: str | None = None,
) -> Understanding:
    return Understanding(language, intent, sentiment, worsening, faqs, picked)


def intent(name: str, action: str = "respond", in_scope: bool = True) -> IntentGuess:
    return IntentGuess(name, 0.95 if in_scope else 0.2, in_scope, action)


CASES: list[tuple[str, TurnState, Understanding, DecisionKind, Reason]] = [
    (
        "confident FAQ",
        TurnState(),
        seen(faqs=(TRACK, REFUND)),
        DecisionKind.answer_faq,
        Reason.confident_faq,
    ),
    (
        "FAQ beats a respond intent",
        TurnState(),
        seen(intent=intent("order_status"), faqs=(TRACK,)),
        DecisionKind.answer_faq,
        Reason.confident_faq,
    ),
    (
        "greeting",
        TurnState(),
        seen(intent=intent("greeting"), faqs=(TRACK,)),
        DecisionKind.answer_intent,
        Reason.small_talk,
    ),
    (
        "goodbye",
        TurnState(),
        seen(intent=intent("goodbye")),
        DecisionKind.answer_intent,
        Reason.small_talk,
    ),
    (
        "respond intent without a good FAQ",
        TurnState(),
        seen(intent=intent("order_status"), faqs=(WEAK,)),
        DecisionKind.answer_intent,
        Reason.confident_intent,
    ),
    (
        "unsure: clarify",
        TurnState(),
        seen(faqs=(REFUND, RETURN, WEAK)),
        DecisionKind.clarify,
        Reason.unsure,
    ),
    (
        "close call between two strong FAQs: clarify",
        TurnState(),
        seen(faqs=(FaqCandidate("a", 0.70, "A?"), FaqCandidate("b", 0.69, "B?"))),
        DecisionKind.clarify,
        Reason.unsure,
    ),
    (
        "Chinese has its own threshold, a little below the English one",
        TurnState(),
        seen(language="zh", faqs=(FaqCandidate("zh", 0.61, "怎么查物流？"), WEAK)),
        DecisionKind.answer_faq,
        Reason.confident_faq,
    ),
    (
        "out-of-scope intent is ignored",
        TurnState(),
        seen(intent=intent("greeting", in_scope=False)),
        DecisionKind.fallback,
        Reason.not_understood,
    ),
    ("first miss", TurnState(), seen(faqs=(WEAK,)), DecisionKind.fallback, Reason.not_understood),
    (
        "second miss escalates",
        TurnState(consecutive_misses=1),
        seen(faqs=(WEAK,)),
        DecisionKind.escalate,
        Reason.repeated_misses,
    ),
    (
        "asks for a person",
        TurnState(),
        seen(intent=intent("human_agent", "handoff"), faqs=(TRACK,)),
        DecisionKind.escalate,
        Reason.asked_for_person,
    ),
    (
        "complaint intent rule",
        TurnState(),
        seen(intent=intent("complaint", "handoff")),
        DecisionKind.escalate,
        Reason.intent_rule,
    ),
    (
        "a handoff intent under 0.9 likely to be right does not hand off, whatever its raw score",
        TurnState(),
        seen(
            intent=IntentGuess("payment_anomaly", 0.95, True, "handoff", probability=0.85),
            faqs=(TRACK,),
        ),
        DecisionKind.answer_faq,
        Reason.confident_faq,
    ),
    (
        "a handoff intent likely to be right hands off at a modest raw score",
        TurnState(),
        seen(
            intent=IntentGuess("payment_anomaly", 0.8, True, "handoff", probability=0.95),
            faqs=(TRACK,),
        ),
        DecisionKind.escalate,
        Reason.intent_rule,
    ),
    (
        "payment anomaly rule",
        TurnState(),
        seen(intent=intent("payment_anomaly", "handoff"), faqs=(TRACK,)),
        DecisionKind.escalate,
        Reason.intent_rule,
    ),
    (
        "strongly negative",
        TurnState(),
        seen(faqs=(TRACK,), sentiment=-0.8),
        DecisionKind.escalate,
        Reason.negative_sentiment,
    ),
    (
        "mildly negative is answered",
        TurnState(),
        seen(faqs=(TRACK,), sentiment=-0.3),
        DecisionKind.answer_faq,
        Reason.confident_faq,
    ),
    (
        "worsening",
        TurnState(),
        seen(faqs=(TRACK,), sentiment=-0.3, worsening=True),
        DecisionKind.escalate,
        Reason.worsening_sentiment,
    ),
    (
        "picked suggestion",
        TurnState(),
        seen(faqs=(WEAK,), picked="refund"),
        DecisionKind.answer_faq,
        Reason.picked_suggestion,
    ),
    (
        "waiting for an agent: silent",
        TurnState(state="waiting_for_agent"),
        seen(intent=intent("human_agent", "handoff"), faqs=(TRACK,)),
        DecisionKind.stay_silent,
        Reason.person_owns_conversation,
    ),
    (
        "agent owns: silent",
        TurnState(state="agent"),
        seen(faqs=(TRACK,)),
        DecisionKind.stay_silent,
        Reason.person_owns_conversation,
    ),
]


@pytest.mark.parametrize(
    ("name", "state", "understanding", "kind", "reason"), CASES, ids=[c[0] for c in CASES]
)
def test_policy_table(
    name: str, state: TurnState, understanding: Understanding, kind: DecisionKind, reason: Reason
) -> None:
    decision = decide(state, understanding, SETTINGS)
    assert (decision.kind, decision.reason) == (kind, reason), name


def test_clarify_offers_at_most_three_suggestions_above_the_floor() -> None:
    many = tuple(FaqCandidate(f"e{n}", 0.55 - n * 0.01, f"Q{n}?") for n in range(5))
    decision = decide(TurnState(), seen(faqs=(*many, WEAK)), SETTINGS)
    assert [s.entry_id for s in decision.suggestions] == ["e0", "e1", "e2"]


def test_answer_names_the_entry_and_resets_nothing_else() -> None:
    decision = decide(TurnState(consecutive_misses=1), seen(faqs=(TRACK,)), SETTINGS)
    assert decision == Decision(DecisionKind.answer_faq, Reason.confident_faq, entry_id="track")


def test_miss_limit_is_configurable() -> None:
    patient = PolicySettings(max_consecutive_misses=3)
    second = decide(TurnState(consecutive_misses=1), seen(faqs=(WEAK,)), patient)
    third = decide(TurnState(consecutive_misses=2), seen(faqs=(WEAK,)), patient)
    assert (second.kind, second.misses) == (DecisionKind.fallback, 2)
    assert third.kind is DecisionKind.escalate


@pytest.mark.parametrize(
    ("understanding", "state", "kind", "detail"),
    [
        (
            Understanding("en", None, 0.0, False, (TRACK,), slots=("order_number",)),
            TurnState(),
            DecisionKind.answer_faq,
            "",
        ),
        (
            Understanding(
                "en", None, 0.0, False, (TRACK,), slots=("order_number",), continues_seq=3
            ),
            TurnState(),
            DecisionKind.answer_faq,
            "continues message 3 with order_number",
        ),
        (
            Understanding("zh", None, 0.0, False, (), slots=("email", "phone"), continues_seq=5),
            TurnState(consecutive_misses=1),
            DecisionKind.escalate,
            "continues message 5 with email, phone; 2 consecutive messages not understood",
        ),
        (
            Understanding("en", None, 0.0, False, (TRACK,), continues_seq=3),
            TurnState(state="agent"),
            DecisionKind.stay_silent,
            "",
        ),
    ],
)
def test_a_continued_question_is_decided_as_itself_and_says_so(
    understanding: Understanding, state: TurnState, kind: DecisionKind, detail: str
) -> None:
    decision = decide(state, understanding, SETTINGS)
    assert (decision.kind, decision.detail) == (kind, detail)
    if kind is DecisionKind.answer_faq:
        assert decision.entry_id == TRACK.entry_id


# -- the answer model: a calibrated chance of being right --------------------------------------

SIZE = FaqCandidate("size", 0.3, "How do I choose my size?")


def with_answer(
    entry: FaqCandidate, probability: float, faqs: tuple[FaqCandidate, ...]
) -> Understanding:
    return replace(seen(faqs=faqs), answer=AnswerEstimate(entry, probability))


# (case, understanding, kind, answered entry or None, suggested entries)
ANSWER_CASES: list[tuple[str, Understanding, DecisionKind, str | None, list[str]]] = [
    (
        "likely right: the model's entry, even where retrieval ranks another first",
        with_answer(SIZE, 0.85, (TRACK, SIZE)),
        DecisionKind.answer_faq,
        "size",
        [],
    ),
    (
        "retrieval's score passes and the model, fairly sure, agrees",
        with_answer(TRACK, 0.65, (TRACK, WEAK)),
        DecisionKind.answer_faq,
        "track",
        [],
    ),
    (
        "retrieval's score passes but the model picks another entry: ask",
        with_answer(REFUND, 0.5, (TRACK, REFUND)),
        DecisionKind.clarify,
        None,
        ["refund", "track"],
    ),
    (
        "retrieval's score passes, the model agrees but is not sure enough: ask",
        with_answer(TRACK, 0.5, (TRACK, WEAK)),
        DecisionKind.clarify,
        None,
        ["track"],
    ),
    (
        "an entry the model has not learned is judged by retrieval alone",
        with_answer(REFUND, 0.1, (replace(TRACK, learned=False), REFUND)),
        DecisionKind.answer_faq,
        "track",
        [],
    ),
    (
        "unlikely and nothing above the clarify score: fall back",
        with_answer(SIZE, 0.1, (WEAK,)),
        DecisionKind.fallback,
        None,
        [],
    ),
]


@pytest.mark.parametrize(
    ("name", "understanding", "kind", "entry", "suggested"),
    ANSWER_CASES,
    ids=[c[0] for c in ANSWER_CASES],
)
def test_answer_model_table(
    name: str,
    understanding: Understanding,
    kind: DecisionKind,
    entry: str | None,
    suggested: list[str],
) -> None:
    decision = decide(TurnState(), understanding, SETTINGS)
    assert decision.kind is kind, name
    assert decision.entry_id == entry, name
    assert [s.entry_id for s in decision.suggestions] == suggested, name


def test_the_answer_probability_is_a_setting() -> None:
    understanding = with_answer(SIZE, 0.6, (WEAK,))
    strict = decide(TurnState(), understanding, SETTINGS)
    lenient = decide(TurnState(), understanding, replace(SETTINGS, faq_answer_probability=0.55))
    assert strict.kind is DecisionKind.clarify
    assert (lenient.kind, lenient.entry_id) == (DecisionKind.answer_faq, "size")
    assert lenient.detail == "P(right) 0.60"


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (None, DecisionKind.answer_faq),  # too small a knowledge base to tell: the score decides
        (0.0, DecisionKind.answer_faq),
        (0.10, DecisionKind.answer_faq),
        (0.11, DecisionKind.clarify),
        (0.9, DecisionKind.clarify),
    ],
)
def test_the_unknown_question_guard_holds_back_retrievals_answer(
    share: float | None, expected: DecisionKind
) -> None:
    top = replace(TRACK, unknown_share=share)
    decision = decide(TurnState(), seen(faqs=(top, REFUND)), SETTINGS)
    assert decision.kind is expected
    if expected is DecisionKind.clarify:
        assert decision.suggestions[0].entry_id == "track"
        assert f"reached by {share:.0%} of questions" in decision.detail


def test_the_guard_says_nothing_when_the_score_itself_falls_short() -> None:
    top = replace(TRACK, score=0.5, unknown_share=0.5)
    decision = decide(TurnState(), seen(faqs=(top, WEAK)), SETTINGS)
    assert decision.kind is DecisionKind.clarify
    assert decision.detail == ""


def test_a_confident_answer_model_is_not_held_back_by_the_guard() -> None:
    top = replace(TRACK, unknown_share=0.5)
    understanding = replace(
        seen(faqs=(top, REFUND)), answer=AnswerEstimate(TRACK, SETTINGS.faq_answer_probability)
    )
    decision = decide(TurnState(), understanding, SETTINGS)
    assert (decision.kind, decision.entry_id) == (DecisionKind.answer_faq, "track")
