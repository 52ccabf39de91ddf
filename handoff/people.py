"""Staff management for admins: accounts (core.staff) together with their desk profiles."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from core.db import session_scope
from core.errors import InvalidInputError
from core.staff import Role, create_user
from core.text import StoredText

from .agents import AgentPublic, agent_public, ensure_profile, update_profile, user_named
from .config import DeskConfig

__all__ = ["StaffCreate", "StaffUpdate", "create_staff", "update_staff"]


class StaffCreate(BaseModel):
    username: StoredText = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)  # hashed, never stored as given
    role: Role = Role.agent
    display_name: StoredText = Field(default="", max_length=128)
    teams: list[StoredText] | None = None
    languages: list[StoredText] | None = None
    topics: list[StoredText] | None = None
    max_chats: int | None = None


class StaffUpdate(BaseModel):
    role: Role | None = None
    display_name: StoredText | None = Field(default=None, min_length=1, max_length=128)
    disabled: bool | None = None
    teams: list[StoredText] | None = None
    languages: list[StoredText] | None = None
    topics: list[StoredText] | None = None
    max_chats: int | None = None


def _profile_changes(body: BaseModel) -> dict[str, Any]:
    fields = ("teams", "languages", "topics", "max_chats")
    return {k: v for k, v in body.model_dump().items() if k in fields and v is not None}


def create_staff(engine: Engine, config: DeskConfig, body: StaffCreate) -> AgentPublic:
    with session_scope(engine) as session:
        user = create_user(
            session,
            username=body.username,
            password=body.password,
            role=body.role,
            display_name=body.display_name,
        )
        profile = ensure_profile(session, user.id or 0, config)
        update_profile(profile, _profile_changes(body))
        session.add(profile)
        return agent_public(user, profile)


def update_staff(
    engine: Engine, config: DeskConfig, *, username: str, actor_id: int, body: StaffUpdate
) -> AgentPublic:
    with session_scope(engine) as session:
        user = user_named(session, username)
        if user.id == actor_id and (body.disabled or (body.role and body.role != user.role)):
            raise InvalidInputError("you cannot disable yourself or change your own role")
        if body.role is not None:
            user.role = body.role
        if body.display_name is not None:
            user.display_name = body.display_name.strip()
        if body.disabled is not None:
            user.disabled = body.disabled
        session.add(user)
        profile = ensure_profile(session, user.id or 0, config)
        update_profile(profile, _profile_changes(body))
        if user.disabled:
            profile.presence = "offline"
        session.add(profile)
        return agent_public(user, profile)
