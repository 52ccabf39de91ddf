"""Who is acting on the staff APIs: the logged-in staff member, checked on every request.

Unauthenticated requests get 401, the wrong role 403, and a state-changing request without the
session's CSRF token 403 as well. An account with something to do first (change a temporary
password, enrol in two-step sign-in) gets 403 with that as the code everywhere except the
few routes that let it do so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from .db import session_scope
from .errors import KefuError
from .settings import Settings
from .staff import (
    MFA_ENROLLMENT_REQUIRED,
    PASSWORD_CHANGE_REQUIRED,
    Role,
    csrf_matches,
    resolve_session,
    restriction,
    touch_session,
)

__all__ = [
    "COOKIE",
    "Actor",
    "AdminActor",
    "EnrollingActor",
    "ForbiddenError",
    "RestrictedError",
    "SignedInActor",
    "StaffActor",
    "SupervisorActor",
    "UnauthenticatedError",
    "bearer_token",
    "require_role",
]

COOKIE = "kefu_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MESSAGES = {
    PASSWORD_CHANGE_REQUIRED: "change your temporary password first",
    MFA_ENROLLMENT_REQUIRED: "your role needs two-step sign-in; set it up first",
}


class UnauthenticatedError(KefuError):
    code = "unauthenticated"
    status = 401


class ForbiddenError(KefuError):
    code = "forbidden"
    status = 403


class RestrictedError(ForbiddenError):
    """The account must do something first; ``code`` says what."""

    def __init__(self, code: str) -> None:
        super().__init__(_MESSAGES[code], details=[{"code": code}])
        self.code = code


@dataclass(frozen=True)
class Actor:
    user_id: int
    name: str
    display_name: str
    role: Role
    session_id: str = ""  # the session's public id


def require_role(*roles: Role, allow: frozenset[str] = frozenset()) -> Callable[[Request], Actor]:
    """``allow``: the restrictions (``password_change_required`` ...) this route is open to."""

    def dependency(request: Request) -> Actor:
        token = request.cookies.get(COOKIE)
        if not token:
            raise UnauthenticatedError("log in first")
        engine: Engine = request.app.state.engine
        settings: Settings = request.app.state.settings
        idle = timedelta(minutes=settings.staff_session_idle_minutes)
        with session_scope(engine) as session:
            found = resolve_session(session, token, idle=idle)
            if found is None:
                raise UnauthenticatedError("the session has expired or was ended; log in again")
            user, login = found
            touch_session(session, login, idle=idle)
        if request.method not in _SAFE_METHODS and not csrf_matches(
            login, request.headers.get("X-CSRF-Token")
        ):
            raise ForbiddenError("missing or wrong X-CSRF-Token header", details=[{"code": "csrf"}])
        pending = restriction(user, mfa_required_roles=settings.mfa_required_roles)
        if pending is not None and pending not in allow:
            raise RestrictedError(pending)
        role = Role(user.role)
        if roles and role not in roles:
            raise ForbiddenError(f"this needs the {' or '.join(roles)} role")
        return Actor(user.id or 0, user.username, user.display_name, role, login.public_id)

    return dependency


StaffActor = Annotated[Actor, Depends(require_role())]
SupervisorActor = Annotated[Actor, Depends(require_role(Role.supervisor, Role.admin))]
AdminActor = Annotated[Actor, Depends(require_role(Role.admin))]
# Signed in, even with a temporary password to change or two-step sign-in to set up first.
SignedInActor = Annotated[
    Actor,
    Depends(require_role(allow=frozenset({PASSWORD_CHANGE_REQUIRED, MFA_ENROLLMENT_REQUIRED}))),
]
# Signed in, even before the two-step sign-in the role requires is set up.
EnrollingActor = Annotated[Actor, Depends(require_role(allow=frozenset({MFA_ENROLLMENT_REQUIRED})))]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, as customers send it."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None
