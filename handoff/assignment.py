"""Who gets a waiting ticket: a pure choice among agents, so every rule is table-tested."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Candidate", "choose_agent", "is_eligible"]


@dataclass(frozen=True)
class Candidate:
    user_id: int
    presence: str
    active_chats: int
    max_chats: int
    teams: tuple[str, ...]
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    last_assigned_at: datetime | None


def is_eligible(agent: Candidate, *, team: str, language: str) -> bool:
    """Could take this chat at all (ignoring capacity): online, in the team, speaks the language."""
    return (
        agent.presence == "online"
        and team in agent.teams
        and (not agent.languages or language in agent.languages)
    )


def choose_agent(
    agents: Sequence[Candidate], *, team: str, language: str, topic: str | None
) -> Candidate | None:
    """The least-loaded eligible agent with room; then one skilled in the topic; then the one
    idle longest (never assigned counts as idle longest)."""
    free = [
        a
        for a in agents
        if is_eligible(a, team=team, language=language) and a.active_chats < a.max_chats
    ]
    if not free:
        return None
    return min(
        free,
        key=lambda a: (
            a.active_chats,
            not (topic and topic in a.topics),
            a.last_assigned_at is not None,
            a.last_assigned_at or datetime.min,
            a.user_id,
        ),
    )
