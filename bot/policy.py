"""The dialogue policy: a pure function from what the bot knows to what it does, and why.

It reads no database and calls no model, so every rule is tested table-driven.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

__all__ = [
    "AnswerEstimate",
    "Decision",
    "DecisionKind",
    "FaqCandidate",
    "IntentGuess",
    "PolicySettings",
    "Reason",
    "TurnState",
    "Understanding",
    "decide",
]

SMALL_TALK = frozenset({"greeting", "thanks", "goodbye"})
ASK_FOR_PERSON = "human_agent"


class DecisionKind(StrEnum):
    answer_faq = "answer_faq"
    answer_intent = "answer_intent"
    clarify = "clarify"
    escalate = "escalate"
    fallback = "fallback"
    stay_silent = "stay_silent"


class Reason(StrEnum):
    confident_faq = "confident_faq"
    confident_intent = "confident_intent"
    picked_suggestion = "picked_suggestion"
    small_talk = "small_talk"
    unsure = "unsure"
    not_understood = "not_understood"
    asked_for_person = "asked_for_person"
    negative_sentiment = "negative_sentiment"
    worsening_sentiment = "worsening_sentiment"
    repeated_misses = "repeated_misses"
    intent_rule = "intent_rule"
    person_owns_conversation = "person_owns_conversation"
    # The intent has an action (bot/actions.py): the bot asks the business's system.
    intent_action = "intent_action"
    action_failed = "action_failed"


@dataclass(frozen=True)
class PolicySettings:
    faq_answer_score: float = 0.62
    faq_clarify_score: float = 0.40
    # Chinese scores come from another mix (the Han model, characters), so they have their own
    # thresholds; these suit the default Han model (benchmarks/bot_decisions.py).
    faq_answer_score_zh: float = 0.60
    faq_clarify_score_zh: float = 0.45
    # The top FAQ must beat the runner-up by this much to be answered without asking.
    faq_margin: float = 0.06
    # Retrieval's score answers only where at most this share of questions that the knowledge
    # base does not answer score as high, learned per knowledge base and language
    # (bot.unknown_guard); where that is unknown, the score thresholds above decide alone.
    faq_unknown_share: float = 0.10
    # With an answer model (learned from the knowledge base): answer when the chance of being
    # right is at least this, and offer its entry among suggestions from the lower one.
    faq_answer_probability: float = 0.7
    # Where retrieval's score passes too and both pick the same entry, a little less will do.
    faq_agree_probability: float = 0.6
    faq_clarify_probability: float = 0.3
    # Handing off by intent rule costs a person's time, so it needs more certainty than an FAQ
    # answer: the intent's calibrated chance of being right, not the classifier's raw score.
    handoff_intent_probability: float = 0.9
    # An intent with an action (bot/actions.py) is answered before the FAQ, since the business's
    # system knows the customer's own case; but when the FAQ has a confident answer too, only at
    # this chance of the intent being right, or when the message gives a slot for the action
    # ("How long does delivery take?" is a question for the FAQ, not an order lookup).
    action_over_faq_probability: float = 0.9
    max_consecutive_misses: int = 2
    escalate_sentiment_score: float = -0.6
    max_suggestions: int = 3


@dataclass(frozen=True)
class IntentGuess:
    name: str
    confidence: float
    # The classifier's out-of-scope test, with the threshold it chose from its training data.
    in_scope: bool
    # respond, handoff, or call: an enabled action (bot/actions.py) answers it.
    action: str = "respond"
    # The calibrated chance that ``name`` is right (what ``in_scope`` was decided from).
    probability: float = 1.0


@dataclass(frozen=True)
class FaqCandidate:
    entry_id: str
    score: float
    question: str
    # False for an entry the answer model has not learned yet: retrieval's thresholds judge it.
    learned: bool = True
    # The share of questions the knowledge base does not answer that score this high here;
    # None where the knowledge base is too small to tell (bot.unknown_guard).
    unknown_share: float | None = None


@dataclass(frozen=True)
class AnswerEstimate:
    """The answer model's entry for the message, and the calibrated chance it is the right one."""

    candidate: FaqCandidate
    probability: float


