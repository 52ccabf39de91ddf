"""Who is acting on the staff APIs: the logged-in staff member, checked on every request.

Unauthenticated requests get 401, the wrong role 403, and a state-changing request without the
session's CSRF token 403 as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .errors import KefuError
from .staff import Role, csrf_matches, resolve_session

__all__ = [
    "COOKIE",
    "Actor",
    "AdminActor",
    "ForbiddenError",
    "StaffActor",
    "SupervisorActor",
    "UnauthenticatedError",
    "bearer_token",
    "require_role",
]

COOKIE = "kefu_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UnauthenticatedError(KefuError):
    code = "unauthenticated"
    status = 401


class ForbiddenError(KefuError):
    code = "forbidden"
    status = 403


@dataclass(frozen=True)
class Actor:
    user_id: int
    name: str
    display_name: str
    role: Role


def require_role(*roles: Role) -> Callable[[Request], Actor]:
    def dependency(request: Request) -> Actor:
        token = request.cookies.get(COOKIE)
        if not token:
            raise UnauthenticatedError("log in first")
        engine: Engine = request.app.state.engine
        with Session(engine) as session:
            found = resolve_session(session, token)
        if found is None:
            raise UnauthenticatedError("the session has expired or was ended; log in again")
        user, login = found
        if request.method not in _SAFE_METHODS and not csrf_matches(
            login, request.headers.get("X-CSRF-Token")
        ):
            raise ForbiddenError("missing or wrong X-CSRF-Token header", details=[{"code": "csrf"}])
        role = Role(user.role)
        if roles and role not in roles:
            raise ForbiddenError(f"this needs the {' or '.join(roles)} role")
        return Actor(user.id or 0, user.username, user.display_name, role)

    return dependency


StaffActor = Annotated[Actor, Depends(require_role())]
SupervisorActor = Annotated[Actor, Depends(require_role(Role.supervisor, Role.admin))]
AdminActor = Annotated[Actor, Depends(require_role(Role.admin))]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, as customers send it."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None
