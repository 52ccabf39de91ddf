"""The arithmetic every metric shares: rates with their parts, and spreads of durations.

Nothing here divides by zero: an empty denominator gives ``None``, never 0 or an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Rate", "Spread", "mean", "percentile", "rate", "seconds", "spread"]


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int
    rate: float | None


@dataclass(frozen=True)
class Spread:
    count: int
    mean: float | None
    p50: float | None
    p90: float | None


def rate(numerator: int, denominator: int) -> Rate:
    return Rate(numerator, denominator, numerator / denominator if denominator else None)


def mean(values: Iterable[float]) -> float | None:
    found = list(values)
    return sum(found) / len(found) if found else None


def percentile(ordered: list[float], p: int) -> float | None:
    """Nearest rank: the value at rank ceil(p/100 * n), 1-based, of ascending values."""
    if not ordered:
        return None
    # Integer arithmetic: 0.9 * 30 is 27.000000000000004 in floating point, whose ceiling is 28.
    rank = max(1, -(-p * len(ordered) // 100))
    return ordered[min(rank, len(ordered)) - 1]


def spread(values: Iterable[float]) -> Spread:
    """Count, mean, p50 and p90 of durations; negative ones (clock skew) are dropped."""
    ordered = sorted(v for v in values if v >= 0)
    return Spread(len(ordered), mean(ordered), percentile(ordered, 50), percentile(ordered, 90))


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()
