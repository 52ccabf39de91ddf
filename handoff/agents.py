"""Agents' working profiles (presence, capacity, teams, skills) and who may see what."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from core.auth import Actor
from core.clock import utcnow
from core.errors import InvalidInputError, NotFoundError
from core.staff import Role, StaffUser

from .assignment import Candidate
from .config import DeskConfig
from .models import AgentProfile, Ticket

__all__ = [
    "PRESENCES",
    "AgentPublic",
    "ColleaguePublic",
    "agent_public",
    "can_act",
    "can_see",
    "candidates",
    "ensure_profile",
    "update_profile",
]

PRESENCES = ("online", "away", "offline")
_SUPERVISING = (Role.supervisor, Role.admin)


class ColleaguePublic(BaseModel):
    """What every staff member sees of the others (to transfer a chat, say): nothing about how
    their accounts are secured."""

    username: str
    display_name: str
    role: str
    disabled: bool
    presence: str
    max_chats: int
    active_chats: int
    teams: list[str]
    languages: list[str]
    topics: list[str]


class AgentPublic(ColleaguePublic):
    """One's own profile, and what admins see of everyone."""

    mfa_enabled: bool = False
    must_change_password: bool = False


def ensure_profile(session: Session, user_id: int, config: DeskConfig) -> AgentProfile:
    """The agent's profile, created with the desk's defaults on first use.

    A console's first load asks for several things at once, each of which may be the first to
    need the profile: insert-if-absent (``ON CONFLICT DO NOTHING``), then read, so concurrent
    first requests all get the one row instead of all but one failing on the primary key.
    """
    profile = session.get(AgentProfile, user_id)
    if profile is None:
        fresh = AgentProfile(
            user_id=user_id, max_chats=config.max_chats, teams=[config.default_team]
        )
        values = fresh.model_dump()
        insert = (
            postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        session.execute(insert(AgentProfile).values(values).on_conflict_do_nothing())
        profile = session.get(AgentProfile, user_id)
        if profile is None:  # only if the insert was ignored for a reason other than the key
            raise RuntimeError(f"could not create the agent profile of user {user_id}")
    return profile


def agent_public(user: StaffUser, profile: AgentProfile) -> AgentPublic:
    return AgentPublic(
        username=user.username,
        display_name=user.display_name,
        mfa_enabled=user.mfa_enabled,
        must_change_password=user.must_change_password,
        role=user.role,
        disabled=user.disabled,
        presence=profile.presence,
        max_chats=profile.max_chats,
        active_chats=profile.active_chats,
        teams=list(profile.teams),
        languages=list(profile.languages),
        topics=list(profile.topics),
    )


def _names(values: Any, field: str) -> list[str]:
    if not isinstance(values, list) or not all(
        isinstance(v, str) and 0 < len(v.strip()) <= 64 for v in values
    ):
        raise InvalidInputError(f"'{field}' must be a list of short names")
    return sorted({v.strip() for v in values})


def update_profile(profile: AgentProfile, changes: dict[str, Any]) -> None:
    """Apply validated changes to teams, languages, topics, max_chats or presence."""
    for field in ("teams", "languages", "topics"):
        if field in changes and changes[field] is not None:
            setattr(profile, field, _names(changes[field], field))
    if changes.get("max_chats") is not None:
        value = changes["max_chats"]
        if not isinstance(value, int) or not 1 <= value <= 50:
            raise InvalidInputError("'max_chats' must be between 1 and 50")
        profile.max_chats = value
    if changes.get("presence") is not None:
        if changes["presence"] not in PRESENCES:
            raise InvalidInputError(f"'presence' must be one of {', '.join(PRESENCES)}")
        if profile.presence != changes["presence"]:
            profile.presence = changes["presence"]
            profile.presence_changed_at = utcnow()


def user_named(session: Session, username: str) -> StaffUser:
    user = session.exec(select(StaffUser).where(col(StaffUser.username) == username)).first()
    if user is None:
        raise NotFoundError(f"no staff member {username!r}")
    return user


def can_see(actor: Actor, profile: AgentProfile, ticket: Ticket) -> bool:
    """Supervisors see everything; agents see their own chats and their teams' tickets."""
    return (
        actor.role in _SUPERVISING
        or ticket.agent_id == actor.user_id
        or ticket.team in profile.teams
    )


def can_act(actor: Actor, ticket: Ticket) -> bool:
    return actor.role in _SUPERVISING or ticket.agent_id == actor.user_id


def candidates(session: Session) -> list[Candidate]:
    rows = session.exec(
        select(AgentProfile, StaffUser)
        .where(col(AgentProfile.user_id) == col(StaffUser.id))
        .where(col(StaffUser.disabled).is_(False))
    ).all()
    return [
        Candidate(
            user_id=profile.user_id,
            presence=profile.presence,
            active_chats=profile.active_chats,
            max_chats=profile.max_chats,
            teams=tuple(profile.teams),
            languages=tuple(profile.languages),
            topics=tuple(profile.topics),
            last_assigned_at=profile.last_assigned_at,
        )
        for profile, _user in rows
    ]
