"""Staff management for admins: accounts (core.staff) together with their desk profiles."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from core.db import session_scope
from core.errors import InvalidInputError
from core.mfa import reset_mfa
from core.staff import Role, create_user, end_user_sessions, set_password
from core.text import StoredText

from .agents import AgentPublic, agent_public, ensure_profile, update_profile, user_named
from .config import DeskConfig

__all__ = [
    "PasswordReset",
    "StaffCreate",
    "StaffUpdate",
    "create_staff",
    "reset_staff_mfa",
    "reset_staff_password",
    "update_staff",
]


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


class PasswordReset(BaseModel):
    # Left out: one is generated and returned. Either way the user must change it at sign-in.
    password: str | None = Field(default=None, min_length=1, max_length=1024)


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
) -> tuple[AgentPublic, int | None]:
    """The updated member, and their user id when disabling them ended sessions (whose open
    consoles the caller closes, after the commit)."""
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
        ended = 0
        if user.disabled:
            profile.presence = "offline"
            ended = end_user_sessions(session, user.id or 0)
        session.add(profile)
        return agent_public(user, profile), (user.id if ended else None)


def reset_staff_password(engine: Engine, *, username: str, password: str | None) -> tuple[int, str]:
    """Give the member a temporary password (the one given, or a generated one) that they must
    change at their next sign-in, and end their sessions. Returns their user id and it."""
    chosen = password or secrets.token_urlsafe(12)
    with session_scope(engine) as session:
        user = user_named(session, username)
        set_password(session, user, chosen, temporary=True)
        end_user_sessions(session, user.id or 0)
        return user.id or 0, chosen


def reset_staff_mfa(engine: Engine, *, username: str) -> int:
    """Turn the member's two-step sign-in off (a lost phone) and end their sessions."""
    with session_scope(engine) as session:
        user = user_named(session, username)
        reset_mfa(session, user)
        end_user_sessions(session, user.id or 0)
        return user.id or 0
