"""Admin API for staff accounts: list, create, change role, teams and skills, disable."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.addresses import client_address
from core.auth import AdminActor
from core.broker import Broker
from core.realtime import notify_sessions_ended

from .agents import AgentPublic
from .desk import HandoffDesk
from .people import (
    PasswordReset,
    StaffCreate,
    StaffUpdate,
    create_staff,
    reset_staff_mfa,
    reset_staff_password,
    update_staff,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/users", tags=["staff management"])


def _desk(request: Request) -> HandoffDesk:
    desk: HandoffDesk = request.app.state.desk
    return desk


@router.get("")
def list_staff(request: Request, _actor: AdminActor) -> dict[str, list[AgentPublic]]:
    return {"users": _desk(request).agents()}


@router.post("", response_model=AgentPublic, status_code=status.HTTP_201_CREATED)
def create(request: Request, actor: AdminActor, body: StaffCreate) -> AgentPublic:
    desk = _desk(request)
    return create_staff(desk.engine, desk.config, body, by=actor, address=client_address(request))


class TemporaryPassword(BaseModel):
    username: str
    temporary_password: str


async def _sessions_ended(request: Request, user_id: int) -> None:
    """Close the member's open consoles on every process."""
    broker: Broker = request.app.state.broker
    await notify_sessions_ended(broker, user_id)


@router.patch("/{username}", response_model=AgentPublic)
async def update(
    request: Request, username: str, actor: AdminActor, body: StaffUpdate
) -> AgentPublic:
    """Disabling a member ends their sessions and closes their consoles at once."""
    desk = _desk(request)
    public, ended_for = await run_in_threadpool(
        lambda: update_staff(
            desk.engine,
            desk.config,
            username=username,
            by=actor,
            address=client_address(request),
            body=body,
        )
    )
    if ended_for is not None:
        await _sessions_ended(request, ended_for)
    return public


@router.post("/{username}/password", response_model=TemporaryPassword)
async def reset_password(
    request: Request, username: str, actor: AdminActor, body: PasswordReset
) -> TemporaryPassword:
    """Set a temporary password the member must change at sign-in; their sessions end."""
    engine = _desk(request).engine
    user_id, chosen = await run_in_threadpool(
        lambda: reset_staff_password(
            engine,
            username=username,
            password=body.password,
            by=actor,
            address=client_address(request),
        )
    )
    await _sessions_ended(request, user_id)
    return TemporaryPassword(username=username, temporary_password=chosen)


@router.delete("/{username}/mfa", status_code=204)
async def reset_mfa(request: Request, username: str, actor: AdminActor) -> None:
    """Turn off the member's two-step sign-in (a lost device); their sessions end."""
    engine = _desk(request).engine
    address = client_address(request)
    user_id = await run_in_threadpool(
        lambda: reset_staff_mfa(engine, username=username, by=actor, address=address)
    )
    await _sessions_ended(request, user_id)
