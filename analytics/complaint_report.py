"""The complaint register in numbers (issue 17): how many were opened, by category and by root
cause, the share answered on time per level, and a daily trend. Read from the ``complaint``
table (handoff/complaints.py); "answered on time" is resolved by the level's deadline, counted
over complaints whose outcome is known: resolved ones, and open ones already past their
deadline. Open complaints still inside their time are counted apart, as pending."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from handoff.complaints import LEVELS
from handoff.models import Complaint

from .queries import Filters
from .stats import Rate, rate

__all__ = ["ComplaintReport", "complaint_report"]


@dataclass(frozen=True)
class ComplaintReport:
    opened: int
    open: int
    resolved: int
    pending: int  # open and still inside their time
    by_category: dict[str, int]
    by_cause: dict[str, int]
    by_source: dict[str, int]
    on_time: dict[str, Rate]  # per level, and "all"
    trend: list[dict[str, Any]]  # per UTC day: opened, resolved

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def complaint_report(
    engine: Engine, filters: Filters, now: datetime | None = None
) -> ComplaintReport:
    """Complaints opened between the filters' ``start`` and ``end`` (UTC days)."""
    now = now or utcnow()
    with Session(engine) as session:
        query = select(Complaint)
        if filters.start is not None:
            query = query.where(col(Complaint.created_at) >= filters.start)
        if filters.end is not None:
            query = query.where(col(Complaint.created_at) < filters.end)
        rows = session.exec(query.order_by(col(Complaint.created_at))).all()
    decided: dict[str, list[bool]] = {level: [] for level in LEVELS}
    days: dict[str, Counter[str]] = {}
    for c in rows:
        opened_day = c.created_at.date().isoformat()
        days.setdefault(opened_day, Counter())["opened"] += 1
        if c.resolved_at is not None:
            days.setdefault(c.resolved_at.date().isoformat(), Counter())["resolved"] += 1
            decided.setdefault(c.level, []).append(c.resolved_at <= c.deadline_at)
        elif now > c.deadline_at:
            decided.setdefault(c.level, []).append(False)
    on_time = {level: rate(sum(v), len(v)) for level, v in decided.items()}
    every = [x for v in decided.values() for x in v]
    on_time["all"] = rate(sum(every), len(every))
    open_ = [c for c in rows if c.status == "open"]
    return ComplaintReport(
        opened=len(rows),
        open=len(open_),
        resolved=len(rows) - len(open_),
        pending=sum(1 for c in open_ if now <= c.deadline_at),
        by_category=dict(Counter(c.category for c in rows).most_common()),
        by_cause=dict(Counter(c.root_cause for c in rows if c.root_cause).most_common()),
        by_source=dict(Counter(c.source for c in rows)),
        on_time=on_time,
        trend=[
            {"day": day, "opened": n["opened"], "resolved": n["resolved"]}
            for day, n in sorted(days.items())
        ],
    )
