"""One leader among several processes, for work exactly one of them must do (the handoff
dispatcher), with takeover when the leader dies.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own. The
lock lives as long as that connection: a leader that crashes, or loses its database, drops it,
and the next process to ask takes it over. On SQLite there is one box, and every process on it
may act: the work it guards is idempotent there, as it always was.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

__all__ = ["DISPATCHER_LOCK", "Leadership"]

log = logging.getLogger("kefu.leadership")

#: The advisory lock's first key ("kefu" in ASCII). The second is the schema's hash: two kefu
#: installations in one database (or two test schemas) each have their own leader.
DISPATCHER_LOCK = 0x6B656675


class Leadership:
    """``lead()`` says whether this process leads now, taking the lead if it is free."""

    def __init__(self, engine: Engine, key: int) -> None:
        self._engine = engine
        self._key = key
        self._connection: Connection | None = None
        self._lock = threading.Lock()
        self.leading = engine.dialect.name != "postgresql"

    def lead(self) -> bool:
        if self._engine.dialect.name != "postgresql":
            return True
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    )
                statement = (
                    "SELECT 1"
                    if self.leading
                    else "SELECT pg_try_advisory_lock(:key, hashtext(current_schema()))"
                )
                held = self._connection.execute(text(statement), {"key": self._key}).scalar()
                if not self.leading and held:
                    log.info("this process now leads (advisory lock %#x)", self._key)
                self.leading = bool(held)
            except DBAPIError:
                # The connection, and with it the lock, is gone: ask again next time.
                log.warning("lost the connection that held leadership %#x", self._key)
                self._drop()
            return self.leading

    def release(self) -> None:
        """Step down (a stopping process), so another takes over at once."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        self.leading = self._engine.dialect.name != "postgresql"
        if connection is not None:
            try:
                # Really closed, not returned to the pool: the session, and its lock, end.
                connection.invalidate()
                connection.close()
            except DBAPIError:
                pass
