"""Following the revision log: every server process applies what any process changed.

The database is the truth. A background thread asks it, every ``interval`` seconds (sooner
when woken), for revisions past what this process has seen: FAQ revisions are applied to the
index in commit order (``KnowledgeBase.catch_up``); intent revisions that another process
wrote make this one retrain its intent model. Both queries read the primary key's range past
a known id, so an idle poll costs two index probes.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sqlmodel import Session

from .revisions import intent_revision_ids_after, intent_revision_marker

if TYPE_CHECKING:
    from .service import KnowledgeBase

__all__ = ["RevisionFollower"]

log = logging.getLogger(__name__)


class RevisionFollower:
    def __init__(self, kb: KnowledgeBase, *, interval: float) -> None:
        self._kb = kb
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._intents_seen: int | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kb-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self) -> None:
        """Look at the log now rather than at the next tick (the bot is waiting)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:
                # Whatever failed (the database, an embedding), this thread must outlive it:
                # the index stays where it was, ages into "stale", and the next poll retries.
                log.exception("could not follow the knowledge base's revision log")
            self._wake.wait(self._interval)
            self._wake.clear()

    def poll(self) -> None:
        self._kb.catch_up()
        self._follow_intents()

    def _follow_intents(self) -> None:
        with Session(self._kb.engine) as session:
            if self._intents_seen is None:
                # Whatever came before the server started is what its start-up trained on.
                self._intents_seen = intent_revision_marker(session)
                return
            ids = intent_revision_ids_after(session, self._intents_seen)
        if not ids:
            return
        self._intents_seen = ids[-1]
        own = self._kb.own_intent_revisions
        foreign = [i for i in ids if i not in own]
        own.difference_update(ids)
        if foreign:
            log.info("intents changed in another process (revision %s): retraining", ids[-1])
            self._kb.intents_changed()
