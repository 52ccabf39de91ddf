"""The per-agent scorecard (docs/metrics.md): the data behind the supervisor's radar chart.

A ticket is credited to its final owner only, so a transferred chat counts once, for the
person who closed it or handed it back; the person who passed it on gets a transfer away.
Quality reviews are credited the same way: to the agent the review was of.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .rows import AgentRow, Dataset, EventRow, ReviewRow, TicketRow
from .stats import Rate, Spread, mean, rate, seconds, spread

__all__ = ["Scorecard", "scorecards", "transfers_away"]

HANDLED = frozenset({"closed", "handed_back"})


@dataclass(frozen=True)
class Scorecard:
    username: str
    display_name: str
    conversations_handled: int
    first_response: Spread
    handle_time: Spread
    csat_mean: float | None
    closed: int
    handed_back: int
    transferred_away: int
    resolution: Rate
    # Submitted quality reviews of this agent's chats in scope, and their mean score (0-100).
    reviews: int = 0
    review_mean: float | None = None


def transfers_away(events: Iterable[EventRow], agents: Iterable[AgentRow]) -> Counter[int]:
    """``agent.left`` for a transfer names the display name; shared names credit nobody."""
    holders: dict[str, list[int]] = defaultdict(list)
    for agent in agents:
        holders[agent.display_name].append(agent.user_id)
    counts: Counter[int] = Counter()
    for event in events:
        if event.type != "agent.left" or event.payload.get("reason") != "transferred":
            continue
        found = holders.get(str(event.payload.get("agent", "")), [])
        if len(found) == 1:
            counts[found[0]] += 1
    return counts


def scorecards(data: Dataset) -> tuple[Scorecard, ...]:
    credited: dict[int, list[TicketRow]] = defaultdict(list)
    for ticket in data.tickets:
        if ticket.kind == "live" and ticket.agent_id is not None:
            credited[ticket.agent_id].append(ticket)
    away = transfers_away(data.events, data.agents)
    csat: dict[int, list[int]] = defaultdict(list)
    for row in data.feedback:
        if row.agent_id is not None:
            csat[row.agent_id].append(row.csat)
    reviews: dict[int, list[ReviewRow]] = defaultdict(list)
    for review in data.reviews:
        reviews[review.agent_id].append(review)
    cards = [
        _card(
            agent,
            credited[agent.user_id],
            away[agent.user_id],
            csat[agent.user_id],
            reviews[agent.user_id],
        )
        for agent in data.agents
        if agent.user_id in credited or away[agent.user_id] or agent.user_id in reviews
    ]
    return tuple(sorted(cards, key=lambda card: card.username))


def _card(
    agent: AgentRow,
    tickets: list[TicketRow],
    away: int,
    csat: list[int],
    reviews: list[ReviewRow],
) -> Scorecard:
    closed = sum(1 for t in tickets if t.resolution == "closed")
    handed_back = sum(1 for t in tickets if t.resolution == "handed_back")
    responses = (seconds(t.created_at, t.first_response_at) for t in tickets)
    handled = (seconds(t.assigned_at, t.closed_at) for t in tickets if t.resolution in HANDLED)
    return Scorecard(
        username=agent.username,
        display_name=agent.display_name,
        conversations_handled=len({t.conversation_id for t in tickets}),
        first_response=spread(s for s in responses if s is not None),
        handle_time=spread(s for s in handled if s is not None),
        csat_mean=mean(csat),
        closed=closed,
        handed_back=handed_back,
        transferred_away=away,
        resolution=rate(closed, closed + handed_back + away),
        reviews=len(reviews),
        review_mean=mean(r.score for r in reviews),
    )
