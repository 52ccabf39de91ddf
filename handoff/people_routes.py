"""Admin API for staff accounts: list, create, change role, teams and skills, disable."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from core.auth import AdminActor

from .agents import AgentPublic
from .desk import HandoffDesk
from .people import StaffCreate, StaffUpdate, create_staff, update_staff

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/users", tags=["staff management"])


def _desk(request: Request) -> HandoffDesk:
    desk: HandoffDesk = request.app.state.desk
    return desk


@router.get("")
def list_staff(request: Request, _actor: AdminActor) -> dict[str, list[AgentPublic]]:
    return {"users": _desk(request).agents()}


@router.post("", response_model=AgentPublic, status_code=status.HTTP_201_CREATED)
def create(request: Request, _actor: AdminActor, body: StaffCreate) -> AgentPublic:
    desk = _desk(request)
    return create_staff(desk.engine, desk.config, body)


@router.patch("/{username}", response_model=AgentPublic)
def update(request: Request, username: str, actor: AdminActor, body: StaffUpdate) -> AgentPublic:
    desk = _desk(request)
    return update_staff(
        desk.engine, desk.config, username=username, actor_id=actor.user_id, body=body
    )
