"""Admin API for analytics: the summary report and CSV exports (definitions: docs/metrics.md).

Supervisors and admins only. The handlers are sync: FastAPI runs them in its thread pool, so
the database work never blocks the event loop.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.addresses import client_address
from core.audit import AuditAction, record_audit
from core.auth import SupervisorActor
from core.db import session_scope
from core.pii_policy import PersonalDataPolicy

from .complaint_report import complaint_report
from .queries import Filters, parse_filters
from .service import AnalyticsService

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/analytics", tags=["analytics"])


def _service(request: Request) -> AnalyticsService:
    policy = PersonalDataPolicy.of(request.app.state.settings)
    return AnalyticsService(request.app.state.engine, personal_data=policy)


_FILTERS = ("start", "end", "language", "team", "agent", "channel")


def _filters(request: Request) -> Filters:
    params = request.query_params
    return parse_filters(
        start=params.get("start"),
        end=params.get("end"),
        language=params.get("language"),
        team=params.get("team"),
        agent=params.get("agent"),
        channel=params.get("channel"),
    )


@router.get("/summary")
def summary(request: Request, _actor: SupervisorActor) -> dict[str, Any]:
    """Every metric for the conversations the filters choose."""
    return _service(request).summary(_filters(request))


@router.get("/complaints")
def complaints(request: Request, _actor: SupervisorActor) -> dict[str, Any]:
    """The complaint register in numbers for complaints opened in the date range: by category,
    root cause and source, the share answered on time per level, and a daily trend."""
    return complaint_report(request.app.state.engine, _filters(request)).as_json()


@router.get(
    "/export.csv",
    response_class=Response,
    responses={
        200: {
            "description": "One metric as CSV.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def export_csv(request: Request, actor: SupervisorActor, metric: str = "overview") -> Response:
    """One metric as CSV with a header row; ``metric`` names the table. Audited (data.exported)."""
    filters = _filters(request)
    body = _service(request).csv(metric, filters)
    with session_scope(request.app.state.engine) as session:
        record_audit(
            session,
            action=AuditAction.data_exported,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type="analytics",
            target_id=metric,
            address=client_address(request),
            detail={
                "what": "analytics",
                "metric": metric,
                "filters": {
                    k: request.query_params[k] for k in _FILTERS if k in request.query_params
                },
            },
        )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kefu-{metric}.csv"'},
    )
