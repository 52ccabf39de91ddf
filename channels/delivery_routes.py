"""The webhook delivery log of an API channel, for admins:
``/api/admin/channels/{channel_id}/deliveries`` (docs/channels.md, "Outbound events")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from core.addresses import client_address
from core.api_types import RowId
from core.auth import AdminActor

from .delivery_log import (
    DeliveryDetail,
    DeliveryPage,
    delivery_detail,
    delivery_page,
    replay_delivery,
    replay_failed,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/channels/{channel_id}/deliveries", tags=["channels"])

State = Literal["pending", "delivered", "failed"]


class ReplayedPublic(BaseModel):
    replayed: int


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


@router.get("", response_model=DeliveryPage)
async def deliveries(
    request: Request,
    _actor: AdminActor,
    channel_id: RowId,
    state: Annotated[State | None, Query()] = None,
    conversation_id: Annotated[
        str | None, Query(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")
    ] = None,
    before_id: Annotated[RowId | None, Query(description="next_before_id of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """The channel's deliveries, newest first, a page at a time."""
    return await run_in_threadpool(
        lambda: delivery_page(
            _engine(request),
            channel_id,
            state=state,
            conversation_id=conversation_id,
            before_id=before_id,
            limit=limit,
        )
    )


@router.post("/replay-failed", response_model=ReplayedPublic)
async def replay_all_failed(
    request: Request, actor: AdminActor, channel_id: RowId
) -> ReplayedPublic:
    """Every failed delivery of the channel queued again (as replays)."""
    count = await run_in_threadpool(
        lambda: replay_failed(
            _engine(request), channel_id, actor=actor, address=client_address(request)
        )
    )
    _wake(request)
    return ReplayedPublic(replayed=count)


@router.get("/{delivery_id}", response_model=DeliveryDetail)
async def delivery(
    request: Request, _actor: AdminActor, channel_id: RowId, delivery_id: RowId
) -> DeliveryDetail:
    """One delivery with its attempts: time, HTTP status, error, duration."""
    return await run_in_threadpool(
        lambda: delivery_detail(_engine(request), channel_id, delivery_id)
    )


@router.post("/{delivery_id}/replay", response_model=DeliveryDetail)
async def replay(
    request: Request, actor: AdminActor, channel_id: RowId, delivery_id: RowId
) -> DeliveryDetail:
    """A delivered or failed delivery sent again: the same id, with ``X-Kefu-Replay: 1``."""
    detail = await run_in_threadpool(
        lambda: replay_delivery(
            _engine(request),
            channel_id,
            delivery_id,
            actor=actor,
            address=client_address(request),
        )
    )
    _wake(request)
    return detail


def _wake(request: Request) -> None:
    worker = getattr(request.app.state, "webhooks", None)
    if worker is not None:
        worker.wake()
