"""Progress of long admin work (imports, reindexing, retraining) for the admin UI to poll."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .auth import AdminActor
from .jobs import JobRegistry

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/jobs", tags=["jobs"])


@router.get("/{job_id}")
def job(request: Request, _actor: AdminActor, job_id: str) -> dict[str, Any]:
    jobs: JobRegistry = request.app.state.jobs
    return jobs.get(job_id).public()
