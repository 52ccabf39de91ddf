"""The revision log: every change to an FAQ entry or intent, with a field-level diff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from .models import KbRevision

__all__ = ["diff_snapshots", "faq_revision_marker", "next_version", "record_revision"]

_IGNORED = frozenset({"version", "updated_at", "created_at", "author"})


def diff_snapshots(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> dict[str, list[Any]]:
    before = before or {}
    after = after or {}
    changes: dict[str, list[Any]] = {}
    for key in sorted(before.keys() | after.keys()):
        if key in _IGNORED:
            continue
        if before.get(key) != after.get(key):
            changes[key] = [before.get(key), after.get(key)]
    return changes


def record_revision(
    session: Session,
    *,
    entity: str,
    entity_id: str,
    version: int,
    action: str,
    author: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> KbRevision:
    revision = KbRevision(
        entity=entity,
        entity_id=entity_id,
        version=version,
        action=action,
        author=author,
        snapshot=after,
        changes=diff_snapshots(before, after),
    )
    session.add(revision)
    session.flush()
    return revision


def next_version(session: Session, entity: str, entity_id: str) -> int:
    """Version for a new entity: 1, or one past a deleted predecessor's history under that id."""
    latest = session.exec(
        select(func.max(KbRevision.version)).where(
            col(KbRevision.entity) == entity, col(KbRevision.entity_id) == entity_id
        )
    ).one()
    return int(latest or 0) + 1


def faq_revision_marker(session: Session) -> int:
    """The newest FAQ revision id: the index is current when it was built at this marker."""
    marker = session.exec(
        select(func.max(KbRevision.id)).where(col(KbRevision.entity) == "faq")
    ).one()
    return int(marker or 0)
