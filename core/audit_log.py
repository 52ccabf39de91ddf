"""Reading the staff audit log: filters, newest-first keyset pages, and the CSV export.

Read only: nothing here (or anywhere else a route reaches) edits or deletes an entry.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from .audit import StaffAuditEntry
from .errors import InvalidInputError

__all__ = ["CSV_HEADER", "AuditFilter", "audit_csv_lines", "audit_page"]

CSV_HEADER = [
    "id",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "address",
    "detail",
]
_EXPORT_BATCH = 500
# Spreadsheets run a cell that starts with one of these as a formula; a failed sign-in's
# name is whatever an attacker typed.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    """``action``: a prefix ("login." matches every sign-in action; "kb" every knowledge-base
    one). ``actor``: the name as recorded. ``target_id`` needs ``target_type``."""

    action: str | None = None
    actor: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.target_id is not None and self.target_type is None:
            raise InvalidInputError(
                "'target_id' needs 'target_type'",
                details=[{"field": "target_id", "code": "target_type_required"}],
            )
        if self.since and self.until and self.since > self.until:
            raise InvalidInputError(
                "'since' is after 'until'", details=[{"field": "since", "code": "empty_range"}]
            )

    def as_detail(self) -> dict[str, str]:
        """The filters given, as an audit entry's detail records them."""
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
            if value is not None
        }


def _query(flt: AuditFilter, before_id: int | None) -> SelectOfScalar[StaffAuditEntry]:
    statement = select(StaffAuditEntry)
    if flt.action:
        statement = statement.where(
            col(StaffAuditEntry.action).startswith(flt.action, autoescape=True)
        )
    if flt.actor is not None:
        statement = statement.where(col(StaffAuditEntry.actor_name) == flt.actor)
    if flt.target_type is not None:
        statement = statement.where(col(StaffAuditEntry.target_type) == flt.target_type)
    if flt.target_id is not None:
        statement = statement.where(col(StaffAuditEntry.target_id) == flt.target_id)
    if flt.since is not None:
        statement = statement.where(col(StaffAuditEntry.at) >= flt.since)
    if flt.until is not None:
        statement = statement.where(col(StaffAuditEntry.at) < flt.until)
    if before_id is not None:
        statement = statement.where(col(StaffAuditEntry.id) < before_id)
    # Ids follow insertion; newest first by id keeps pages stable while entries are added.
    return statement.order_by(col(StaffAuditEntry.id).desc())


def audit_page(
    engine: Engine, flt: AuditFilter, *, before_id: int | None, limit: int
) -> tuple[list[StaffAuditEntry], int | None]:
    """Up to ``limit`` entries older than ``before_id``, newest first, and the ``before_id``
    of the next page (None on the last)."""
    with Session(engine) as session:
        rows = list(session.exec(_query(flt, before_id).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([_cell(v) for v in values])
    return out.getvalue()


def audit_csv_lines(engine: Engine, flt: AuditFilter) -> Iterator[str]:
    """Every matching entry as CSV, newest first, read a batch at a time."""
    yield _csv_line(CSV_HEADER)
    before: int | None = None
    while True:
        rows, before = audit_page(engine, flt, before_id=before, limit=_EXPORT_BATCH)
        for row in rows:
            yield _csv_line(
                [
                    row.id,
                    row.at.isoformat(),
                    row.actor_id,
                    row.actor_name,
                    row.action,
                    row.target_type,
                    row.target_id,
                    row.address,
                    json.dumps(row.detail, ensure_ascii=False, sort_keys=True),
                ]
            )
        if before is None:
            return
