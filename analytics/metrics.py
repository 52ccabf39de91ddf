"""The metrics of docs/metrics.md as pure functions of plain rows: no database, no clock.

Each function reads a ``Dataset`` (already narrowed to the conversations in scope) and returns
a small frozen dataclass; ``summarise`` gathers them all for the summary report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from .rows import (
    ConversationRow,
    Dataset,
    EventRow,
    ExchangeRow,
    FeedbackRow,
    FollowUpRow,
    TicketRow,
)
from .scorecard import Scorecard, scorecards
from .stats import Rate, Spread, mean, rate, seconds, spread

__all__ = [
    "BotAnswers",
    "ChannelFigures",
    "Complaints",
    "DayCount",
    "DayMean",
    "Escalation",
    "FollowUp",
    "Keyed",
    "Nps",
    "Satisfaction",
    "SatisfactionGroups",
    "Summary",
    "Volume",
    "bot_answers",
    "bot_first_response",
    "by_channel",
    "complaints",
    "containment",
    "engaged",
    "escalation",
    "first_contact_resolution",
    "follow_up",
    "handle_time",
    "people_first_response",
    "resolution_time",
    "satisfaction",
    "satisfaction_groups",
    "sentiment_by_day",
    "sla_breached",
    "summarise",
    "time_to_claim",
    "volume",
]

ESCALATED = "conversation.escalated"
CLOSED = "conversation.closed"
REOPENED = "conversation.reopened"
ANSWERS = frozenset({"answer_faq", "answer_intent"})
HANDLED = frozenset({"closed", "handed_back"})
COMPLAINT = "complaint"
NO_INTENT = "(none)"
REOPEN_WINDOW = timedelta(hours=24)
COMPLAINT_WINDOWS = (24, 48, 72)
STAYED_SOLVED = "solved"
NOT_SOLVED = "not_solved"


@dataclass(frozen=True)
class DayCount:
    day: str
    conversations: int


@dataclass(frozen=True)
class Volume:
    by_hour: tuple[int, ...]
    by_day: tuple[DayCount, ...]


@dataclass(frozen=True)
class Keyed:
    key: str
    conversations: int
    rate: float | None


@dataclass(frozen=True)
class Escalation:
    overall: Rate
    by_reason: tuple[Keyed, ...]
    by_intent: tuple[Keyed, ...]


@dataclass(frozen=True)
class BotAnswers:
    answer: Rate
    fallback: Rate


@dataclass(frozen=True)
class Nps:
    responses: int
    promoters: int
    detractors: int
    score: float | None


@dataclass(frozen=True)
class Satisfaction:
    responses: int
    csat_mean: float | None
    csat_satisfied: Rate
    nps: Nps


@dataclass(frozen=True)
class SatisfactionGroups:
    overall: Satisfaction
    bot_only: Satisfaction
    person_handled: Satisfaction


@dataclass(frozen=True)
class DayMean:
    day: str
    mean: float
    exchanges: int


@dataclass(frozen=True)
class Complaints:
    rate: Rate
    answered_within: dict[str, Rate]


@dataclass(frozen=True)
class FollowUp:
    response_rate: Rate
    stayed_solved: Rate


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    conversations: int
    containment: Rate
    escalation: Rate


@dataclass(frozen=True)
class Summary:
    conversations: int
    volume: Volume
    containment: Rate
    escalation: Escalation
    by_channel: tuple[ChannelFigures, ...]
    bot_answers: BotAnswers
    first_response: dict[str, Spread]
    time_to_claim: Spread
    handle_time: Spread
    resolution_time: Spread
    first_contact_resolution: Rate
    follow_up: FollowUp
    satisfaction: SatisfactionGroups
    sentiment_by_day: tuple[DayMean, ...]
    complaints: Complaints
    sla: dict[str, Rate]
    agents: tuple[Scorecard, ...]


# -- who counts -------------------------------------------------------------------------------


def engaged(data: Dataset) -> list[ConversationRow]:
    """Conversations where the customer wrote or an escalation happened."""
    escalations = {e.conversation_id for e in data.events if e.type == ESCALATED}
    return [c for c in data.conversations if c.customer_wrote or c.id in escalations]


def _escalated_ids(data: Dataset) -> set[str]:
    from_events = {e.conversation_id for e in data.events if e.type == ESCALATED}
    return from_events | {t.conversation_id for t in data.tickets}


def _by_conversation(events: Iterable[EventRow]) -> dict[str, list[EventRow]]:
    grouped: dict[str, list[EventRow]] = defaultdict(list)
    for event in sorted(events, key=lambda e: (e.conversation_id, e.seq)):
        grouped[event.conversation_id].append(event)
    return grouped


def _reopened_soon(data: Dataset) -> set[str]:
    """Conversations with a reopen at most 24 hours after the close it follows."""
    found: set[str] = set()
    for conversation_id, events in _by_conversation(data.events).items():
        closed_at: datetime | None = None
        for event in events:
            if event.type == CLOSED:
                closed_at = event.created_at
            elif event.type == REOPENED and closed_at is not None:
                if event.created_at - closed_at <= REOPEN_WINDOW:
                    found.add(conversation_id)
                closed_at = None
    return found


def _live(tickets: Iterable[TicketRow]) -> list[TicketRow]:
    return [t for t in tickets if t.kind == "live"]


# -- volume and automation --------------------------------------------------------------------


def volume(conversations: list[ConversationRow]) -> Volume:
    hours = Counter(c.created_at.hour for c in conversations)
    days = Counter(c.created_at.date() for c in conversations)
    return Volume(tuple(hours.get(h, 0) for h in range(24)), _every_day(days))


def _every_day(days: Counter[date]) -> tuple[DayCount, ...]:
    if not days:
        return ()
    first, last = min(days), max(days)
    span = (last - first).days + 1
    return tuple(
        DayCount(day.isoformat(), days.get(day, 0))
        for day in (first + timedelta(days=n) for n in range(span))
    )


def containment(data: Dataset) -> Rate:
    population = engaged(data)
    excluded = _escalated_ids(data) | _reopened_soon(data)
    return rate(sum(1 for c in population if c.id not in excluded), len(population))


def escalation(data: Dataset) -> Escalation:
    population = engaged(data)
    escalated = _escalated_ids(data) & {c.id for c in population}
    firsts = _first_escalations(data, escalated)
    escalating = {
        (x.conversation_id, x.reply_seq): x for x in data.exchanges if x.decision == "escalate"
    }
    reasons = Counter(reason for reason, _seq in firsts.values())
    intents = Counter(
        _escalating_intent(escalating, cid, seq) for cid, (_reason, seq) in firsts.items()
    )
    total = len(population)
    return Escalation(
        overall=rate(len(escalated), total),
        by_reason=_keyed(reasons, total),
        by_intent=_keyed(intents, total),
    )


def by_channel(data: Dataset) -> tuple[ChannelFigures, ...]:
    """Conversations, containment and escalation of each channel's conversations, as above."""
    figures = []
    for kind in sorted({c.channel for c in engaged(data)}):
        ids = {c.id for c in data.conversations if c.channel == kind}
        part = replace(
            data,
            conversations=tuple(c for c in data.conversations if c.id in ids),
            events=tuple(e for e in data.events if e.conversation_id in ids),
            exchanges=tuple(x for x in data.exchanges if x.conversation_id in ids),
            tickets=tuple(t for t in data.tickets if t.conversation_id in ids),
        )
        population = engaged(part)
        escalated = _escalated_ids(part) & {c.id for c in population}
        figures.append(
            ChannelFigures(
                kind,
                len(population),
                containment(part),
                rate(len(escalated), len(population)),
            )
        )
    return tuple(figures)


