"""Progress of long admin work (imports, reindexing, retraining) for the admin UI to poll."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from .auth import AdminActor
from .jobs import JobQueue

__all__ = ["Jobs", "router"]

router = APIRouter(prefix="/api/admin/jobs", tags=["jobs"])


def _queue(request: Request) -> JobQueue:
    jobs: JobQueue = request.app.state.jobs
    return jobs


# The app's job queue, for any route that submits or reads jobs.
Jobs = Annotated[JobQueue, Depends(_queue)]


@router.get("/{job_id}")
def job(jobs: Jobs, _actor: AdminActor, job_id: str) -> dict[str, Any]:
    """Any process's job: state (queued, running, done, failed), done/total, result, error."""
    return jobs.get(job_id)
