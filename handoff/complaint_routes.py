"""The complaint API under ``/api/agent``: marking a chat a complaint, the register by time
left, changing its level or category, and resolving it with a root cause (docs/handoff.md,
"Complaints")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.api_types import RowId
from core.auth import StaffActor
from core.broker import Broker
from core.conversations import ConversationEvent
from core.realtime import STAFF_CHANNEL, publish_events

from .complaints import (
    LEVELS,
    ComplaintChange,
    ComplaintDesk,
    ComplaintIn,
    ComplaintPublic,
    ComplaintResolveIn,
)
from .desk import HandoffDesk

__all__ = ["router"]

router = APIRouter(prefix="/api/agent", tags=["complaints"])


class ComplaintsOut(BaseModel):
    complaints: list[ComplaintPublic]
    # Open complaints per level, across the desk (the register's header).
    open: dict[str, int]


class ComplaintOptions(BaseModel):
    levels: list[str]
    hours: dict[str, float]
    warn_share: float
    categories: list[str]
    causes: list[str]


def _complaints(request: Request) -> ComplaintDesk:
    desk: HandoffDesk = request.app.state.desk
    return desk.complaints


async def _published(request: Request, events: list[ConversationEvent | None]) -> None:
    broker: Broker = request.app.state.broker
    await publish_events(broker, [e for e in events if e is not None])
    await broker.publish(STAFF_CHANNEL, {"frame": {"type": "complaints.changed"}})


@router.get("/complaints/options", response_model=ComplaintOptions)
def options(request: Request, _actor: StaffActor) -> ComplaintOptions:
    rules = _complaints(request).rules
    return ComplaintOptions(
        levels=list(LEVELS),
        hours=rules.hours,
        warn_share=rules.warn_share,
        categories=list(rules.categories),
        causes=list(rules.causes),
    )


@router.get("/complaints", response_model=ComplaintsOut)
def register(
    request: Request,
    actor: StaffActor,
    status_: Annotated[Literal["open", "resolved", "all"], Query(alias="status")] = "open",
    level: Literal["urgent", "important", "normal"] | None = None,
    conversation_id: Annotated[str | None, Query(max_length=32)] = None,
) -> ComplaintsOut:
    """Complaints, the most pressing first; agents see the ones they own."""
    desk = _complaints(request)
    found = desk.register(actor=actor, status=status_, level=level)
    if conversation_id is not None:
        found = [c for c in found if c.conversation_id == conversation_id]
    return ComplaintsOut(complaints=found, open=desk.counts())


@router.post(
    "/tickets/{ticket_id}/complaint",
    response_model=ComplaintPublic,
    status_code=status.HTTP_201_CREATED,
)
async def mark(
    request: Request, ticket_id: RowId, actor: StaffActor, body: ComplaintIn
) -> ComplaintPublic:
    """Mark the ticket's conversation a complaint; 409 ``already_complaint`` if it is one."""
    complaint, event = await run_in_threadpool(
        lambda: _complaints(request).open_for_ticket(ticket_id=ticket_id, actor=actor, body=body)
    )
    await _published(request, [event])
    return complaint


@router.get("/complaints/{complaint_id}", response_model=ComplaintPublic)
def get(request: Request, complaint_id: RowId, actor: StaffActor) -> ComplaintPublic:
    return _complaints(request).get(complaint_id=complaint_id, actor=actor)


@router.patch("/complaints/{complaint_id}", response_model=ComplaintPublic)
async def change(
    request: Request, complaint_id: RowId, actor: StaffActor, body: ComplaintChange
) -> ComplaintPublic:
    """A new level moves the deadline (from the complaint's opening); category and summary."""
    complaint, event = await run_in_threadpool(
        lambda: _complaints(request).change(complaint_id=complaint_id, actor=actor, body=body)
    )
    await _published(request, [event])
    return complaint


@router.post("/complaints/{complaint_id}/resolve", response_model=ComplaintPublic)
async def resolve(
    request: Request, complaint_id: RowId, actor: StaffActor, body: ComplaintResolveIn
) -> ComplaintPublic:
    """Resolve with a root cause from ``/complaints/options`` and what was done."""
    complaint, event = await run_in_threadpool(
        lambda: _complaints(request).resolve(complaint_id=complaint_id, actor=actor, body=body)
    )
    await _published(request, [event])
    return complaint
