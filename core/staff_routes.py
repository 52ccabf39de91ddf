"""Staff login, logout and who-am-I."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from .auth import COOKIE, StaffActor, UnauthenticatedError
from .db import session_scope
from .staff import check_password, end_session, start_session
from .text import StoredText

__all__ = ["router"]

router = APIRouter(prefix="/api/auth", tags=["staff accounts"])
SESSION_TTL = timedelta(hours=12)


class LoginRequest(BaseModel):
    # Checked before the lookup: PostgreSQL refuses a NUL even in a WHERE clause.
    username: StoredText = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class StaffPublic(BaseModel):
    username: str
    display_name: str
    role: str


class LoginResponse(BaseModel):
    user: StaffPublic
    csrf_token: str


@router.post("/login", response_model=LoginResponse)
def login(request: Request, response: Response, body: LoginRequest) -> LoginResponse:
    engine: Engine = request.app.state.engine
    with session_scope(engine) as session:
        user = check_password(session, body.username, body.password)
        if user is None:
            raise UnauthenticatedError("wrong username or password")
        token, csrf = start_session(session, user, ttl=SESSION_TTL)
        public = StaffPublic(username=user.username, display_name=user.display_name, role=user.role)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return LoginResponse(user=public, csrf_token=csrf)


@router.post("/logout", status_code=204)
def logout(request: Request, _actor: StaffActor) -> Response:
    engine: Engine = request.app.state.engine
    with session_scope(engine) as session:
        end_session(session, request.cookies.get(COOKIE, ""))
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=StaffPublic)
def me(actor: StaffActor) -> StaffPublic:
    return StaffPublic(username=actor.name, display_name=actor.display_name, role=actor.role)
