"""The staff audit log for admins: ``/api/admin/audit-log`` and its CSV export.

Only GET routes: no route edits or deletes an entry (PUT, PATCH and DELETE get 405). Any
action shows, including those other packages add to ``AuditAction`` later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict

from .addresses import client_address
from .api_types import RowId
from .audit import AuditAction, record_audit
from .audit_log import AuditFilter, audit_csv_lines, audit_page
from .auth import AdminActor
from .db import session_scope

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/audit-log", tags=["audit log"])


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    target_type: str | None
    target_id: str | None
    address: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_before_id: int | None = None


def _filter(
    action: Annotated[
        str | None,
        Query(
            max_length=48,
            pattern=r"^[a-z][a-z0-9_.]*$",
            description='A prefix: "login." is every sign-in action, "kb" all the KB ones.',
        ),
    ] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    target_type: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    target_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Needs target_type.")
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="From this time on.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Before this time.")] = None,
) -> AuditFilter:
    return AuditFilter(
        action=action,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
    )


Filter = Annotated[AuditFilter, Depends(_filter)]


@router.get("", response_model=AuditPage)
def audit_log(
    request: Request,
    _actor: AdminActor,
    flt: Filter,
    before_id: Annotated[RowId | None, Query(description="next_before_id of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """Staff actions, newest first, a page at a time."""
    rows, next_before = audit_page(request.app.state.engine, flt, before_id=before_id, limit=limit)
    return AuditPage(
        items=[AuditEntryPublic.model_validate(row) for row in rows], next_before_id=next_before
    )


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every matching entry as CSV, newest first.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def export_csv(request: Request, actor: AdminActor, flt: Filter) -> StreamingResponse:
    """The filtered log as CSV; the export is itself an entry (``data.exported``)."""
    engine = request.app.state.engine
    with session_scope(engine) as session:
        record_audit(
            session,
            action=AuditAction.data_exported,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type="audit_log",
            address=client_address(request),
            detail={"what": "audit_log", "filters": flt.as_detail()},
        )
    return StreamingResponse(
        audit_csv_lines(engine, flt),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kefu-audit-log.csv"'},
    )
