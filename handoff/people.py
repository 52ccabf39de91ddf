"""Staff management for admins: accounts (core.staff) together with their desk profiles."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.audit import AuditAction, record_audit
from core.auth import Actor
from core.db import session_scope
from core.errors import InvalidInputError
from core.mfa import reset_mfa
from core.staff import Role, StaffUser, create_user, end_user_sessions, set_password
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


# What "user.changed" reports, field by field: from -> to.
_AUDITED_FIELDS = ("role", "display_name", "teams", "languages", "topics", "max_chats")


def _audit(
    session: Session,
    action: AuditAction,
    *,
    by: Actor,
    address: str,
    user: StaffUser,
    detail: dict[str, Any] | None = None,
) -> None:
    record_audit(
        session,
        action=action,
        actor_id=by.user_id,
        actor_name=by.name,
        target_type="staff_user",
        target_id=user.id,
        address=address,
        detail={"username": user.username, **(detail or {})},
    )


def create_staff(
    engine: Engine, config: DeskConfig, body: StaffCreate, *, by: Actor, address: str
) -> AgentPublic:
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
        public = agent_public(user, profile)
        fields = public.model_dump(include=set(_AUDITED_FIELDS))
        _audit(session, AuditAction.user_created, by=by, address=address, user=user, detail=fields)
        return public


def _changes(before: AgentPublic, after: AgentPublic) -> dict[str, list[Any]]:
    old, new = before.model_dump(), after.model_dump()
    return {name: [old[name], new[name]] for name in _AUDITED_FIELDS if old[name] != new[name]}


def update_staff(
    engine: Engine,
    config: DeskConfig,
    *,
    username: str,
    by: Actor,
    address: str,
    body: StaffUpdate,
) -> tuple[AgentPublic, int | None]:
    """The updated member, and their user id when disabling them ended sessions (whose open
    consoles the caller closes, after the commit)."""
    with session_scope(engine) as session:
        user = user_named(session, username)
        before = agent_public(user, ensure_profile(session, user.id or 0, config))
        if user.id == by.user_id and (body.disabled or (body.role and body.role != user.role)):
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
        after = agent_public(user, profile)
        entries: list[tuple[AuditAction, dict[str, Any]]] = []
        if changes := _changes(before, after):
            entries.append((AuditAction.user_changed, changes))
        if before.disabled != after.disabled:
            action = AuditAction.user_disabled if after.disabled else AuditAction.user_enabled
            entries.append((action, {"sessions_ended": ended}))
        for action, detail in entries:
            _audit(session, action, by=by, address=address, user=user, detail=detail)
        return after, (user.id if ended else None)


def reset_staff_password(
    engine: Engine, *, username: str, password: str | None, by: Actor, address: str
) -> tuple[int, str]:
    """Give the member a temporary password (the one given, or a generated one) that they must
    change at their next sign-in, and end their sessions. Returns their user id and it."""
    chosen = password or secrets.token_urlsafe(12)
    with session_scope(engine) as session:
        user = user_named(session, username)
        set_password(session, user, chosen, temporary=True)
        ended = end_user_sessions(session, user.id or 0)
        detail = {"generated": password is None, "sessions_ended": ended}
        _audit(
            session, AuditAction.password_reset, by=by, address=address, user=user, detail=detail
        )
        return user.id or 0, chosen


def reset_staff_mfa(engine: Engine, *, username: str, by: Actor, address: str) -> int:
    """Turn the member's two-step sign-in off (a lost phone) and end their sessions."""
    with session_scope(engine) as session:
        user = user_named(session, username)
        was_on = user.mfa_enabled
        reset_mfa(session, user)
        ended = end_user_sessions(session, user.id or 0)
        detail = {"was_enabled": was_on, "sessions_ended": ended}
        _audit(session, AuditAction.mfa_reset, by=by, address=address, user=user, detail=detail)
        return user.id or 0
