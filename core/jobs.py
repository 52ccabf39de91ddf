"""Long admin work (imports, reindexing, retraining) on a queue that every process sees.

A job is a row of ``admin_job``: its kind, its input (``payload``, JSON), who asked, its state
and its ``(done, total)`` progress, which the worker writes as it goes, so any process's
``/api/admin/jobs/{id}`` shows the same counts as the CLI's progress bar would.

* **Scope.** A *cluster* job (an import) changes the database, and any process may run it. A
  *process* job (a reindex, a model training) works on one process's own index or model files,
  so only that process runs it: its ``target`` is the process's instance id, which is kept in
  its data directory and so survives a restart.
* **One at a time.** A job is refused (409 ``job_running``) while another of its kind and scope
  is queued or running: one import in the whole cluster, one reindex per process.
* **Claims and leases.** The process that accepts a job claims it at once and runs it in a
  thread. Every claim is one conditional UPDATE, so a job runs in one process at a time. The
  runner renews the job's lease every few seconds; when a process dies, its lease runs out and
  any process that may run the job claims it again (at once, for the same instance restarting).
  Each kind of work commits atomically at its end, and imports upsert by entry id, so running a
  cut-off job again is safe. After ``MAX_ATTEMPTS`` claims a job fails as ``interrupted``.
* **Stopping.** A stopping process claims nothing more and waits for the jobs it runs.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, and_, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Field, SQLModel, col

from .clock import utcnow
from .db import UTCDateTime
from .errors import ConflictError, KefuError, NotFoundError

__all__ = ["AdminJob", "Handler", "JobQueue", "JobScope", "Progress", "instance_id"]

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
# The work of one kind: (payload, actor, progress) -> result.
Handler = Callable[[dict[str, Any], str, Progress], dict[str, Any]]

# Claims of one job before it is given up as interrupted (a job that kills its process).
MAX_ATTEMPTS = 3
# Finished jobs kept for the UI to read back, per kind; older ones are deleted.
KEEP_FINISHED = 50
# Progress is written at most this often (seconds); the last count always is.
PROGRESS_EVERY = 0.25
# The PostgreSQL advisory lock that makes "none of its kind is queued, so insert" one step.
_SUBMIT_LOCK = 0x6B656676


class JobScope(StrEnum):
    cluster = "cluster"  # any process runs it
    process = "process"  # the process that accepted it runs it


class AdminJob(SQLModel, table=True):
    __tablename__ = "admin_job"

    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=32, index=True)
    actor: str = Field(max_length=100)
    # None: any process may run it; otherwise the instance id of the one process that may.
    target: str | None = Field(default=None, max_length=32)
    state: str = Field(default="queued", max_length=16, index=True)  # queued|running|done|failed
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    done: int = 0
    total: int = 0
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    attempts: int = 0
    worker: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


_JOB = AdminJob.__table__  # type: ignore[attr-defined]


def instance_id(data_dir: Path) -> str:
    """This installation's process identity, kept in its data directory across restarts."""
    path = data_dir / "instance-id"
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(8)
        path.write_text(value + "\n", "ascii")
        return value


@dataclass(frozen=True)
class _Kind:
    handler: Handler
    scope: JobScope


def public(row: Any) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "kind": row.kind,
        "actor": row.actor,
        "state": row.state,
        "done": row.done,
        "total": row.total,
        "result": row.result or {},
        "error": row.error,
        "attempts": row.attempts,
        "created_at": iso(row.created_at),
        "started_at": iso(row.started_at or row.created_at),
        "finished_at": iso(row.finished_at),
    }