def _first_escalations(data: Dataset, escalated: set[str]) -> dict[str, tuple[str, int | None]]:
    """Each escalated conversation's first reason, and the seq of its escalation event."""
    firsts: dict[str, tuple[str, int | None]] = {}
    for ticket in sorted(data.tickets, key=lambda t: (t.created_at, t.id), reverse=True):
        if ticket.conversation_id in escalated:
            firsts[ticket.conversation_id] = (ticket.reason, None)
    for event in sorted(data.events, key=lambda e: e.seq, reverse=True):
        if event.type == ESCALATED and event.conversation_id in escalated:
            reason = str(event.payload.get("reason") or "unknown")
            firsts[event.conversation_id] = (reason, event.seq)
    return firsts


def _escalating_intent(
    escalating: dict[tuple[str, int | None], ExchangeRow], conversation_id: str, seq: int | None
) -> str:
    """The in-scope intent of the exchange whose hand-over message came just before ``seq``."""
    exchange = escalating.get((conversation_id, seq - 1)) if seq is not None else None
    if exchange is None or not exchange.intent or not exchange.intent_in_scope:
        return NO_INTENT
    return exchange.intent


def _keyed(counts: Counter[str], total: int) -> tuple[Keyed, ...]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Keyed(key, n, rate(n, total).rate) for key, n in ordered)


