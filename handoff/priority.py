"""Ticket priority: a pure function of why the customer escalated, how they feel, who they are,
and how long they have waited."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Priority", "bump", "initial_priority", "trusted_tier"]


class Priority(IntEnum):
    normal = 0
    high = 1
    urgent = 2


# Why the bot handed over -> where the ticket starts.
_BY_REASON = {
    "asked_for_person": Priority.normal,
    "repeated_misses": Priority.normal,
    "intent_rule": Priority.high,
    "negative_sentiment": Priority.high,
    "worsening_sentiment": Priority.high,
    "reopened": Priority.high,
}
# A customer this upset is urgent whatever else is true.
URGENT_SENTIMENT = -0.8
ANGRY_SENTIMENT = -0.5


def initial_priority(*, reason: str, sentiment: float | None, tier: str) -> Priority:
    level = _BY_REASON.get(reason, Priority.normal)
    if sentiment is not None and sentiment <= URGENT_SENTIMENT:
        level = Priority.urgent
    elif sentiment is not None and sentiment <= ANGRY_SENTIMENT:
        level = max(level, Priority.high)
    if tier == "vip":
        level = bump(level)
    return level


def trusted_tier(tier: str, *, verified: bool) -> str:
    """The tier a ticket goes by: the one the embedding site declared only when it signed it
    (docs/security.md "Signed identity"); anyone can type ``data-customer-tier="vip"``."""
    return tier if verified else "standard"


def bump(level: Priority | int) -> Priority:
    """One level up, for waiting past the first-response target (or a VIP)."""
    return Priority(min(int(level) + 1, Priority.urgent))
