"""The revision log: every change to an FAQ entry or intent, with a field-level diff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from core.audit import AuditAction, record_audit
from core.staff import find_user

from .models import KbRevision

__all__ = [
    "audit_revision",
    "diff_snapshots",
    "faq_revision_marker",
    "faq_revisions_after",
    "intent_revision_ids_after",
    "intent_revision_marker",
    "latest_revision",
    "lock_revision_log",
    "next_version",
    "record_revision",
]

# The PostgreSQL advisory lock that serialises writers of the revision log ("kefuKB").
_LOG_LOCK = 0x6B6566754B42

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


def latest_revision(session: Session, entity: str, entity_id: str) -> KbRevision:
    """The newest revision of one entity (staged in ``session`` or committed)."""
    revision = session.exec(
        select(KbRevision)
        .where(col(KbRevision.entity) == entity, col(KbRevision.entity_id) == entity_id)
        .order_by(col(KbRevision.id).desc())
    ).first()
    if revision is None:
        raise LookupError(f"{entity} {entity_id!r} has no revision")
    return revision


def audit_revision(session: Session, revision: KbRevision, *, address: str | None) -> None:
    """The staff audit log's entry for one edit: who, from where, and the revision that holds
    the edit's diff (the revision log keeps the content; the audit log, the act)."""
    staff = find_user(session, revision.author)
    record_audit(
        session,
        action=AuditAction.kb_changed,
        actor_id=staff.id if staff else None,
        actor_name=revision.author,
        target_type=revision.entity,
        target_id=revision.entity_id,
        address=address,
        detail={
            "change": revision.action,
            "revision": revision.id,
            "version": revision.version,
            "fields": sorted(revision.changes),
        },
    )


def next_version(session: Session, entity: str, entity_id: str) -> int:
    """Version for a new entity: 1, or one past a deleted predecessor's history under that id."""
    latest = session.exec(
        select(func.max(KbRevision.version)).where(
            col(KbRevision.entity) == entity, col(KbRevision.entity_id) == entity_id
        )
    ).one()
    return int(latest or 0) + 1


def lock_revision_log(session: Session) -> None:
    """Make revision ids follow commit order, across processes; call before the first record.

    Every process follows the log by reading past the newest id it has applied. If one
    transaction could commit id 10 after another had committed id 11, a process that had read
    up to 11 would never see 10. Holding this lock from the first id a writer takes until its
    commit hands ids out one writer at a time, in commit order. SQLite admits one writer at a
    time already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOG_LOCK})


def faq_revision_marker(session: Session) -> int:
    """The newest FAQ revision id: the index is current when it was built at this marker."""
    marker = session.exec(
        select(func.max(KbRevision.id)).where(col(KbRevision.entity) == "faq")
    ).one()
    return int(marker or 0)


def faq_revisions_after(session: Session, revision: int) -> list[KbRevision]:
    """The FAQ revisions past ``revision``, in the order they were committed."""
    return list(
        session.exec(
            select(KbRevision)
            .where(col(KbRevision.entity) == "faq", col(KbRevision.id) > revision)
            .order_by(col(KbRevision.id))
        ).all()
    )


def intent_revision_marker(session: Session) -> int:
    marker = session.exec(
        select(func.max(KbRevision.id)).where(col(KbRevision.entity) == "intent")
    ).one()
    return int(marker or 0)


def intent_revision_ids_after(session: Session, revision: int) -> list[int]:
    return [
        int(i)
        for i in session.exec(
            select(KbRevision.id)
            .where(col(KbRevision.entity) == "intent", col(KbRevision.id) > revision)
            .order_by(col(KbRevision.id))
        ).all()
        if i is not None
    ]
