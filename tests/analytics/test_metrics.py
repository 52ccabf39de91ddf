"""The formulas of docs/metrics.md on hand-built rows, with hand-computed answers."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analytics import metrics
from analytics.rows import (
    AgentRow,
    ConversationRow,
    Dataset,
    EventRow,
    ExchangeRow,
    FeedbackRow,
    FollowUpRow,
    TicketRow,
)
from analytics.scorecard import Scorecard, scorecards, transfers_away
from analytics.stats import Rate, Spread, percentile, rate, spread

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def conv(cid: str, **fields: Any) -> ConversationRow:
    return ConversationRow(id=cid, created_at=fields.pop("created_at", T0), **fields)


def event(cid: str, seq: int, kind: str, minutes: float = 0, **payload: Any) -> EventRow:
    return EventRow(cid, seq, kind, at(minutes), payload)


def escalated(cid: str, seq: int, reason: str = "asked_for_person") -> EventRow:
    return event(cid, seq, "conversation.escalated", reason=reason)


def ticket(tid: int, cid: str, **fields: Any) -> TicketRow:
    return TicketRow(id=tid, conversation_id=cid, created_at=fields.pop("created_at", T0), **fields)


def exchange(cid: str, decision: str, **fields: Any) -> ExchangeRow:
    return ExchangeRow(
        conversation_id=cid, created_at=fields.pop("created_at", T0), decision=decision, **fields
    )


# -- shared arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 90, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 90, 4.0),
        ([float(n) for n in range(1, 11)], 90, 9.0),
        # 90 % of 30 is rank 27 exactly; floating point would say 27.000000000000004 -> 28.
        ([float(n) for n in range(1, 31)], 90, 27.0),
        ([float(n) for n in range(1, 31)], 0, 1.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], p: int, expected: float | None) -> None:
    assert percentile(values, p) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], Spread(0, None, None, None)),
        ([5.0], Spread(1, 5.0, 5.0, 5.0)),
        ([4.0, 1.0, 3.0, 2.0], Spread(4, 2.5, 2.0, 4.0)),
        ([-3.0, 2.0, 4.0], Spread(2, 3.0, 2.0, 4.0)),
    ],
)
def test_spread(values: list[float], expected: Spread) -> None:
    assert spread(values) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(0, 0, None), (0, 3, 0.0), (1, 4, 0.25), (3, 3, 1.0)],
)
def test_rate_never_divides_by_zero(
    numerator: int, denominator: int, expected: float | None
) -> None:
    assert rate(numerator, denominator) == Rate(numerator, denominator, expected)


# -- volume -----------------------------------------------------------------------------------


def test_volume_by_hour_and_by_day_fills_the_gaps() -> None:
    rows = [
        conv("a", created_at=datetime(2026, 11, 1, 0, 5, tzinfo=UTC)),
        conv("b", created_at=datetime(2026, 11, 1, 23, 59, tzinfo=UTC)),
        conv("c", created_at=datetime(2026, 11, 3, 23, 0, tzinfo=UTC)),
    ]
    found = metrics.volume(rows)
    assert len(found.by_hour) == 24
    assert found.by_hour[0] == 1
    assert found.by_hour[23] == 2
    assert sum(found.by_hour) == 3
    assert [(d.day, d.conversations) for d in found.by_day] == [
        ("2026-11-01", 2),
        ("2026-11-02", 0),
        ("2026-11-03", 1),
    ]


def test_volume_of_nothing() -> None:
    found = metrics.volume([])
    assert found.by_hour == (0,) * 24
    assert found.by_day == ()


# -- containment and escalation ---------------------------------------------------------------

CONTAINMENT_CASES: list[tuple[str, Dataset, Rate]] = [
    ("no data", Dataset(), Rate(0, 0, None)),
    ("a bot-only chat is contained", Dataset(conversations=(conv("a"),)), Rate(1, 1, 1.0)),
    (
        "nobody wrote: not counted at all",
        Dataset(conversations=(conv("a"), conv("b", customer_wrote=False))),
        Rate(1, 1, 1.0),
    ),
    (
        "an escalation with nobody available still is not contained",
        Dataset(conversations=(conv("a"),), events=(escalated("a", 3),)),
        Rate(0, 1, 0.0),
    ),
    (
        "the button alone (no message) counts the conversation, escalated",
        Dataset(conversations=(conv("a", customer_wrote=False),), events=(escalated("a", 2),)),
        Rate(0, 1, 0.0),
    ),
    (
        "an offline-message ticket without an escalation event",
        Dataset(conversations=(conv("a"), conv("b")), tickets=(ticket(1, "a", kind="offline"),)),
        Rate(1, 2, 0.5),
    ),
    (
        "reopened within 24 hours: not contained",
        Dataset(
            conversations=(conv("a", state="closed"),),
            events=(
                event("a", 3, "conversation.closed", 10),
                event("a", 4, "conversation.reopened", 10 + 24 * 60),
            ),
        ),
        Rate(0, 1, 0.0),
    ),
    (
        "reopened after 24 hours: still contained",
        Dataset(
            conversations=(conv("a"),),
            events=(
                event("a", 3, "conversation.closed", 10),
                event("a", 4, "conversation.reopened", 11 + 24 * 60),
            ),
        ),
        Rate(1, 1, 1.0),
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [case[1:] for case in CONTAINMENT_CASES],
    ids=[case[0] for case in CONTAINMENT_CASES],
)
def test_containment(data: Dataset, expected: Rate) -> None:
    assert metrics.containment(data) == expected


def test_escalation_counts_each_conversation_once_by_its_first_escalation() -> None:
    data = Dataset(
        conversations=(conv("a"), conv("b"), conv("c"), conv("d"), conv("e")),
        events=(
            # a: the bot escalated on an in-scope complaint, later reopened and escalated again
            escalated("a", 5, "intent_rule"),
            escalated("a", 12, "reopened"),
            # b: the button
            escalated("b", 2),
            # c: the bot escalated, but the classifier's guess was out of scope
            escalated("c", 4, "repeated_misses"),
        ),
        exchanges=(
            exchange("a", "escalate", intent="complaint", intent_in_scope=True, reply_seq=4),
            exchange("c", "fallback", intent="greeting", intent_in_scope=False, reply_seq=2),
            exchange("c", "escalate", intent="greeting", intent_in_scope=False, reply_seq=3),
        ),
        # d: an offline message with no escalation event
        tickets=(
            ticket(1, "a", reason="intent_rule"),
            ticket(2, "a", reason="reopened", created_at=at(60)),
            ticket(3, "d", kind="offline", reason="asked_for_person"),
        ),
    )
    found = metrics.escalation(data)
    assert found.overall == Rate(4, 5, 0.8)
    assert [(k.key, k.conversations, k.rate) for k in found.by_reason] == [
        ("asked_for_person", 2, 0.4),
        ("intent_rule", 1, 0.2),
        ("repeated_misses", 1, 0.2),
    ]
    assert [(k.key, k.conversations) for k in found.by_intent] == [("(none)", 3), ("complaint", 1)]


def test_escalation_of_nothing() -> None:
    found = metrics.escalation(Dataset())
    assert found.overall == Rate(0, 0, None)
    assert found.by_reason == ()
    assert found.by_intent == ()


# -- the bot ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decisions", "answer", "fallback"),
    [
        ([], Rate(0, 0, None), Rate(0, 0, None)),
        (["answer_faq"], Rate(1, 1, 1.0), Rate(0, 1, 0.0)),
        (
            ["answer_faq", "answer_intent", "clarify", "fallback", "escalate"],
            Rate(2, 5, 0.4),
            Rate(1, 5, 0.2),
        ),
        (["fallback", "fallback", "stay_silent"], Rate(0, 2, 0.0), Rate(2, 2, 1.0)),
    ],
)
def test_bot_answer_and_fallback_rates(decisions: list[str], answer: Rate, fallback: Rate) -> None:
    found = metrics.bot_answers([exchange("a", d) for d in decisions])
    assert found == metrics.BotAnswers(answer, fallback)


def test_bot_first_response_counts_exchanges_that_replied_in_seconds() -> None:
    rows = [
        exchange("a", "answer_faq", latency_ms=250.0, reply_seq=2),
        exchange("a", "fallback", latency_ms=750.0, reply_seq=4),
        exchange("a", "answer_faq", latency_ms=500.0, reply_seq=6),
        exchange("a", "stay_silent", latency_ms=900.0),
    ]
    assert metrics.bot_first_response(rows) == Spread(3, 0.5, 0.5, 0.75)


def test_sentiment_by_day() -> None:
    rows = [
        exchange("a", "fallback", sentiment_score=-0.5, created_at=at(0)),
        exchange("a", "fallback", sentiment_score=0.25, created_at=at(10)),
        exchange("b", "answer_faq", sentiment_score=1.0, created_at=at(24 * 60)),
        exchange("b", "stay_silent", sentiment_score=-1.0, created_at=at(24 * 60)),
    ]
    found = [(d.day, d.mean, d.exchanges) for d in metrics.sentiment_by_day(rows)]
    assert found == [("2026-11-02", -0.125, 2), ("2026-11-03", 1.0, 1)]


# -- people and time --------------------------------------------------------------------------


def test_people_first_response_uses_live_tickets_only() -> None:
    rows = [
        ticket(1, "a", first_response_at=at(1)),
        ticket(2, "b", first_response_at=at(3)),
        ticket(3, "c"),
        ticket(4, "d", kind="offline", first_response_at=at(600)),
    ]
    assert metrics.people_first_response(rows) == Spread(2, 120.0, 60.0, 180.0)


def test_time_to_claim_leaves_out_transferred_tickets() -> None:
    rows = [
        ticket(1, "a", assigned_at=at(0.5)),
        ticket(2, "b", assigned_at=at(1.5)),
        ticket(3, "c", assigned_at=at(50), transfers=1),
        ticket(4, "d"),
    ]
    assert metrics.time_to_claim(rows) == Spread(2, 60.0, 30.0, 90.0)


def test_handle_time_counts_closed_and_handed_back() -> None:
    rows = [
        ticket(1, "a", assigned_at=at(1), closed_at=at(11), resolution="closed"),
        ticket(2, "b", assigned_at=at(1), closed_at=at(6), resolution="handed_back"),
        ticket(3, "c", closed_at=at(9), resolution="abandoned"),
        ticket(4, "d", assigned_at=at(1)),
    ]
    assert metrics.handle_time(rows) == Spread(2, 450.0, 300.0, 600.0)


def test_resolution_time_counts_closed_conversations() -> None:
    rows = [
        conv("a", state="closed", closed_at=at(2)),
        conv("b", state="closed", closed_at=at(4)),
        conv("c", state="bot"),
    ]
    assert metrics.resolution_time(rows) == Spread(2, 180.0, 120.0, 240.0)


FCR_CASES: list[tuple[str, Dataset, Rate]] = [
    ("no data", Dataset(), Rate(0, 0, None)),
    (
        "a closed bot-only chat",
        Dataset(conversations=(conv("a", state="closed"),)),
        Rate(1, 1, 1.0),
    ),
    ("an open chat is not counted", Dataset(conversations=(conv("a"),)), Rate(0, 0, None)),
    (
        "one ticket, closed",
        Dataset(
            conversations=(conv("a", state="closed"),),
            tickets=(ticket(1, "a", resolution="closed"),),
        ),
        Rate(1, 1, 1.0),
    ),
    (
        "reopened",
        Dataset(
            conversations=(conv("a", state="closed"),),
            events=(
                event("a", 3, "conversation.closed"),
                event("a", 4, "conversation.reopened", 3 * 24 * 60),
                event("a", 5, "conversation.closed", 3 * 24 * 60 + 1),
            ),
        ),
        Rate(0, 1, 0.0),
    ),
    (
        "two tickets",
        Dataset(
            conversations=(conv("a", state="closed"),),
            tickets=(ticket(1, "a"), ticket(2, "a")),
        ),
        Rate(0, 1, 0.0),
    ),
    (
        "a transfer",
        Dataset(conversations=(conv("a", state="closed"),), tickets=(ticket(1, "a", transfers=1),)),
        Rate(0, 1, 0.0),
    ),
    (
        "handed back once, then closed",
        Dataset(
            conversations=(conv("a", state="closed"), conv("b", state="closed")),
            tickets=(ticket(1, "a", resolution="handed_back"),),
        ),
        Rate(2, 2, 1.0),
    ),
    (
        "the follow-up says it came back",
        Dataset(
            conversations=(conv("a", state="closed"), conv("b", state="closed")),
            follow_ups=(FollowUpRow("a", answer="not_solved"), FollowUpRow("b", answer="solved")),
        ),
        Rate(1, 2, 0.5),
    ),
    (
        "a follow-up not answered changes nothing",
        Dataset(
            conversations=(conv("a", state="closed"),),
            follow_ups=(FollowUpRow("a", asked=True),),
        ),
        Rate(1, 1, 1.0),
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [case[1:] for case in FCR_CASES], ids=[case[0] for case in FCR_CASES]
)
def test_first_contact_resolution(data: Dataset, expected: Rate) -> None:
    assert metrics.first_contact_resolution(data) == expected


@pytest.mark.parametrize(
    ("breached", "expected"),
    [([], Rate(0, 0, None)), ([False, True, False, True], Rate(2, 4, 0.5))],
)
def test_sla_breaches_over_live_tickets(breached: list[bool], expected: Rate) -> None:
    rows = [ticket(n, "a", sla_breached=b) for n, b in enumerate(breached)]
    rows.append(ticket(99, "b", kind="offline", sla_breached=True))
    assert metrics.sla_breached(rows) == expected


# -- satisfaction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "mean", "satisfied", "nps"),
    [
        ([], None, Rate(0, 0, None), metrics.Nps(0, 0, 0, None)),
        ([(5, None)], 5.0, Rate(1, 1, 1.0), metrics.Nps(0, 0, 0, None)),
        ([(4, 10), (2, 0)], 3.0, Rate(1, 2, 0.5), metrics.Nps(2, 1, 1, 0.0)),
        # 9-10 promote, 7-8 are passive, 0-6 detract: (2 - 1) / 4
        ([(5, 9), (5, 10), (3, 7), (1, 6)], 3.5, Rate(2, 4, 0.5), metrics.Nps(4, 2, 1, 25.0)),
        ([(1, 8), (3, 7)], 2.0, Rate(0, 2, 0.0), metrics.Nps(2, 0, 0, 0.0)),
    ],
)
def test_csat_and_nps(
    answers: list[tuple[int, int | None]], mean: float | None, satisfied: Rate, nps: metrics.Nps
) -> None:
    found = metrics.satisfaction(FeedbackRow(f"c{n}", c, p) for n, (c, p) in enumerate(answers))
    assert found == metrics.Satisfaction(len(answers), mean, satisfied, nps)


def test_satisfaction_is_split_by_who_handled_it() -> None:
    rows = [
        FeedbackRow("a", 5, 10, person_handled=False),
        FeedbackRow("b", 2, 3, person_handled=True, agent_id=1),
        FeedbackRow("c", 4, None, person_handled=True, agent_id=1),
    ]
    found = metrics.satisfaction_groups(rows)
    assert found.overall.csat_mean == pytest.approx(11 / 3)
    assert found.overall.nps.score == 0.0
    assert found.bot_only == metrics.Satisfaction(
        1, 5.0, Rate(1, 1, 1.0), metrics.Nps(1, 1, 0, 100.0)
    )
    assert found.person_handled == metrics.Satisfaction(
        2, 3.0, Rate(1, 2, 0.5), metrics.Nps(1, 0, 1, -100.0)
    )


# -- complaints -------------------------------------------------------------------------------


def complaint(cid: str, minutes: float, in_scope: bool = True) -> ExchangeRow:
    return exchange(
        cid, "escalate", intent="complaint", intent_in_scope=in_scope, created_at=at(minutes)
    )


def test_complaints_and_how_fast_people_answered_them() -> None:
    hour = 60
    data = Dataset(
        conversations=tuple(conv(c) for c in "abcdef"),
        exchanges=(
            complaint("a", 0),
            complaint("a", 5),  # only the first complaint starts the clock
            complaint("b", 0),
            complaint("c", 0),
            complaint("d", 0),
            complaint("e", 0, in_scope=False),  # an out-of-scope guess is not a complaint
        ),
        tickets=(
            ticket(1, "a", first_response_at=at(10 * hour)),
            ticket(2, "b", first_response_at=at(30 * hour)),
            # c: answered before the complaint (an earlier ticket), then never again
            ticket(3, "c", created_at=at(-90), first_response_at=at(-60)),
            # d: unanswered
            ticket(4, "d"),
        ),
    )
    found = metrics.complaints(data)
    assert found.rate == Rate(4, 6, 4 / 6)
    assert found.answered_within == {
        "24h": Rate(1, 4, 0.25),
        "48h": Rate(2, 4, 0.5),
        "72h": Rate(2, 4, 0.5),
    }


def test_complaints_of_nothing() -> None:
    found = metrics.complaints(Dataset())
    assert found.rate == Rate(0, 0, None)
    assert all(r == Rate(0, 0, None) for r in found.answered_within.values())


# -- the scorecard ----------------------------------------------------------------------------

ANA = AgentRow(1, "ana", "Ana")
BO = AgentRow(2, "bo", "Bo")
LEFT_BY_ANA = event("a", 6, "agent.left", agent="Ana", reason="transferred")


def test_a_transferred_chat_is_credited_once_to_whoever_closed_it() -> None:
    data = Dataset(
        agents=(ANA, BO, AgentRow(3, "cy", "Cy")),
        events=(LEFT_BY_ANA, event("b", 9, "agent.left", agent="Bo", reason="handed_back")),
        tickets=(
            # a: Ana had it, transferred it to Bo, who closed it
            ticket(
                1,
                "a",
                agent_id=2,
                transfers=1,
                resolution="closed",
                first_response_at=at(1),
                assigned_at=at(2),
                closed_at=at(12),
            ),
            # b: Bo handed it back to the bot
            ticket(
                2,
                "b",
                agent_id=2,
                resolution="handed_back",
                first_response_at=at(3),
                assigned_at=at(1),
                closed_at=at(3),
            ),
            # c: Ana still has it open
            ticket(3, "c", agent_id=1, assigned_at=at(1)),
        ),
        feedback=(FeedbackRow("a", 4, agent_id=2, person_handled=True),),
    )
    ana, bo = scorecards(data)
    assert ana == Scorecard(
        username="ana",
        display_name="Ana",
        conversations_handled=1,
        first_response=Spread(0, None, None, None),
        handle_time=Spread(0, None, None, None),
        csat_mean=None,
        closed=0,
        handed_back=0,
        transferred_away=1,
        resolution=Rate(0, 1, 0.0),
    )
    assert bo.conversations_handled == 2
    assert bo.first_response == Spread(2, 120.0, 60.0, 180.0)
    assert bo.handle_time == Spread(2, 360.0, 120.0, 600.0)
    assert bo.csat_mean == 4.0
    assert (bo.closed, bo.handed_back, bo.transferred_away) == (1, 1, 0)
    assert bo.resolution == Rate(1, 2, 0.5)


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        ((ANA, BO), {1: 1}),
        ((ANA, BO, AgentRow(3, "ana2", "Ana")), {}),  # a shared display name credits nobody
        ((BO,), {}),
    ],
)
def test_transfers_away_are_matched_on_a_unique_display_name(
    agents: tuple[AgentRow, ...], expected: dict[int, int]
) -> None:
    assert dict(transfers_away([LEFT_BY_ANA], agents)) == expected


def test_offline_tickets_are_not_on_the_scorecard() -> None:
    data = Dataset(agents=(ANA,), tickets=(ticket(1, "a", kind="offline", agent_id=1),))
    assert scorecards(data) == ()


# -- no data at all ---------------------------------------------------------------------------


FOLLOW_UP_CASES: list[tuple[str, Dataset, Rate, Rate]] = [
    ("no data", Dataset(), Rate(0, 0, None), Rate(0, 0, None)),
    (
        "asked by e-mail or in the widget, one answered",
        Dataset(
            conversations=(conv("a", state="closed"), conv("b", state="closed")),
            follow_ups=(FollowUpRow("a", answer="solved"), FollowUpRow("b")),
        ),
        Rate(1, 2, 0.5),
        Rate(1, 1, 1.0),
    ),
    (
        "due but not asked yet (no e-mail, not back in the widget) is not counted",
        Dataset(
            conversations=(conv("a", state="closed"), conv("b", state="closed")),
            follow_ups=(FollowUpRow("a", answer="not_solved"), FollowUpRow("b", asked=False)),
        ),
        Rate(1, 1, 1.0),
        Rate(0, 1, 0.0),
    ),
    (
        "out of scope: a conversation nobody wrote in",
        Dataset(
            conversations=(conv("a", state="closed", customer_wrote=False),),
            follow_ups=(FollowUpRow("a", answer="solved"),),
        ),
        Rate(0, 0, None),
        Rate(0, 0, None),
    ),
]


@pytest.mark.parametrize(
    ("data", "responses", "solved"),
    [case[1:] for case in FOLLOW_UP_CASES],
    ids=[case[0] for case in FOLLOW_UP_CASES],
)
def test_follow_up(data: Dataset, responses: Rate, solved: Rate) -> None:
    assert metrics.follow_up(data) == metrics.FollowUp(responses, solved)


def test_an_empty_dataset_gives_zeros_and_nulls_everywhere() -> None:
    found = asdict(metrics.summarise(Dataset()))
    nothing = {"numerator": 0, "denominator": 0, "rate": None}
    no_spread = {"count": 0, "mean": None, "p50": None, "p90": None}
    assert found["conversations"] == 0
    assert found["volume"] == {"by_hour": (0,) * 24, "by_day": ()}
    assert found["containment"] == nothing
    assert found["escalation"] == {"overall": nothing, "by_reason": (), "by_intent": ()}
    assert found["bot_answers"] == {"answer": nothing, "fallback": nothing}
    assert found["first_response"] == {"bot": no_spread, "people": no_spread}
    for key in ("time_to_claim", "handle_time", "resolution_time"):
        assert found[key] == no_spread
    assert found["first_contact_resolution"] == nothing
    assert found["follow_up"] == {"response_rate": nothing, "stayed_solved": nothing}
    for group in found["satisfaction"].values():
        assert group["responses"] == 0
        assert group["csat_mean"] is None
        assert group["nps"]["score"] is None
    assert found["sentiment_by_day"] == ()
    assert found["complaints"]["rate"] == nothing
    assert found["sla"] == {"breached": nothing}
    assert found["agents"] == ()
