"""Admin API for retention and one customer's data (docs/security.md, "Retention and erasure").

Admins only: a legal hold, an export and an erasure each reach every conversation of the
installation, across teams, which no supervisor's work needs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from core.addresses import client_address
from core.auth import Actor, AdminActor
from core.settings import Settings

from .customer_data import (
    AuditedActor,
    CustomerSelector,
    LegalHoldChange,
    erase_customer,
    export_customer,
    legal_hold_status,
    set_legal_hold,
)
from .retention import RetentionPolicy, purge

__all__ = ["router"]

router = APIRouter(prefix="/api/admin", tags=["privacy"])

ConversationId = Annotated[str, Path(min_length=1, max_length=32)]


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _actor(request: Request, actor: Actor) -> AuditedActor:
    return AuditedActor(
        name=actor.name,
        user_id=actor.user_id,
        address=client_address(request) or None,
    )


class RetentionPublic(BaseModel):
    retention_days: int
    audit_retention_days: int
    purge_interval_seconds: float


@router.get("/privacy/retention", response_model=RetentionPublic)
def retention(request: Request, _actor: AdminActor) -> RetentionPublic:
    settings: Settings = request.app.state.settings
    return RetentionPublic(
        retention_days=settings.retention_days,
        audit_retention_days=settings.audit_retention_days,
        purge_interval_seconds=settings.purge_interval_seconds,
    )


class PurgeRequest(BaseModel):
    dry_run: bool = True


@router.post("/privacy/purge")
async def run_purge(request: Request, actor: AdminActor, body: PurgeRequest) -> dict[str, Any]:
    """Purge what the retention settings say has been kept long enough (a dry run by default:
    counts only), in batches; audited either way."""
    settings: Settings = request.app.state.settings
    who = _actor(request, actor)
    report = await run_in_threadpool(
        lambda: purge(
            _engine(request),
            RetentionPolicy.of(settings),
            dry_run=body.dry_run,
            actor_id=who.user_id,
            actor_name=who.name,
            address=who.address,
        )
    )
    return report.as_dict()


@router.get("/customers/export")
async def export(
    request: Request,
    actor: AdminActor,
    email: Annotated[str | None, Query(max_length=254)] = None,
    external_id: Annotated[str | None, Query(max_length=128)] = None,
    conversation_id: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    """Everything stored about one customer, named by exactly one selector."""
    selector = CustomerSelector.parse(
        email=email, external_id=external_id, conversation_id=conversation_id
    )
    who = _actor(request, actor)
    return await run_in_threadpool(lambda: export_customer(_engine(request), selector, actor=who))


class EraseRequest(BaseModel):
    email: str | None = Field(default=None, max_length=254)
    external_id: str | None = Field(default=None, max_length=128)
    conversation_id: str | None = Field(default=None, max_length=32)
    confirm: bool = False


@router.post("/customers/erase")
async def erase(request: Request, actor: AdminActor, body: EraseRequest) -> dict[str, Any]:
    """Delete everything about one customer except conversations under a legal hold or still
    with a person (both listed in the answer); needs ``confirm: true``."""
    selector = CustomerSelector.parse(
        email=body.email, external_id=body.external_id, conversation_id=body.conversation_id
    )
    who = _actor(request, actor)
    return await run_in_threadpool(
        lambda: erase_customer(_engine(request), selector, confirm=body.confirm, actor=who)
    )


@router.get("/conversations/{conversation_id}/legal-hold")
def hold_status(
    request: Request, conversation_id: ConversationId, _actor: AdminActor
) -> dict[str, Any]:
    return legal_hold_status(_engine(request), conversation_id)


@router.post("/conversations/{conversation_id}/legal-hold")
def hold(
    request: Request, conversation_id: ConversationId, actor: AdminActor, body: LegalHoldChange
) -> dict[str, Any]:
    """Exempt the conversation from the retention purge and from erasure."""
    return set_legal_hold(
        _engine(request),
        conversation_id,
        hold=True,
        reason=body.reason,
        actor=_actor(request, actor),
    )


@router.delete("/conversations/{conversation_id}/legal-hold")
def release(
    request: Request, conversation_id: ConversationId, actor: AdminActor, body: LegalHoldChange
) -> dict[str, Any]:
    """Release the hold: the conversation is purged at the next run if it is old enough."""
    return set_legal_hold(
        _engine(request),
        conversation_id,
        hold=False,
        reason=body.reason,
        actor=_actor(request, actor),
    )
