"""Progress of long admin work (imports, reindexing, retraining) for the admin UI to poll."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from .auth import AdminActor
from .jobs import JobRegistry

__all__ = ["Jobs", "router"]

router = APIRouter(prefix="/api/admin/jobs", tags=["jobs"])


def _registry(request: Request) -> JobRegistry:
    jobs: JobRegistry = request.app.state.jobs
    return jobs


# The app's one job registry, for any route that starts or reads jobs.
Jobs = Annotated[JobRegistry, Depends(_registry)]


@router.get("/{job_id}")
def job(jobs: Jobs, _actor: AdminActor, job_id: str) -> dict[str, Any]:
    return jobs.get(job_id).public()