# -- the bot ----------------------------------------------------------------------------------


def _turns(exchanges: Iterable[ExchangeRow]) -> list[ExchangeRow]:
    return [x for x in exchanges if x.decision != "stay_silent"]


def bot_answers(exchanges: Iterable[ExchangeRow]) -> BotAnswers:
    turns = _turns(exchanges)
    answered = sum(1 for x in turns if x.decision in ANSWERS)
    fell_back = sum(1 for x in turns if x.decision == "fallback")
    return BotAnswers(rate(answered, len(turns)), rate(fell_back, len(turns)))


def bot_first_response(exchanges: Iterable[ExchangeRow]) -> Spread:
    return spread(x.latency_ms / 1000 for x in _turns(exchanges) if x.reply_seq is not None)


def sentiment_by_day(exchanges: Iterable[ExchangeRow]) -> tuple[DayMean, ...]:
    scores: dict[date, list[float]] = defaultdict(list)
    for exchange in _turns(exchanges):
        scores[exchange.created_at.date()].append(exchange.sentiment_score)
    return tuple(
        DayMean(day.isoformat(), sum(found) / len(found), len(found))
        for day, found in sorted(scores.items())
    )


# -- people and time --------------------------------------------------------------------------


def _durations(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> Spread:
    return spread(s for s in (seconds(start, end) for start, end in pairs) if s is not None)


def people_first_response(tickets: Iterable[TicketRow]) -> Spread:
    return _durations((t.created_at, t.first_response_at) for t in _live(tickets))


def time_to_claim(tickets: Iterable[TicketRow]) -> Spread:
    return _durations((t.created_at, t.assigned_at) for t in _live(tickets) if t.transfers == 0)


def handle_time(tickets: Iterable[TicketRow]) -> Spread:
    return _durations(
        (t.assigned_at, t.closed_at) for t in _live(tickets) if t.resolution in HANDLED
    )


def resolution_time(conversations: Iterable[ConversationRow]) -> Spread:
    return _durations((c.created_at, c.closed_at) for c in conversations if c.state == "closed")


def first_contact_resolution(data: Dataset) -> Rate:
    closed = [c for c in engaged(data) if c.state == "closed"]
    reopened = {e.conversation_id for e in data.events if e.type == REOPENED}
    # The customer said, days later, that the problem came back: not resolved after all.
    not_solved = {f.conversation_id for f in data.follow_ups if f.answer == NOT_SOLVED}
    tickets: dict[str, list[TicketRow]] = defaultdict(list)
    for ticket in data.tickets:
        tickets[ticket.conversation_id].append(ticket)
    resolved = [
        c
        for c in closed
        if c.id not in reopened
        and c.id not in not_solved
        and len(tickets[c.id]) <= 1
        and all(t.transfers == 0 for t in tickets[c.id])
    ]
    return rate(len(resolved), len(closed))


def follow_up(data: Dataset) -> FollowUp:
    population = {c.id for c in engaged(data)}
    asked: list[FollowUpRow] = [
        f for f in data.follow_ups if f.asked and f.conversation_id in population
    ]
    answered = [f for f in asked if f.answer is not None]
    solved = sum(1 for f in answered if f.answer == STAYED_SOLVED)
    return FollowUp(rate(len(answered), len(asked)), rate(solved, len(answered)))


def sla_breached(tickets: Iterable[TicketRow]) -> Rate:
    live = _live(tickets)
    return rate(sum(1 for t in live if t.sla_breached), len(live))


# -- satisfaction -----------------------------------------------------------------------------


def satisfaction(feedback: Iterable[FeedbackRow]) -> Satisfaction:
    rows = list(feedback)
    scored = [f.nps for f in rows if f.nps is not None]
    promoters = sum(1 for n in scored if n >= 9)
    detractors = sum(1 for n in scored if n <= 6)
    score = 100 * (promoters - detractors) / len(scored) if scored else None
    return Satisfaction(
        responses=len(rows),
        csat_mean=mean(f.csat for f in rows),
        csat_satisfied=rate(sum(1 for f in rows if f.csat >= 4), len(rows)),
        nps=Nps(len(scored), promoters, detractors, score),
    )


def satisfaction_groups(feedback: Iterable[FeedbackRow]) -> SatisfactionGroups:
    rows = list(feedback)
    return SatisfactionGroups(
        overall=satisfaction(rows),
        bot_only=satisfaction(f for f in rows if not f.person_handled),
        person_handled=satisfaction(f for f in rows if f.person_handled),
    )


# -- complaints -------------------------------------------------------------------------------


def complaints(data: Dataset) -> Complaints:
    population = {c.id for c in engaged(data)}
    raised: dict[str, datetime] = {}
    for exchange in data.exchanges:
        cid = exchange.conversation_id
        if exchange.intent == COMPLAINT and exchange.intent_in_scope and cid in population:
            raised[cid] = min(raised.get(cid, exchange.created_at), exchange.created_at)
    answers: dict[str, list[datetime]] = defaultdict(list)
    for ticket in _live(data.tickets):
        if ticket.first_response_at is not None:
            answers[ticket.conversation_id].append(ticket.first_response_at)
    waits = [_complaint_wait(answers[cid], at) for cid, at in raised.items()]
    within = {
        f"{hours}h": rate(sum(1 for w in waits if w is not None and w <= hours * 3600), len(waits))
        for hours in COMPLAINT_WINDOWS
    }
    return Complaints(rate(len(raised), len(population)), within)


def _complaint_wait(answers: list[datetime], at: datetime) -> float | None:
    """Seconds from the complaint to the first human response at or after it."""
    later = [answered for answered in answers if answered >= at]
    return seconds(at, min(later)) if later else None


# -- everything -------------------------------------------------------------------------------


def summarise(data: Dataset) -> Summary:
    population = engaged(data)
    return Summary(
        conversations=len(population),
        volume=volume(population),
        containment=containment(data),
        escalation=escalation(data),
        by_channel=by_channel(data),
        bot_answers=bot_answers(data.exchanges),
        first_response={
            "bot": bot_first_response(data.exchanges),
            "people": people_first_response(data.tickets),
        },
        time_to_claim=time_to_claim(data.tickets),
        handle_time=handle_time(data.tickets),
        resolution_time=resolution_time(population),
        first_contact_resolution=first_contact_resolution(data),
        follow_up=follow_up(data),
        satisfaction=satisfaction_groups(data.feedback),
        sentiment_by_day=sentiment_by_day(data.exchanges),
        complaints=complaints(data),
        sla={"breached": sla_breached(data.tickets)},
        agents=scorecards(data),
    )
