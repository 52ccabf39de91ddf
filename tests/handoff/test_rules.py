"""The desk's pure rules, table-driven: priority, who gets a chat, opening hours, facts, canned
placeholders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handoff.assignment import Candidate, choose_agent
from handoff.canned import fill
from handoff.context import extract_facts, key_sentences
from handoff.priority import Priority, bump, initial_priority
from handoff.schedule import BusinessHours, InvalidScheduleError


@pytest.mark.parametrize(
    ("reason", "sentiment", "tier", "expected"),
    [
        ("asked_for_person", 0.0, "standard", Priority.normal),
        ("asked_for_person", None, "vip", Priority.high),
        ("repeated_misses", -0.2, "standard", Priority.normal),
        ("asked_for_person", -0.6, "standard", Priority.high),
        ("negative_sentiment", -0.65, "standard", Priority.high),
        ("negative_sentiment", -0.9, "standard", Priority.urgent),
        ("intent_rule", 0.1, "vip", Priority.urgent),
        ("worsening_sentiment", -0.3, "standard", Priority.high),
        ("reopened", 0.0, "standard", Priority.high),
    ],
)
def test_initial_priority(
    reason: str, sentiment: float | None, tier: str, expected: Priority
) -> None:
    assert initial_priority(reason=reason, sentiment=sentiment, tier=tier) is expected


def test_waiting_raises_priority_one_level_and_stops_at_urgent() -> None:
    assert bump(Priority.normal) is Priority.high
    assert bump(Priority.high) is Priority.urgent
    assert bump(Priority.urgent) is Priority.urgent


def agent(
    user_id: int,
    *,
    load: int = 0,
    cap: int = 3,
    presence: str = "online",
    teams: tuple[str, ...] = ("support",),
    languages: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    last: int | None = None,
) -> Candidate:
    last_at = datetime(2026, 11, 22, 9, last, tzinfo=UTC) if last is not None else None
    return Candidate(user_id, presence, load, cap, teams, languages, topics, last_at)


@pytest.mark.parametrize(
    ("agents", "language", "topic", "expected"),
    [
        ([agent(1, load=2), agent(2, load=1)], "en", None, 2),
        ([agent(1, load=1, last=30), agent(2, load=1, last=10)], "en", None, 2),
        ([agent(1, load=1, last=10), agent(2, load=1)], "en", None, 2),
        ([agent(1, presence="away"), agent(2, load=2)], "en", None, 2),
        ([agent(1, load=3), agent(2, load=2, cap=2)], "en", None, None),
        ([agent(1, teams=("billing",)), agent(2, load=2)], "en", None, 2),
        ([agent(1, languages=("zh",)), agent(2, languages=("en",), load=1)], "en", None, 2),
        ([agent(1, languages=("zh",)), agent(2, languages=("en",))], "zh", None, 1),
        (
            [agent(1, last=1), agent(2, topics=("refund_status",), last=50)],
            "en",
            "refund_status",
            2,
        ),
        ([agent(1), agent(2, topics=("refund_status",), load=1)], "en", "refund_status", 1),
        ([], "en", None, None),
    ],
)
def test_choose_agent(
    agents: list[Candidate], language: str, topic: str | None, expected: int | None
) -> None:
    chosen = choose_agent(agents, team="support", language=language, topic=topic)
    assert (chosen.user_id if chosen else None) == expected


SHANGHAI_WEEKDAYS = {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.mark.parametrize(
    ("moment", "open_now", "next_open"),
    [
        # Monday 2026-11-23 10:00 in Shanghai is 02:00 UTC.
        (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), True, None),
        # Monday 18:30 Shanghai: closed, opens Tuesday 09:00 Shanghai = 01:00 UTC.
        (
            datetime(2026, 11, 23, 10, 30, tzinfo=UTC),
            False,
            datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
        ),
        # Saturday: opens Monday.
        (datetime(2026, 11, 28, 3, 0, tzinfo=UTC), False, datetime(2026, 11, 30, 1, 0, tzinfo=UTC)),
        # Monday 08:59 Shanghai: opens in a minute, same day.
        (
            datetime(2026, 11, 23, 0, 59, tzinfo=UTC),
            False,
            datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        ),
    ],
)
def test_business_hours(moment: datetime, open_now: bool, next_open: datetime | None) -> None:
    hours = BusinessHours.parse(SHANGHAI_WEEKDAYS, "Asia/Shanghai")
    assert hours.is_open(moment) is open_now
    assert hours.next_open(moment) == next_open


def test_an_empty_schedule_is_always_open_and_24_00_closes_at_midnight() -> None:
    assert BusinessHours.parse({}, "UTC").is_open(datetime(2026, 1, 1, 3, tzinfo=UTC))
    late = BusinessHours.parse({"thu": ["20:00-24:00"]}, "UTC")
    assert late.is_open(datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("schedule", "zone"),
    [
        ({"mon": ["9-5"]}, "UTC"),
        ({"funday": ["09:00-17:00"]}, "UTC"),
        ({"mon": ["17:00-09:00"]}, "UTC"),
        ({"mon": ["09:00-17:00"]}, "Mars/Olympus"),
    ],
)
def test_bad_schedules_are_refused_at_start(schedule: dict[str, list[str]], zone: str) -> None:
    with pytest.raises(InvalidScheduleError):
        BusinessHours.parse(schedule, zone)


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("Order #20261122001 never came", [("order_number", "20261122001")]),
        ("Where is #10482?", [("order_number", "10482")]),
        (
            "订单号是LM20240518，邮箱 ada@example.com",
            [("order_number", "LM20240518"), ("email", "ada@example.com")],
        ),
        ("it arrived on 20240518, 3 of 5 items", []),
        ("订单号 SO88012345 还没发货", [("order_number", "SO88012345")]),
        ("mail me at li.na+shop@example.com", [("email", "li.na+shop@example.com")]),
        ("call 13812345678 please", [("phone", "13812345678")]),
        ("I paid $49.99 twice", [("amount", "$49.99")]),
        ("退我 299元", [("amount", "299元")]),
        ("nothing to see here", []),
    ],
)
def test_facts_are_pulled_from_what_the_customer_wrote(
    text: str, facts: list[tuple[str, str]]
) -> None:
    assert [(f["kind"], f["value"]) for f in extract_facts([text], mask=False)] == facts


def test_facts_of_personal_data_are_masked_hints_unless_asked_for_raw() -> None:
    texts = ["call 13812345678 or mail li.na+shop@example.com, order #10482"]
    assert [(f["kind"], f["value"]) for f in extract_facts(texts)] == [
        ("phone", "[phone •••5678]"),
        ("email", "[email l•••@example.com]"),
        ("order_number", "10482"),
    ]


def test_key_sentences_prefer_facts_and_feeling_over_small_talk() -> None:
    messages = [
        (1, "hi"),
        (3, "My parcel 7788990011 is three weeks late and nobody answers"),
        (5, "this is ridiculous"),
        (7, "talk to a person"),
    ]
    signals = {1: ("greeting", 0.0), 5: (None, -0.8), 7: ("human_agent", 0.0)}
    picked = key_sentences(messages, signals, limit=2)
    assert [p["seq"] for p in picked] == [3, 5]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {customer_name}!", "Hi Ada!"),
        ("{agent_name} here", "Li Na here"),
        ("Hi {nickname}", "Hi {nickname}"),
    ],
)
def test_canned_placeholders(template: str, expected: str) -> None:
    assert fill(template, {"customer_name": "Ada", "agent_name": "Li Na"}) == expected


def test_one_order_number_written_two_ways_is_one_fact() -> None:
    texts = ["Where is #10482?", "it's order 10482", "我的邮箱 ada@example.com"]
    facts = extract_facts(texts, mask=False)
    assert facts == [
        {"kind": "order_number", "value": "10482"},
        {"kind": "email", "value": "ada@example.com"},
    ]
