"""The unknown-question guard: retrieval's score answers only where questions that the knowledge
base does not answer rarely score as high, learned per knowledge base and language.

The knowledge base here is a lender's: 25 questions about one loan, one phrasing each, written
for this test. Among such near neighbours an unrelated question scores high by sharing the
domain's words, which a fixed threshold cannot tell from a match."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.bot.test_answer_model import answers_health, explain
from tests.conftest import staff_client
from tests.factories import faq

LOAN_QUESTIONS = [
    "How do I apply for a personal loan?",
    "What is the interest rate on a personal loan?",
    "How long does loan approval take?",
    "Can I repay my loan early?",
    "Is there a fee for repaying the loan early?",
    "How do I increase my loan limit?",
    "Why was my loan application rejected?",
    "When is my monthly loan repayment due?",
    "What happens if I miss a loan repayment?",
    "Can I change my loan repayment date?",
    "How do I check my remaining loan balance?",
    "Can I borrow again before my loan is repaid?",
    "What documents do I need for a loan?",
    "Can I cancel my loan application?",
    "How is the loan paid out to me?",
    "Why has the loan money not arrived in my account?",
    "Can I pay back the loan with a credit card?",
    "What is the maximum loan amount?",
    "What is the minimum loan amount?",
    "How many months can I take to repay the loan?",
    "Will applying for a loan affect my credit score?",
    "Can I have two loans at the same time?",
    "How do I get a loan statement?",
    "Who can apply for a loan?",
    "Can I apply for a loan if I am self-employed?",
]
# About a credit card, which this lender's knowledge base does not cover; its best match is
# "How long does loan approval take?", far above the fixed answer threshold (0.62).
UNKNOWN = "how long does credit card approval take"


def lender(client: TestClient) -> None:
    for number, question in enumerate(LOAN_QUESTIONS):
        faq(
            client,
            id=f"loan-{number}",
            question=question,
            alternatives=[],
            answer=f"Answer {number}.",
            category="loans",
        )
    deadline = time.monotonic() + 240
    while not answers_health(client)["current"]:
        assert time.monotonic() < deadline, "the knowledge base's models never caught up"
        time.sleep(0.1)


def top(body: dict[str, Any]) -> dict[str, Any]:
    hit: dict[str, Any] = body["faqs"][0]
    return hit


def test_a_question_scoring_like_the_knowledge_bases_own_neighbours_is_not_answered(
    client: TestClient,
) -> None:
    lender(client)

    body = explain(client, UNKNOWN)
    hit = top(body)
    assert hit["entry_id"] == "loan-2"
    assert hit["score"] >= 0.62  # the fixed threshold alone would answer it
    assert hit["unknown_share"] > 0.10
    assert body["decision"]["kind"] == "clarify"
    assert "loan-2" in body["decision"]["suggestions"]
    assert "questions this knowledge base does not answer" in body["decision"]["detail"]

    # A question the knowledge base does answer scores above every left-out neighbour.
    known = explain(client, "What's the interest rate for the loan?")
    assert top(known)["unknown_share"] <= 0.10
    assert (known["decision"]["kind"], known["decision"]["entry_id"]) == ("answer_faq", "loan-1")

    # The shares are per language: there are no Chinese entries to learn them from.
    chinese = explain(client, "贷款的利率是多少？")
    assert all(hit["unknown_share"] is None for hit in chinese["faqs"])


def test_the_share_that_may_be_answered_is_a_setting(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    lenient = migrated.model_copy(update={"faq_unknown_share": 0.5})
    with staff_client(lenient, embedder) as client:
        lender(client)
        body = explain(client, UNKNOWN)
        assert top(body)["unknown_share"] <= 0.5
        assert (body["decision"]["kind"], body["decision"]["entry_id"]) == ("answer_faq", "loan-2")
