"""Writes and reads of the knowledge base, keeping the database and the FAQ index in step.

Every write follows one order: validate, compute embeddings (the step that can fail), take the
revision log's lock, record the revisions, commit, then bring the in-memory index up to the
database's newest revision and save it. A failed write leaves no trace in either store.

The index follows the revision log, whoever wrote it: this process, another server process,
or a CLI import. ``catch_up`` applies every FAQ revision past the index's own, in commit order
(creations, edits, status changes and deletions alike); a process's own writes go through the
same path, reusing the embeddings they computed. ``ready_to_answer`` tells the bot whether the
index may be answered from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from core.audit import AuditAction, record_audit
from core.clock import utcnow
from core.db import session_scope
from core.errors import ConflictError, NotFoundError
from core.staff import find_user

from .follower import RevisionFollower
from .index import FaqIndex, Hit, IndexedEntry, PreparedEntry
from .models import FaqEntry, Intent, KbRevision
from .revisions import (
    audit_revision,
    faq_revision_marker,
    faq_revisions_after,
    latest_revision,
    lock_revision_log,
    next_version,
    record_revision,
)
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

log = logging.getLogger(__name__)
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


def _indexed_snapshot(entry_id: str, snapshot: dict[str, Any] | None) -> IndexedEntry | None:
    """What a revision leaves in the index: its entry when published, else nothing."""
    if snapshot is None or snapshot.get("status") != EntryStatus.published:
        return None
    phrasings = (str(snapshot["question"]), *(str(a) for a in snapshot["alternatives"]))
    return IndexedEntry(entry_id, str(snapshot["language"]), phrasings)


class KnowledgeBase:
    def __init__(self, engine: Engine, index: FaqIndex) -> None:
        self._engine = engine
        self.index = index
        # Serialises this process's writes; the revision log's lock orders all processes'.
        self._write_lock = threading.Lock()
        # Serialises changes to the index: catch-ups (own writes, the follower) and rebuilds.
        self._apply_lock = threading.Lock()
        self._applied = threading.Condition()
        self._intent_listeners: list[Callable[[], None]] = []
        # Intent revisions this process wrote: its listeners ran already; the follower skips them.
        self.own_intent_revisions: set[int] = set()
        self._follower: RevisionFollower | None = None
        self._grace = 0.0
        self._behind_since: float | None = None

    @property
    def engine(self) -> Engine:
        return self._engine

    def on_intents_changed(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every committed change to the intents (the bot retrains),
        made here or, once ``follow`` runs, by any other process."""
        self._intent_listeners.append(listener)

    def intents_changed(self) -> None:
        for listener in self._intent_listeners:
            listener()

    # -- index lifecycle -------------------------------------------------------------------

    def follow(self, *, interval: float, grace: float) -> None:
        """Follow the revision log in a background thread, every ``interval`` seconds.

        ``grace`` is how far behind the database the index may fall before it is stale: the
        bot waits at most that long for a catch-up before it declines to answer from it.
        """
        if self._follower is None:
            self._grace = grace
            self._follower = RevisionFollower(self, interval=interval)
            self._follower.start()

    def stop_following(self) -> None:
        if self._follower is not None:
            self._follower.stop()
            self._follower = None

    def index_is_current(self) -> bool:
        with Session(self._engine) as session:
            return self.index.is_current(faq_revision_marker(session))

    def index_is_fresh(self) -> bool:
        """Current, or behind the database for no longer than the grace (a catch-up running)."""
        with Session(self._engine) as session:
            marker = faq_revision_marker(session)
        if self.index.loaded and self.index.revision >= marker:
            self._behind_since = None
            return True
        now = time.monotonic()
        if self._behind_since is None:
            self._behind_since = now
        return self.index.loaded and now - self._behind_since <= self._grace

    def ready_to_answer(self) -> bool:
        """Whether the bot may answer from the index: it holds the database's newest FAQ
        revision, or catches up to it within the grace. A process that cannot (a large import
        being embedded, a failing catch-up) says no rather than serve what was changed."""
        with Session(self._engine) as session:
            marker = faq_revision_marker(session)
        if self.index.loaded and self.index.revision >= marker:
            return True
        follower = self._follower
        if follower is None:
            # A batch job, alone with its index: catching up inline blocks nobody else.
            self.catch_up()
        else:
            follower.wake()
            deadline = time.monotonic() + self._grace
            with self._applied:
                while self.index.revision < marker and time.monotonic() < deadline:
                    self._applied.wait(deadline - time.monotonic())
        return self.index.loaded and self.index.revision >= marker

    def ensure_index(self, *, progress: Progress | None = None, force: bool = False) -> bool:
        """Load the saved index and catch it up with the revision log, or rebuild it when it
        is missing, unreadable, built by another model, or ahead of this database.

        Returns True when it rebuilt.
        """
        with self._write_lock, self._apply_lock:
            with Session(self._engine) as session:
                marker = faq_revision_marker(session)
            if not force and self.index.load() and self.index.revision <= marker:
                self._catch_up_locked(())
                return False
            with Session(self._engine) as session:
                marker = faq_revision_marker(session)
                published = session.exec(
                    select(FaqEntry).where(col(FaqEntry.status) == EntryStatus.published)
                ).all()
                entries = [_indexed(e) for e in sorted(published, key=lambda e: e.id)]
            self.index.rebuild(entries, revision=marker, progress=progress)
            self._save_index()
            self._notify_applied()
            return True

    def catch_up(self, prepared: Sequence[PreparedEntry] = ()) -> int:
        """Apply every FAQ revision past the index's, in commit order; returns how many.

        ``prepared`` holds embeddings a writer computed already, reused when they fit.
        """
        with self._apply_lock:
            return self._catch_up_locked(prepared)

    def _catch_up_locked(self, prepared: Sequence[PreparedEntry]) -> int:
        if not self.index.loaded:
            return 0  # nothing to catch up from: ``ensure_index`` loads or builds it
        with Session(self._engine) as session:
            revisions = faq_revisions_after(session, self.index.revision)
        if not revisions:
            self._behind_since = None
            return 0
        if self._behind_since is None:
            # Behind from now on, however long the embedding below takes.
            self._behind_since = time.monotonic()
        # The newest state of each entry touched: applying it is applying its revisions in order.
        newest = {r.entity_id: _indexed_snapshot(r.entity_id, r.snapshot) for r in revisions}
        started = time.monotonic()
        wanted = [entry for entry in newest.values() if entry is not None]
        ready = {p.entry: p for p in prepared}
        missing = [entry for entry in wanted if entry not in ready]
        ready.update({p.entry: p for p in self.index.prepare(missing)})
        self.index.apply(
            upserts=[ready[entry] for entry in wanted],
            removals=[entry_id for entry_id, entry in newest.items() if entry is None],
            revision=revisions[-1].id or 0,
        )
        self._behind_since = None
        self._save_index()
        self._notify_applied()
        log.info(
            "FAQ index at revision %s: %s revisions applied in %.2f s",
            self.index.revision,
            len(revisions),
            time.monotonic() - started,
        )
        return len(revisions)

    def _notify_applied(self) -> None:
        with self._applied:
            self._applied.notify_all()

    def _save_index(self) -> None:
        """Save a generation for the next start; the index in memory serves either way, and
        the next start catches up from whatever generation is on disk."""
        try:
            self.index.save()
        except OSError:
            log.exception("could not save the FAQ index; it serves from memory")

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

    def phrasings(self) -> tuple[list[str], list[str], npt.NDArray[np.float32]]:
        """The published phrasings as the index holds them: texts, entry ids and vectors."""
        return self.index.phrasings()

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

    # ``address``: where the author's request came from, for the staff audit log.

    def create_entry(
        self, *, data: FaqEntryCreate, author: str, address: str | None = None
    ) -> FaqEntry:
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
            self._write_entry(
                session, entry, before=None, action="create", author=author, address=address
            )
        return entry

    def update_entry(
        self, *, entry_id: str, data: FaqEntryUpdate, author: str, address: str | None = None
    ) -> FaqEntry:
        changes = data.model_dump(exclude_unset=True, exclude={"expected_version"})
        return self._change_entry(
            entry_id=entry_id,
            changes=changes,
            author=author,
            action="update",
            expected_version=data.expected_version,
            address=address,
        )

    def set_status(
        self, *, entry_id: str, status: EntryStatus, author: str, address: str | None = None
    ) -> FaqEntry:
        action = {"published": "publish", "draft": "unpublish", "archived": "archive"}[status]
        return self._change_entry(
            entry_id=entry_id,
            changes={"status": status},
            author=author,
            action=action,
            address=address,
        )

    def rollback_entry(
        self, *, entry_id: str, version: int, author: str, address: str | None = None
    ) -> FaqEntry:
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
            entry_id=entry_id, changes=changes, author=author, action="rollback", address=address
        )

    def delete_entry(self, *, entry_id: str, author: str, address: str | None = None) -> None:
        with self._write_lock, session_scope(self._engine) as session:
            entry = session.get(FaqEntry, entry_id)
            if entry is None:
                raise NotFoundError(f"FAQ entry {entry_id!r} does not exist")
            before = _entry_snapshot(entry)
            lock_revision_log(session)
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
            audit_revision(session, revision, address=address)
            session.delete(entry)
            session.commit()
            self.catch_up()

    def _change_entry(
        self,
        *,
        entry_id: str,
        changes: dict[str, Any],
        author: str,
        action: str,
        expected_version: int | None = None,
        address: str | None = None,
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
            self._write_entry(
                session, entry, before=before, action=action, author=author, address=address
            )
        return entry

    def _write_entry(
        self,
        session: Session,
        entry: FaqEntry,
        *,
        before: dict[str, Any] | None,
        action: str,
        author: str,
        address: str | None,
    ) -> None:
        """Stage one entry's change, embed it, commit, and bring the index up to date."""
        FaqEntryPublic.model_validate(entry)
        prepared = self._prepare([entry])
        session.add(entry)
        lock_revision_log(session)
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
        audit_revision(session, revision, address=address)
        session.commit()
        self.catch_up(prepared)

    def _prepare(
        self, entries: Sequence[FaqEntry], progress: Progress | None = None
    ) -> list[PreparedEntry]:
        return self.index.prepare(
            [_indexed(e) for e in entries if e.status == EntryStatus.published], progress
        )

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

    def create_intent(
        self, *, data: IntentCreate, author: str, address: str | None = None
    ) -> Intent:
        with self._write_lock, session_scope(self._engine) as session:
            if session.get(Intent, data.name) is not None:
                raise ConflictError(f"intent {data.name!r} already exists")
            intent = self._insert_intent(session, data, author=author, action="create")
            audit_revision(session, latest_revision(session, "intent", data.name), address=address)
        self.intents_changed()
        return intent

    def update_intent(
        self, *, name: str, data: IntentUpdate, author: str, address: str | None = None
    ) -> Intent:
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
                audit_revision(session, latest_revision(session, "intent", name), address=address)
        if changed:
            self.intents_changed()
        return intent

    def delete_intent(self, *, name: str, author: str, address: str | None = None) -> None:
        with self._write_lock, session_scope(self._engine) as session:
            intent = session.get(Intent, name)
            if intent is None:
                raise NotFoundError(f"intent {name!r} does not exist")
            self._record_intent_revision(
                session,
                entity_id=name,
                version=intent.version + 1,
                action="delete",
                author=author,
                before=_intent_snapshot(intent),
                after=None,
            )
            audit_revision(session, latest_revision(session, "intent", name), address=address)
            session.delete(intent)
        self.intents_changed()

    def _record_intent_revision(
        self,
        session: Session,
        *,
        entity_id: str,
        version: int,
        action: str,
        author: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        lock_revision_log(session)
        revision = record_revision(
            session,
            entity="intent",
            entity_id=entity_id,
            version=version,
            action=action,
            author=author,
            before=before,
            after=after,
        )
        # Noted before the commit; an id rolled back is never seen, so noting it is harmless.
        self.own_intent_revisions.add(revision.id or 0)

    def _insert_intent(
        self, session: Session, data: IntentCreate, *, author: str, action: str
    ) -> Intent:
        version = next_version(session, "intent", data.name)
        intent = Intent(**data.model_dump(), author=author, version=version)
        session.add(intent)
        self._record_intent_revision(
            session,
            entity_id=intent.name,
            version=version,
            action=action,
            author=author,
            before=None,
            after=_intent_snapshot(intent),
        )
        return intent

    def _stage_intent_change(
        self,
        session: Session,
        intent: Intent,
        changes: dict[str, Any],
        *,
        author: str,
        action: str,
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
        self._record_intent_revision(
            session,
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
        address: str | None = None,
    ) -> ImportReport:
        """Apply a whole, already validated file in one transaction: all of it or none of it.

        The staff audit log gets one entry for the whole import (its counts and the span of
        revisions it made), not one per entry: the revision log has those."""
        report = ImportReport()
        with self._write_lock, session_scope(self._engine) as session:
            staged: list[tuple[FaqEntry, str, dict[str, Any] | None]] = []
            for data in faqs:
                entry, action, before = self._stage_import(session, data, author=author)
                if action == "unchanged":
                    report.unchanged.append(entry.id)
                else:
                    (report.created if action == "create" else report.updated).append(entry.id)
                    staged.append((entry, action, before))
            # Embedding the changed phrasings is the long part, so that is what progress counts;
            # it comes before the revision log's lock, which other processes' writes wait for.
            prepared = self._prepare([entry for entry, _action, _before in staged], progress)
            lock_revision_log(session)
            first = self._newest_revision(session) + 1
            for entry, action, before in staged:
                record_revision(
                    session,
                    entity="faq",
                    entity_id=entry.id,
                    version=entry.version,
                    action=action,
                    author=author,
                    before=before,
                    after=_entry_snapshot(entry),
                )
            for intent_data in intents:
                self._import_intent(session, intent_data, author=author, report=report)
            self._audit_import(session, report, author, address, first)
            session.commit()
            self.catch_up(prepared)
        if report.intents_created or report.intents_updated:
            self.intents_changed()
        return report

    @staticmethod
    def _newest_revision(session: Session) -> int:
        return int(session.exec(select(func.max(KbRevision.id))).one() or 0)

    def _audit_import(
        self, session: Session, report: ImportReport, author: str, address: str | None, first: int
    ) -> None:
        last = self._newest_revision(session)
        staff = find_user(session, author)
        record_audit(
            session,
            action=AuditAction.kb_imported,
            actor_id=staff.id if staff else None,
            actor_name=author,
            target_type="kb",
            address=address,
            detail={
                **{name: len(ids) for name, ids in vars(report).items()},
                "revisions": [first, last] if last >= first else None,
            },
        )

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
