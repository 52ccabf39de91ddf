"""Writes and reads of the knowledge base, keeping the database and the FAQ index in step.

Every write follows one order: validate, compute embeddings (the step that can fail), commit,
then apply the prepared change to the in-memory index and save it. A failed write therefore
leaves no trace in either store. Writes are serialised per process so the index applies them
in commit order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from core.clock import utcnow
from core.db import session_scope
from core.errors import ConflictError, NotFoundError

from .index import FaqIndex, Hit, IndexedEntry, PreparedEntry
from .models import FaqEntry, Intent, KbRevision
from .revisions import faq_revision_marker, next_version, record_revision
from .schemas import (
    EntryStatus,
    FaqEntryCreate,
    FaqEntryPublic,
    FaqEntryUpdate,
    IntentCreate,
    IntentPublic,
    IntentUpdate,
    resolve_entry,
)

__all__ = ["EntryFilter", "ImportReport", "KnowledgeBase"]

Progress = Callable[[int, int], None]

_ENTRY_FIELDS = ("question", "alternatives", "answer", "category", "language", "tags", "status")
_INTENT_FIELDS = ("description", "action", "responses", "examples")


@dataclass(frozen=True)
class EntryFilter:
    query: str | None = None
    category: str | None = None
    language: str | None = None
    status: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    intents_created: list[str] = field(default_factory=list)
    intents_updated: list[str] = field(default_factory=list)
    intents_unchanged: list[str] = field(default_factory=list)


def _entry_snapshot(entry: FaqEntry) -> dict[str, Any]:
    return FaqEntryPublic.model_validate(entry).model_dump(mode="json")


def _intent_snapshot(intent: Intent) -> dict[str, Any]:
    return IntentPublic.model_validate(intent).model_dump(mode="json")


def _indexed(entry: FaqEntry) -> IndexedEntry:
    return IndexedEntry(entry.id, entry.language, tuple(entry.phrasings))


class KnowledgeBase:
    def __init__(self, engine: Engine, index: FaqIndex) -> None:
        self._engine = engine
        self.index = index
        self._write_lock = threading.Lock()
        self._intent_listeners: list[Callable[[], None]] = []

    def on_intents_changed(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every committed change to the intents (the bot retrains)."""
        self._intent_listeners.append(listener)

    def _intents_changed(self) -> None:
        for listener in self._intent_listeners:
            listener()

    # -- index lifecycle -------------------------------------------------------------------

    def index_is_current(self) -> bool:
        with Session(self._engine) as session:
            return self.index.is_current(faq_revision_marker(session))

    def ensure_index(self, *, progress: Progress | None = None, force: bool = False) -> bool:
        """Load the saved index, or rebuild it when missing, stale or built by another model.

        Returns True when it rebuilt.
        """
        with self._write_lock:
            with Session(self._engine) as session:
                marker = faq_revision_marker(session)
                published = session.exec(
                    select(FaqEntry).where(col(FaqEntry.status) == EntryStatus.published)
                ).all()
                entries = [_indexed(e) for e in sorted(published, key=lambda e: e.id)]
            if not force and self.index.load() and self.index.is_current(marker):
                return False
            self.index.rebuild(entries, revision=marker, progress=progress)
            self.index.save()
            return True

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        language: str | None = None,
        query_vector: npt.NDArray[np.float32] | None = None,
        han_vector: npt.NDArray[np.float32] | None = None,
    ) -> list[Hit]:
        """Published entries only: the index never holds anything else."""
        return self.index.search(
            query, k=k, language=language, query_vector=query_vector, han_vector=han_vector
        )

    def encode_query(
        self, query: str
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        """A message's vectors for ``search``; the first is the main model's, for intents too."""
        return self.index.encode_query(query)

    # -- FAQ reads -------------------------------------------------------------------------

    def get_entry(self, entry_id: str) -> FaqEntry:
        with Session(self._engine) as session:
            entry = session.get(FaqEntry, entry_id)
            if entry is None:
                raise NotFoundError(f"FAQ entry {entry_id!r} does not exist")
            return entry

    def get_entries(self, entry_ids: Sequence[str]) -> dict[str, FaqEntry]:
        with Session(self._engine) as session:
            rows = session.exec(select(FaqEntry).where(col(FaqEntry.id).in_(list(entry_ids))))
            return {row.id: row for row in rows}

    def list_entries(self, flt: EntryFilter) -> tuple[list[FaqEntry], int]:
        statement = select(FaqEntry)
        if flt.query:
            pattern = f"%{flt.query.strip()}%"
            statement = statement.where(
                or_(
                    col(FaqEntry.question).ilike(pattern),
                    col(FaqEntry.answer).ilike(pattern),
                    col(FaqEntry.id).ilike(pattern),
                )
            )
        for column, value in (
            (FaqEntry.category, flt.category),
            (FaqEntry.language, flt.language),
            (FaqEntry.status, flt.status),
        ):
            if value:
                statement = statement.where(col(column) == value)
        with Session(self._engine) as session:
            total = session.exec(select(func.count()).select_from(statement.subquery())).one()
            rows = session.exec(
                statement.order_by(col(FaqEntry.id)).offset(flt.offset).limit(flt.limit)
            ).all()
            return list(rows), int(total)

    def all_entries(self) -> list[FaqEntry]:
        with Session(self._engine) as session:
            return list(session.exec(select(FaqEntry).order_by(col(FaqEntry.id))).all())

    def history(self, entity: str, entity_id: str) -> list[KbRevision]:
        with Session(self._engine) as session:
            rows = session.exec(
                select(KbRevision)
                .where(col(KbRevision.entity) == entity, col(KbRevision.entity_id) == entity_id)
                .order_by(col(KbRevision.version))
            ).all()
        if not rows:
            raise NotFoundError(f"{entity} {entity_id!r} has no history")
        return list(rows)

    def audit(
        self,
        *,
        entity: str | None = None,
        author: str | None = None,
        entity_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[KbRevision], int]:
        """Every change to the knowledge base, newest first: the audit trail."""
        conditions = []
        if entity:
            conditions.append(col(KbRevision.entity) == entity)
        if author:
            conditions.append(col(KbRevision.author) == author)
        if entity_id:
            conditions.append(col(KbRevision.entity_id) == entity_id)
        with Session(self._engine) as session:
            total = session.exec(
                select(func.count()).select_from(KbRevision).where(*conditions)
            ).one()
            rows = session.exec(
                select(KbRevision)
                .where(*conditions)
                .order_by(col(KbRevision.id).desc())
                .offset(offset)
                .limit(limit)
            ).all()
        return list(rows), int(total)

    # -- FAQ writes ------------------------------------------------------------------------

    def create_entry(self, *, data: FaqEntryCreate, author: str) -> FaqEntry:
        data = resolve_entry(data)
        entry_id = str(data.id)
        with self._write_lock, session_scope(self._engine) as session:
            if session.get(FaqEntry, entry_id) is not None:
                raise ConflictError(f"FAQ entry {entry_id!r} already exists")
            entry = FaqEntry(
                id=entry_id,
                question=data.question,
                alternatives=data.alternatives,
                answer=data.answer,
                category=data.category,
                language=str(data.language),
                tags=data.tags,
                status=data.status,
                author=author,
                version=next_version(session, "faq", entry_id),
            )
            self._write_entry(session, entry, before=None, action="create", author=author)
        return entry

    def update_entry(self, *, entry_id: str, data: FaqEntryUpdate, author: str) -> FaqEntry:
        changes = data.model_dump(exclude_unset=True, exclude={"expected_version"})
        return self._change_entry(
            entry_id=entry_id,
            changes=changes,
            author=author,
            action="update",
            expected_version=data.expected_version,
        )

    def set_status(self, *, entry_id: str, status: EntryStatus, author: str) -> FaqEntry:
        action = {"published": "publish", "draft": "unpublish", "archived": "archive"}[status]
        return self._change_entry(
            entry_id=entry_id, changes={"status": status}, author=author, action=action
        )

    def rollback_entry(self, *, entry_id: str, version: int, author: str) -> FaqEntry:
        with Session(self._engine) as session:
            revision = session.exec(
                select(KbRevision).where(
                    col(KbRevision.entity) == "faq",
                    col(KbRevision.entity_id) == entry_id,
                    col(KbRevision.version) == version,
                )
            ).first()
        if revision is None or revision.snapshot is None:
            raise NotFoundError(f"FAQ entry {entry_id!r} has no version {version}")
        changes = {name: revision.snapshot[name] for name in _ENTRY_FIELDS}
        return self._change_entry(
            entry_id=entry_id, changes=changes, author=author, action="rollback"
        )

    def delete_entry(self, *, entry_id: str, author: str) -> None:
        with self._write_lock, session_scope(self._engine) as session:
            entry = session.get(FaqEntry, entry_id)
            if entry is None:
                raise NotFoundError(f"FAQ entry {entry_id!r} does not exist")
            before = _entry_snapshot(entry)
            revision = record_revision(
                session,
                entity="faq",
                entity_id=entry_id,
                version=entry.version + 1,
                action="delete",
                author=author,
                before=before,
                after=None,
            )
            session.delete(entry)
            marker = revision.id or 0
        self._apply_index(upserts=[], removals=[entry_id], marker=marker)

    def _change_entry(
        self,
        *,
        entry_id: str,
        changes: dict[str, Any],
        author: str,
        action: str,
        expected_version: int | None = None,
    ) -> FaqEntry:
        with self._write_lock, session_scope(self._engine) as session:
            entry = session.get(FaqEntry, entry_id)
            if entry is None:
                raise NotFoundError(f"FAQ entry {entry_id!r} does not exist")
            if expected_version is not None and expected_version != entry.version:
                raise ConflictError(
                    f"FAQ entry {entry_id!r} is at version {entry.version}, not {expected_version}"
                )
            before = _entry_snapshot(entry)
            for name, value in changes.items():
                setattr(entry, name, value)
            if _entry_snapshot(entry) == before:
                return entry
            entry.version += 1
            entry.updated_at = utcnow()
            entry.author = author
            self._write_entry(session, entry, before=before, action=action, author=author)
        return entry

    def _write_entry(
        self,
        session: Session,
        entry: FaqEntry,
        *,
        before: dict[str, Any] | None,
        action: str,
        author: str,
    ) -> None:
        """Stage one entry's change, embed it, commit, and bring the index up to date."""
        FaqEntryPublic.model_validate(entry)
        session.add(entry)
        revision = record_revision(
            session,
            entity="faq",
            entity_id=entry.id,
            version=entry.version,
            action=action,
            author=author,
            before=before,
            after=_entry_snapshot(entry),
        )
        prepared = self._prepare([entry])
        session.commit()
        removals = [] if entry.status == EntryStatus.published else [entry.id]
        self._apply_index(upserts=prepared, removals=removals, marker=revision.id or 0)

    def _prepare(
        self, entries: Sequence[FaqEntry], progress: Progress | None = None
    ) -> list[PreparedEntry]:
        return self.index.prepare(
            [_indexed(e) for e in entries if e.status == EntryStatus.published], progress
        )

    def _apply_index(
        self, *, upserts: list[PreparedEntry], removals: list[str], marker: int
    ) -> None:
        if not upserts and not removals:
            return
        self.index.apply(upserts=upserts, removals=removals, revision=marker)
        self.index.save()

    # -- intents ---------------------------------------------------------------------------

    def list_intents(self) -> list[Intent]:
        with Session(self._engine) as session:
            return list(session.exec(select(Intent).order_by(col(Intent.name))).all())

    def get_intent(self, name: str) -> Intent:
        with Session(self._engine) as session:
            intent = session.get(Intent, name)
            if intent is None:
                raise NotFoundError(f"intent {name!r} does not exist")
            return intent

    def create_intent(self, *, data: IntentCreate, author: str) -> Intent:
        with self._write_lock, session_scope(self._engine) as session:
            if session.get(Intent, data.name) is not None:
                raise ConflictError(f"intent {data.name!r} already exists")
            intent = self._insert_intent(session, data, author=author, action="create")
        self._intents_changed()
        return intent

    def update_intent(self, *, name: str, data: IntentUpdate, author: str) -> Intent:
        changes = data.model_dump(exclude_unset=True, exclude={"expected_version"})
        with self._write_lock, session_scope(self._engine) as session:
            intent = session.get(Intent, name)
            if intent is None:
                raise NotFoundError(f"intent {name!r} does not exist")
            if data.expected_version is not None and data.expected_version != intent.version:
                raise ConflictError(f"intent {name!r} is at version {intent.version}")
            changed = self._stage_intent_change(
                session, intent, changes, author=author, action="update"
            )
        if changed:
            self._intents_changed()
        return intent

    def delete_intent(self, *, name: str, author: str) -> None:
        with self._write_lock, session_scope(self._engine) as session:
            intent = session.get(Intent, name)
            if intent is None:
                raise NotFoundError(f"intent {name!r} does not exist")
            record_revision(
                session,
                entity="intent",
                entity_id=name,
                version=intent.version + 1,
                action="delete",
                author=author,
                before=_intent_snapshot(intent),
                after=None,
            )
            session.delete(intent)
        self._intents_changed()

    @staticmethod
    def _insert_intent(session: Session, data: IntentCreate, *, author: str, action: str) -> Intent:
        version = next_version(session, "intent", data.name)
        intent = Intent(**data.model_dump(), author=author, version=version)
        session.add(intent)
        record_revision(
            session,
            entity="intent",
            entity_id=intent.name,
            version=version,
            action=action,
            author=author,
            before=None,
            after=_intent_snapshot(intent),
        )
        return intent

    @staticmethod
    def _stage_intent_change(
        session: Session, intent: Intent, changes: dict[str, Any], *, author: str, action: str
    ) -> bool:
        before = _intent_snapshot(intent)
        for name, value in changes.items():
            setattr(intent, name, value)
        after = _intent_snapshot(intent)
        if after == before:
            return False
        intent.version += 1
        intent.updated_at = utcnow()
        intent.author = author
        session.add(intent)
        record_revision(
            session,
            entity="intent",
            entity_id=intent.name,
            version=intent.version,
            action=action,
            author=author,
            before=before,
            after=_intent_snapshot(intent),
        )
        return True

    # -- import ----------------------------------------------------------------------------

    def import_records(
        self,
        *,
        faqs: Sequence[FaqEntryCreate],
        intents: Sequence[IntentCreate] = (),
        author: str,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Apply a whole, already validated file in one transaction: all of it or none of it."""
        report = ImportReport()
        with self._write_lock, session_scope(self._engine) as session:
            changed: list[FaqEntry] = []
            removals: list[str] = []
            marker = 0
            for data in faqs:
                entry, action, before = self._stage_import(session, data, author=author)
                if action == "unchanged":
                    report.unchanged.append(entry.id)
                else:
                    (report.created if action == "create" else report.updated).append(entry.id)
                    revision = record_revision(
                        session,
                        entity="faq",
                        entity_id=entry.id,
                        version=entry.version,
                        action=action,
                        author=author,
                        before=before,
                        after=_entry_snapshot(entry),
                    )
                    marker = revision.id or 0
                    changed.append(entry)
                    if entry.status != EntryStatus.published:
                        removals.append(entry.id)
            for intent_data in intents:
                self._import_intent(session, intent_data, author=author, report=report)
            # Embedding the changed phrasings is the long part, so that is what progress counts.
            prepared = self._prepare(changed, progress)
            session.commit()
        self._apply_index(upserts=prepared, removals=removals, marker=marker)
        if report.intents_created or report.intents_updated:
            self._intents_changed()
        return report

    def _stage_import(
        self, session: Session, data: FaqEntryCreate, *, author: str
    ) -> tuple[FaqEntry, str, dict[str, Any] | None]:
        data = resolve_entry(data)
        entry_id = str(data.id)
        values = data.model_dump(exclude={"id"})
        entry = session.get(FaqEntry, entry_id)
        if entry is None:
            version = next_version(session, "faq", entry_id)
            entry = FaqEntry(id=entry_id, author=author, version=version, **values)
            session.add(entry)
            return entry, "create", None
        before = _entry_snapshot(entry)
        for name in _ENTRY_FIELDS:
            setattr(entry, name, values[name])
        if _entry_snapshot(entry) == before:
            return entry, "unchanged", before
        entry.version += 1
        entry.updated_at = utcnow()
        entry.author = author
        session.add(entry)
        return entry, "import", before

    def _import_intent(
        self, session: Session, data: IntentCreate, *, author: str, report: ImportReport
    ) -> None:
        intent = session.get(Intent, data.name)
        if intent is None:
            intent = self._insert_intent(session, data, author=author, action="import")
            report.intents_created.append(intent.name)
            return
        changes = data.model_dump(include=set(_INTENT_FIELDS))
        if self._stage_intent_change(session, intent, changes, author=author, action="import"):
            report.intents_updated.append(intent.name)
        else:
            report.intents_unchanged.append(intent.name)

    def is_empty(self) -> bool:
        with Session(self._engine) as session:
            return session.exec(select(func.count()).select_from(FaqEntry)).one() == 0
