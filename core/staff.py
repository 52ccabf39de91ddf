"""Staff accounts and their login sessions: argon2 password hashes, opaque session tokens.

A session token lives in an HttpOnly, SameSite=Strict cookie and only its hash is stored. Each
session also has a CSRF token that state-changing requests must echo in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, Session, SQLModel, col, func, select

from .clock import utcnow
from .db import UTCDateTime
from .errors import ConflictError, InvalidInputError

__all__ = [
    "Role",
    "StaffSession",
    "StaffUser",
    "check_password",
    "create_user",
    "csrf_matches",
    "end_session",
    "has_users",
    "resolve_session",
    "start_session",
]

_HASHER = PasswordHasher()
MIN_PASSWORD_CHARS = 10


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=128)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_users(session: Session) -> bool:
    return bool(session.exec(select(func.count()).select_from(StaffUser)).one())


def create_user(
    session: Session, *, username: str, password: str, role: Role, display_name: str = ""
) -> StaffUser:
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInputError("a username is 1-64 characters without spaces")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if session.exec(select(StaffUser).where(col(StaffUser.username) == username)).first():
        raise ConflictError(f"user {username!r} already exists")
    user = StaffUser(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=_HASHER.hash(password),
        role=role,
    )
    session.add(user)
    session.flush()
    return user


def check_password(session: Session, username: str, password: str) -> StaffUser | None:
    user = session.exec(select(StaffUser).where(col(StaffUser.username) == username)).first()
    if user is None or user.disabled:
        # Spend the same time as a real check, so timing does not reveal which usernames exist.
        _HASHER.hash(password)
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
        session.add(user)
    return user


def start_session(session: Session, user: StaffUser, *, ttl: timedelta) -> tuple[str, str]:
    """A new login: returns the session token (for the cookie) and its CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(
        StaffSession(
            token_hash=_digest(token),
            user_id=user.id or 0,
            csrf_token=csrf,
            expires_at=utcnow() + ttl,
        )
    )
    return token, csrf


def resolve_session(session: Session, token: str) -> tuple[StaffUser, StaffSession] | None:
    login = session.get(StaffSession, _digest(token))
    if login is None or login.expires_at <= utcnow():
        return None
    user = session.get(StaffUser, login.user_id)
    if user is None or user.disabled:
        return None
    return user, login


def csrf_matches(login: StaffSession, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(login.csrf_token, presented or "")


def end_session(session: Session, token: str) -> None:
    login = session.get(StaffSession, _digest(token))
    if login is not None:
        session.delete(login)
