"""Long admin work (imports, reindexing, retraining) run in a thread the admin UI can watch.

A job reports ``(done, total)`` through the same progress callback the CLI's progress bar uses,
so the web page and the terminal show the same counts. Jobs live in this process's memory: a
restart forgets finished jobs, and a job cut off by a restart is simply gone, since each kind
of work commits atomically at its end.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clock import utcnow
from .errors import ConflictError, KefuError, NotFoundError

__all__ = ["Job", "JobRegistry", "Progress"]

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
Work = Callable[[Progress], dict[str, Any]]

# Finished jobs kept for the UI to read back; older ones are dropped first.
KEEP_FINISHED = 50


@dataclass
class Job:
    id: str
    kind: str
    actor: str
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "actor": self.actor,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "result": self.result,
            "error": self.error,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, kind: str, actor: str, work: Work, *, exclusive: bool = True) -> Job:
        """Run ``work`` in a thread; with ``exclusive``, refuse while one of its kind runs."""
        with self._lock:
            if exclusive and any(
                j.kind == kind and j.state == "running" for j in self._jobs.values()
            ):
                raise ConflictError(
                    f"a {kind} job is already running; wait for it to finish",
                    details=[{"code": "job_running"}],
                )
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, actor=actor)
            self._jobs[job.id] = job
            self._forget_old()
        thread = threading.Thread(
            target=self._run, args=(job, work), name=f"job-{kind}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def wait_idle(self) -> None:
        """Until every running job has ended: the server stops only after the work it accepted
        (an import's one transaction would otherwise die with the process)."""
        with self._lock:
            running = [t for t in self._threads if t.is_alive()]
        if running:
            log.info("waiting for %d running job(s) to finish", len(running))
        for thread in running:
            thread.join()

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id}")
        return job

    def latest(self, kind: str) -> Job | None:
        with self._lock:
            found = [j for j in self._jobs.values() if j.kind == kind]
        return max(found, key=lambda j: j.started_at) if found else None

    def _run(self, job: Job, work: Work) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        state = "failed"
        try:
            job.result = work(progress)
            state = "done"
        except KefuError as exc:
            job.error = {"code": exc.code, "message": exc.message, "details": exc.details}
        except Exception as exc:  # a job must always end in a readable state
            log.exception("%s job %s failed", job.kind, job.id)
            job.error = {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}
        finally:
            # The finish time first: a reader who sees the final state sees when it ended.
            job.finished_at = utcnow()
            job.state = state

    def _forget_old(self) -> None:
        finished = sorted(
            (j for j in self._jobs.values() if j.state != "running"), key=lambda j: j.started_at
        )
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]