@dataclass(frozen=True)
class Understanding:
    language: str
    intent: IntentGuess | None
    sentiment_score: float
    sentiment_worsening: bool
    faqs: tuple[FaqCandidate, ...] = ()
    # Set when the customer picked one of the suggestions the bot offered.
    picked_entry_id: str | None = None
    # Kinds of the slots the message gives ("order_number", "email", "phone", "amount").
    slots: tuple[str, ...] = ()
    # Set when the message only gave slots: the seq of the earlier question it continues, whose
    # understanding this is.
    continues_seq: int | None = None
    # The answer model's estimate; None without a model (a knowledge base too small to learn).
    answer: AnswerEstimate | None = None


@dataclass(frozen=True)
class TurnState:
    state: str = "bot"
    consecutive_misses: int = 0


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    reason: Reason
    entry_id: str | None = None
    intent: str | None = None
    suggestions: tuple[FaqCandidate, ...] = field(default_factory=tuple)
    misses: int = 0
    detail: str = ""


def decide(state: TurnState, seen: Understanding, settings: PolicySettings) -> Decision:
    decision = _decide(state, seen, settings)
    if seen.continues_seq is None or decision.kind is DecisionKind.stay_silent:
        return decision
    # The log says the customer answered an open question, not asked a new one.
    note = f"continues message {seen.continues_seq}"
    if seen.slots:
        note += f" with {', '.join(seen.slots)}"
    return replace(decision, detail=f"{note}; {decision.detail}" if decision.detail else note)


def _decide(state: TurnState, seen: Understanding, settings: PolicySettings) -> Decision:
    if state.state != "bot":
        return Decision(DecisionKind.stay_silent, Reason.person_owns_conversation)
    if seen.picked_entry_id:
        return Decision(
            DecisionKind.answer_faq, Reason.picked_suggestion, entry_id=seen.picked_entry_id
        )
    intent = seen.intent if seen.intent and seen.intent.in_scope else None

    escalation = _escalation(seen, intent, settings)
    if escalation:
        return escalation
    if intent and intent.name in SMALL_TALK:
        return Decision(DecisionKind.answer_intent, Reason.small_talk, intent=intent.name)

    confident = _confident_faq(seen, settings)
    if intent and intent.action == "call":
        # The business's system knows this customer's case better than any FAQ entry, unless
        # the FAQ is sure and the intent is not (nor does the message name a case).
        sure = intent.probability >= settings.action_over_faq_probability or bool(seen.slots)
        if confident is None or sure:
            return Decision(DecisionKind.answer_intent, Reason.intent_action, intent=intent.name)
    if confident:
        return confident
    if intent and intent.action == "respond":
        return Decision(DecisionKind.answer_intent, Reason.confident_intent, intent=intent.name)
    suggestions = _suggestions(seen, settings)
    if suggestions:
        return Decision(
            DecisionKind.clarify,
            Reason.unsure,
            suggestions=suggestions,
            detail=_held_back(seen, settings),
        )

    misses = state.consecutive_misses + 1
    if misses >= settings.max_consecutive_misses:
        return Decision(
            DecisionKind.escalate,
            Reason.repeated_misses,
            misses=misses,
            detail=f"{misses} consecutive messages not understood",
        )
    return Decision(DecisionKind.fallback, Reason.not_understood, misses=misses)