class JobQueue:
    """Submit, run and read admin jobs; ``start()`` begins claiming others' and lost jobs."""

    def __init__(
        self,
        engine: Engine,
        instance: str,
        *,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self._engine = engine
        self.instance = instance
        # This process's life: a restart of the same instance is a new worker.
        self.worker = f"{instance}:{secrets.token_hex(6)}"
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._kinds: dict[str, _Kind] = {}
        self._running: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        # SQLite has one writer, and an import holds it while it embeds: there, the progress of
        # a running job lives in this process's memory and ``get`` shows it from there.
        self._progress_in_db = engine.dialect.name != "sqlite"
        self._progress: dict[str, tuple[int, int]] = {}

    def register(self, kind: str, handler: Handler, scope: JobScope) -> None:
        self._kinds[kind] = _Kind(handler, scope)

    # -- submitting and reading -----------------------------------------------------------

    def submit(
        self, kind: str, actor: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Queue a job and claim it here at once; 409 while one of its kind and scope is
        queued or running anywhere."""
        spec = self._kinds[kind]
        target = self.instance if spec.scope is JobScope.process else None
        job_id = uuid.uuid4().hex[:12]
        now = utcnow()
        values = {
            "id": job_id,
            "kind": kind,
            "actor": actor,
            "target": target,
            "state": "queued",
            "payload": payload or {},
            "done": 0,
            "total": 0,
            "attempts": 0,
            "created_at": now,
        }
        with self._engine.begin() as connection:
            _lock(connection, _SUBMIT_LOCK)
            # The row first, then the check: on SQLite the insert takes the one write lock, so
            # a rival's insert waits and then sees this row; on PostgreSQL the lock above
            # serialises submissions.
            connection.execute(insert(_JOB).values(**values))
            alive = connection.execute(
                select(func.count())
                .select_from(_JOB)
                .where(
                    _JOB.c.kind == kind,
                    _same_target(target),
                    col(_JOB.c.state).in_(("queued", "running")),
                )
            ).scalar_one()
            if alive != 1:  # raising rolls the insert back
                raise ConflictError(
                    f"a {kind} job is already running; wait for it to finish",
                    details=[{"code": "job_running"}],
                )
        self._forget_old(kind)
        if not self._stopping.is_set():
            self._claim(job_id, now)
        return self.get(job_id)

    def get(self, job_id: str) -> dict[str, Any]:
        with self._engine.connect() as connection:
            row = connection.execute(select(_JOB).where(_JOB.c.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"no job {job_id}")
        job = public(row)
        with self._lock:
            counts = self._progress.get(job_id)
        if counts and job["state"] == "running":
            job["done"], job["total"] = counts
        return job

    def latest(self, kind: str) -> dict[str, Any] | None:
        """The newest job of ``kind`` that this process could run."""
        spec = self._kinds[kind]
        target = self.instance if spec.scope is JobScope.process else None
        with self._engine.connect() as connection:
            row = connection.execute(
                select(_JOB)
                .where(_JOB.c.kind == kind, _same_target(target))
                .order_by(_JOB.c.created_at.desc())
                .limit(1)
            ).first()
        return public(row) if row else None

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Claim this instance's jobs that a previous life left running, then poll for jobs
        that any process left queued or lost."""
        with self._engine.begin() as connection:
            connection.execute(
                update(_JOB)
                .where(
                    _JOB.c.state == "running",
                    col(_JOB.c.worker).startswith(f"{self.instance}:"),
                    _JOB.c.worker != self.worker,
                )
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
        self._stopping.clear()
        self._poller = threading.Thread(target=self._poll_loop, name="jobs", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        """Claim nothing more, and wait until every job this process runs has ended."""
        self._stopping.set()
        self._wake.set()
        if self._poller is not None:
            self._poller.join()
            self._poller = None
        self.wait_idle()

    def wait_idle(self) -> None:
        with self._lock:
            running = list(self._running.values())
        if running:
            log.info("waiting for %d running job(s) to finish", len(running))
        for thread in running:
            thread.join()

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._renew()
                self._claim_waiting()
            except Exception:  # the database may be away for a moment; try again next time
                log.exception("the job queue could not be polled")
            self._wake.wait(self._poll)
            self._wake.clear()

    def _renew(self) -> None:
        with self._lock:
            mine = list(self._running)
        if not mine:
            return
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(_JOB)
                    .where(col(_JOB.c.id).in_(mine), _JOB.c.worker == self.worker)
                    .values(lease_until=utcnow() + self._lease)
                )
        except OperationalError:
            # SQLite, while a job holds the one write lock: the next poll renews.
            log.debug("could not renew the leases of %s yet", mine)

    def _claim_waiting(self) -> None:
        now = utcnow()
        may_run = list(self._kinds)
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(_JOB.c.id, _JOB.c.state, _JOB.c.attempts)
                .where(
                    col(_JOB.c.kind).in_(may_run),
                    or_(_JOB.c.target.is_(None), _JOB.c.target == self.instance),
                    _claimable(now),
                )
                .order_by(_JOB.c.created_at)
                .limit(10)
            ).all()
        for job_id, _state, attempts in rows:
            if self._stopping.is_set():
                return
            with self._lock:
                if job_id in self._running:  # its lease lapsed here; it is still ours
                    continue
            if attempts >= MAX_ATTEMPTS:
                self._give_up(job_id, now)
            else:
                self._claim(job_id, now)

    def _claim(self, job_id: str, now: datetime) -> bool:
        with self._engine.begin() as connection:
            claimed = connection.execute(
                update(_JOB)
                .where(_JOB.c.id == job_id, _claimable(now))
                .values(
                    state="running",
                    worker=self.worker,
                    lease_until=now + self._lease,
                    attempts=_JOB.c.attempts + 1,
                    started_at=now,
                )
            ).rowcount
            if claimed != 1:
                return False
            row = connection.execute(select(_JOB).where(_JOB.c.id == job_id)).one()
        if row.attempts > 1:
            log.warning("%s job %s: taken over (claim %d)", row.kind, row.id, row.attempts)
        thread = threading.Thread(
            target=self._run,
            args=(row.id, row.kind, row.actor, row.payload),
            name=f"job-{row.kind}",
            daemon=True,
        )
        with self._lock:
            self._running[row.id] = thread
        thread.start()
        return True

    def _give_up(self, job_id: str, now: datetime) -> None:
        error = {
            "code": "interrupted",
            "message": f"the job was cut off {MAX_ATTEMPTS} times; start it again",
        }
        with self._engine.begin() as connection:
            connection.execute(
                update(_JOB)
                .where(_JOB.c.id == job_id, _claimable(now))
                .values(state="failed", error=error, finished_at=now, lease_until=None)
            )

    def _run(self, job_id: str, kind: str, actor: str, payload: dict[str, Any]) -> None:
        last_write = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last_write
            now = time.monotonic()
            if done < total and now - last_write < PROGRESS_EVERY:
                return
            last_write = now
            with self._lock:
                self._progress[job_id] = (done, total)
            if self._progress_in_db:
                try:
                    self._write(job_id, done=done, total=total)
                except SQLAlchemyError:  # progress is for show: the work goes on
                    log.warning("could not record the progress of job %s", job_id)

        state, result, error = "failed", None, None
        try:
            result = self._kinds[kind].handler(payload, actor, progress)
            state = "done"
        except KefuError as exc:
            error = {"code": exc.code, "message": exc.message, "details": exc.details}
        except Exception as exc:  # a job must always end in a readable state
            log.exception("%s job %s failed", kind, job_id)
            error = {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}
        finally:
            with self._lock:
                counts = self._progress.pop(job_id, None)
            counted = {"done": counts[0], "total": counts[1]} if counts else {}
            try:
                self._write(
                    job_id,
                    state=state,
                    result=result,
                    error=error,
                    finished_at=utcnow(),
                    lease_until=None,
                    **counted,
                )
            finally:
                with self._lock:
                    self._running.pop(job_id, None)

    def _write(self, job_id: str, **values: Any) -> None:
        with self._engine.begin() as connection:
            written = connection.execute(
                update(_JOB)
                .where(_JOB.c.id == job_id, _JOB.c.worker == self.worker)
                .values(**values)
            ).rowcount
        if written != 1:
            log.warning(
                "job %s was taken over by another process; not recording %s", job_id, values
            )

    def _forget_old(self, kind: str) -> None:
        finished = and_(_JOB.c.kind == kind, col(_JOB.c.state).in_(("done", "failed")))
        keep = select(_JOB.c.id).where(finished).order_by(_JOB.c.created_at.desc())
        with self._engine.begin() as connection:
            connection.execute(
                _JOB.delete().where(finished, col(_JOB.c.id).not_in(keep.limit(KEEP_FINISHED)))
            )


def _same_target(target: str | None) -> Any:
    return _JOB.c.target.is_(None) if target is None else _JOB.c.target == target


def _claimable(now: datetime) -> Any:
    return or_(
        _JOB.c.state == "queued",
        and_(_JOB.c.state == "running", _JOB.c.lease_until < now),
    )


def _lock(connection: Connection, key: int) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"), {"key": key}
        )
