"""Staff accounts and their login sessions: argon2 password hashes, opaque session tokens.

A session token lives in an HttpOnly, SameSite=Strict cookie and only its hash is stored. Each
session also has a CSRF token that state-changing requests must echo in ``X-CSRF-Token``, and a
public id by which its owner can see and end it without the token's hash ever leaving the
server. A session ends at its absolute expiry or after an idle spell, whichever comes first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, Session, SQLModel, col, delete, func, select, update

from .clock import utcnow
from .db import UTCDateTime
from .errors import ConflictError, InvalidInputError
from .passwords import check_password_policy

__all__ = [
    "MFA_ENROLLMENT_REQUIRED",
    "PASSWORD_CHANGE_REQUIRED",
    "Role",
    "StaffSession",
    "StaffUser",
    "check_password",
    "create_user",
    "csrf_matches",
    "end_session",
    "end_user_sessions",
    "find_user",
    "has_users",
    "resolve_session",
    "restriction",
    "set_password",
    "start_session",
    "touch_session",
    "user_sessions",
    "verify_password",
]

_HASHER = PasswordHasher()
PASSWORD_CHANGE_REQUIRED = "password_change_required"  # noqa: S105 (an error code)
MFA_ENROLLMENT_REQUIRED = "mfa_enrollment_required"


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
    # A temporary password (an admin's reset, a generated first password): until it is changed
    # the account can do nothing else.
    must_change_password: bool = False
    # TOTP: the base32 secret (set at enrolment, in use once mfa_enabled) and the last time
    # step accepted, so one code cannot be used twice.
    mfa_secret: str | None = Field(default=None, max_length=64)
    mfa_enabled: bool = False
    mfa_last_step: int | None = None


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    public_id: str = Field(max_length=32, unique=True, index=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    user_agent: str = Field(default="", max_length=256)
    address: str = Field(default="", max_length=64)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_users(session: Session) -> bool:
    return bool(session.exec(select(func.count()).select_from(StaffUser)).one())


def find_user(session: Session, username: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(col(StaffUser.username) == username)).first()


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    must_change_password: bool = False,
) -> StaffUser:
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInputError("a username is 1-64 characters without spaces")
    check_password_policy(password, username=username)
    if find_user(session, username):
        raise ConflictError(f"user {username!r} already exists")
    user = StaffUser(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=_HASHER.hash(password),
        role=role,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: StaffUser, password: str, *, temporary: bool) -> None:
    """A new password that meets the policy; ``temporary``: the user must change it next."""
    check_password_policy(password, username=user.username)
    user.password_hash = _HASHER.hash(password)
    user.must_change_password = temporary
    session.add(user)


def verify_password(session: Session, user: StaffUser, password: str) -> bool:
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
        session.add(user)
    return True


def check_password(session: Session, username: str, password: str) -> StaffUser | None:
    user = find_user(session, username)
    if user is None or user.disabled:
        # Spend the same time as a real check, so timing does not reveal which usernames exist.
        _HASHER.hash(password)
        return None
    return user if verify_password(session, user, password) else None


def restriction(user: StaffUser, *, mfa_required_roles: Iterable[str]) -> str | None:
    """What the account must do before anything else, or None: change its temporary password,
    then (when its role requires it) enrol in two-step sign-in."""
    if user.must_change_password:
        return PASSWORD_CHANGE_REQUIRED
    if not user.mfa_enabled and user.role in set(mfa_required_roles):
        return MFA_ENROLLMENT_REQUIRED
    return None


def start_session(
    session: Session, user: StaffUser, *, ttl: timedelta, user_agent: str = "", address: str = ""
) -> tuple[str, str]:
    """A new login: returns the session token (for the cookie) and its CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    session.add(
        StaffSession(
            token_hash=_digest(token),
            public_id=secrets.token_hex(12),
            user_id=user.id or 0,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ttl,
            user_agent=user_agent[:256],
            address=address[:64],
        )
    )
    return token, csrf


def resolve_session(
    session: Session, token: str, *, idle: timedelta | None = None
) -> tuple[StaffUser, StaffSession] | None:
    login = session.get(StaffSession, _digest(token))
    now = utcnow()
    if login is None or login.expires_at <= now:
        return None
    if idle is not None and login.last_seen_at + idle <= now:
        return None
    user = session.get(StaffUser, login.user_id)
    if user is None or user.disabled:
        return None
    return user, login


def touch_session(session: Session, login: StaffSession, *, idle: timedelta) -> None:
    """Mark the session used now. Written at most every twentieth of the idle timeout (and at
    least every minute), so reading pages does not become a write per request."""
    now = utcnow()
    if now - login.last_seen_at < min(idle / 20, timedelta(minutes=1)):
        return
    session.exec(
        update(StaffSession)
        .where(col(StaffSession.token_hash) == login.token_hash)
        .values(last_seen_at=now)
    )


def csrf_matches(login: StaffSession, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(login.csrf_token, presented or "")


def end_session(session: Session, token: str) -> None:
    login = session.get(StaffSession, _digest(token))
    if login is not None:
        session.delete(login)


def end_user_sessions(
    session: Session, user_id: int, *, keep: str | None = None, public_id: str | None = None
) -> int:
    """End a user's sessions: all, all but ``keep`` (a public id), or only ``public_id``.
    Returns how many ended."""
    statement = delete(StaffSession).where(col(StaffSession.user_id) == user_id)
    if keep is not None:
        statement = statement.where(col(StaffSession.public_id) != keep)
    if public_id is not None:
        statement = statement.where(col(StaffSession.public_id) == public_id)
    return int(session.exec(statement).rowcount or 0)


def user_sessions(session: Session, user_id: int) -> list[StaffSession]:
    now = utcnow()
    rows = session.exec(
        select(StaffSession)
        .where(col(StaffSession.user_id) == user_id, col(StaffSession.expires_at) > now)
        .order_by(col(StaffSession.last_seen_at).desc())
    )
    return list(rows)