def _confident_faq(seen: Understanding, settings: PolicySettings) -> Decision | None:
    """An FAQ answer the bot is sure enough of.

    With the answer model: its entry when the calibrated chance of being right reaches
    ``faq_answer_probability``; or retrieval's top entry when its score passes the answer
    threshold and the model, at least ``faq_agree_probability`` sure, picks the same entry
    (two readings agree). An entry the model has not learned yet, or every entry when there is
    no model, is judged by retrieval's score and its margin over the runner-up alone.
    """
    answer = seen.answer
    if answer and answer.probability >= settings.faq_answer_probability:
        return Decision(
            DecisionKind.answer_faq,
            Reason.confident_faq,
            entry_id=answer.candidate.entry_id,
            detail=f"P(right) {answer.probability:.2f}",
        )
    top = seen.faqs[0] if seen.faqs else None
    if top is None or not _passes_score(seen, top, settings):
        return None
    if answer is None or not top.learned:
        return Decision(DecisionKind.answer_faq, Reason.confident_faq, entry_id=top.entry_id)
    if (
        answer.candidate.entry_id == top.entry_id
        and answer.probability >= settings.faq_agree_probability
    ):
        return Decision(
            DecisionKind.answer_faq,
            Reason.confident_faq,
            entry_id=top.entry_id,
            detail=f"retrieval and the answer model agree, P(right) {answer.probability:.2f}",
        )
    return None


def _passes_score(seen: Understanding, top: FaqCandidate, settings: PolicySettings) -> bool:
    answer_score = (
        settings.faq_answer_score_zh if seen.language == "zh" else settings.faq_answer_score
    )
    runner_up = seen.faqs[1].score if len(seen.faqs) > 1 else 0.0
    return (
        top.score >= answer_score
        and top.score - runner_up >= settings.faq_margin
        and (top.unknown_share is None or top.unknown_share <= settings.faq_unknown_share)
    )


def _held_back(seen: Understanding, settings: PolicySettings) -> str:
    """Why retrieval's top entry was not answered, when only the unknown-question guard held it
    back: test-the-bot shows it."""
    top = seen.faqs[0] if seen.faqs else None
    if top is None or top.unknown_share is None or top.unknown_share <= settings.faq_unknown_share:
        return ""
    if not _passes_score(seen, replace(top, unknown_share=None), settings):
        return ""
    return (
        f"score {top.score:.2f} is reached by {top.unknown_share:.0%} of questions this "
        f"knowledge base does not answer (answers from at most {settings.faq_unknown_share:.0%})"
    )


def _suggestions(seen: Understanding, settings: PolicySettings) -> tuple[FaqCandidate, ...]:
    """What to offer under "Did you mean": the answer model's entry when it is likely enough,
    then retrieval's candidates above the clarify score."""
    clarify_score = (
        settings.faq_clarify_score_zh if seen.language == "zh" else settings.faq_clarify_score
    )
    offered: list[FaqCandidate] = []
    if seen.answer and seen.answer.probability >= settings.faq_clarify_probability:
        offered.append(seen.answer.candidate)
    for candidate in seen.faqs:
        if candidate.score >= clarify_score and all(
            candidate.entry_id != o.entry_id for o in offered
        ):
            offered.append(candidate)
    return tuple(offered[: settings.max_suggestions])


def _escalation(
    seen: Understanding, intent: IntentGuess | None, settings: PolicySettings
) -> Decision | None:
    if intent and intent.name == ASK_FOR_PERSON:
        return Decision(DecisionKind.escalate, Reason.asked_for_person, intent=intent.name)
    if (
        intent
        and intent.action == "handoff"
        and intent.probability >= settings.handoff_intent_probability
    ):
        return Decision(
            DecisionKind.escalate,
            Reason.intent_rule,
            intent=intent.name,
            detail=f"intent {intent.name} needs a person, P(right) {intent.probability:.2f}",
        )
    if seen.sentiment_score <= settings.escalate_sentiment_score:
        return Decision(
            DecisionKind.escalate,
            Reason.negative_sentiment,
            detail=f"sentiment {seen.sentiment_score:.2f}",
        )
    if seen.sentiment_worsening:
        return Decision(DecisionKind.escalate, Reason.worsening_sentiment)
    return None
