"""The analytics reports: load the rows in scope, compute docs/metrics.md, shape the output."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy.engine import Engine

from core.errors import InvalidInputError
from core.pii import mask_personal_data
from core.pii_policy import PersonalDataPolicy

from .metrics import Summary, summarise
from .queries import Filters, load

__all__ = ["EXPORTS", "AnalyticsService"]

Table = tuple[list[str], list[list[Any]]]

# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _overview(summary: Summary) -> Table:
    flat = _flatten(asdict(summary))
    return ["metric", "value"], [[key, value] for key, value in flat.items()]


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Scalars under dotted keys; lists are exported as their own tables, so skipped here."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            flat.update(_flatten(item, f"{prefix}{key}."))
        elif not isinstance(item, list | tuple):
            flat[f"{prefix}{key}"] = item
    return flat


def _by_hour(summary: Summary) -> Table:
    return ["hour", "conversations"], [[h, n] for h, n in enumerate(summary.volume.by_hour)]


def _by_day(summary: Summary) -> Table:
    return ["day", "conversations"], [[d.day, d.conversations] for d in summary.volume.by_day]


def _by_reason(summary: Summary) -> Table:
    rows = [[k.key, k.conversations, k.rate] for k in summary.escalation.by_reason]
    return ["reason", "conversations", "rate"], rows


def _by_intent(summary: Summary) -> Table:
    rows = [[k.key, k.conversations, k.rate] for k in summary.escalation.by_intent]
    return ["intent", "conversations", "rate"], rows


def _by_channel(summary: Summary) -> Table:
    header = ["channel", "conversations", "containment", "escalated", "escalation_rate"]
    rows = [
        [c.channel, c.conversations, c.containment.rate, c.escalation.numerator, c.escalation.rate]
        for c in summary.by_channel
    ]
    return header, rows


def _sentiment(summary: Summary) -> Table:
    rows = [[d.day, d.mean, d.exchanges] for d in summary.sentiment_by_day]
    return ["day", "mean_sentiment", "exchanges"], rows


def _agents(summary: Summary) -> Table:
    header = [
        "username",
        "display_name",
        "conversations_handled",
        "first_response_mean",
        "first_response_median",
        "handle_time_mean",
        "csat_mean",
        "closed",
        "handed_back",
        "transferred_away",
        "resolution_rate",
        "reviews",
        "review_mean",
    ]
    rows = [
        [
            a.username,
            a.display_name,
            a.conversations_handled,
            a.first_response.mean,
            a.first_response.p50,
            a.handle_time.mean,
            a.csat_mean,
            a.closed,
            a.handed_back,
            a.transferred_away,
            a.resolution.rate,
            a.reviews,
            a.review_mean,
        ]
        for a in summary.agents
    ]
    return header, rows


EXPORTS: dict[str, Callable[[Summary], Table]] = {
    "overview": _overview,
    "volume_by_hour": _by_hour,
    "volume_by_day": _by_day,
    "escalation_by_reason": _by_reason,
    "escalation_by_intent": _by_intent,
    "by_channel": _by_channel,
    "sentiment_by_day": _sentiment,
    "agents": _agents,
}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _write_csv(header: list[str], rows: Iterable[list[Any]], *, mask: bool = True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    # No table holds a customer's words today; masking every text cell keeps it so if one does.
    writer.writerows(
        [_cell(mask_personal_data(v) if mask and isinstance(v, str) else v) for v in row]
        for row in rows
    )
    return out.getvalue()


class AnalyticsService:
    def __init__(self, engine: Engine, personal_data: PersonalDataPolicy | None = None) -> None:
        self.engine = engine
        self.personal_data = personal_data or PersonalDataPolicy()

    def report(self, filters: Filters) -> Summary:
        summary = summarise(load(self.engine, filters))
        if not filters.agent:
            return summary
        # Whoever passed one of this agent's chats on is in scope, but was not asked about.
        return replace(
            summary, agents=tuple(a for a in summary.agents if a.username == filters.agent)
        )

    def summary(self, filters: Filters) -> dict[str, Any]:
        body = asdict(self.report(filters))
        body["filters"] = {
            "start": filters.start.date().isoformat() if filters.start else None,
            "end": filters.end.date().isoformat() if filters.end else None,
            "language": filters.language,
            "team": filters.team,
            "agent": filters.agent,
            "channel": filters.channel,
        }
        return body

    def csv(self, metric: str, filters: Filters) -> str:
        export = EXPORTS.get(metric)
        if export is None:
            raise InvalidInputError(
                f"'metric' must be one of {', '.join(EXPORTS)}", details=[{"field": "metric"}]
            )
        return _write_csv(*export(self.report(filters)), mask=self.personal_data.masks("analytics"))
