"""Staff sign-in (password, then a code when two-step sign-in is on), sign-out, who-am-I, the
password change, and one's own sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from .account import account_state, change_own_password, end_sessions, live_sessions
from .addresses import client_address
from .audit import AuditAction, record_audit
from .auth import COOKIE, SignedInActor, StaffActor
from .broker import Broker
from .db import session_scope
from .login import Client, SignIn, complete_second_step, sign_in, throttle_of
from .realtime import notify_sessions_ended
from .settings import Settings
from .staff import end_session
from .text import StoredText

__all__ = ["StaffMe", "router"]

router = APIRouter(prefix="/api/auth", tags=["staff accounts"])


class LoginRequest(BaseModel):
    # Checked before the lookup: PostgreSQL refuses a NUL even in a WHERE clause.
    username: StoredText = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SecondStepRequest(BaseModel):
    challenge: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=1, max_length=64, description="A TOTP code or a recovery code.")


class StaffMe(BaseModel):
    username: str
    display_name: str
    role: str
    # What the account must do before anything else: "password_change_required",
    # "mfa_enrollment_required", or null.
    required: str | None = None
    mfa_enabled: bool = False


class LoginResponse(BaseModel):
    """Signed in (``user`` and ``csrf_token``), or the password step passed and a code is
    needed (``mfa_required`` with the ``challenge`` to send back with it)."""

    user: StaffMe | None = None
    csrf_token: str | None = None
    mfa_required: bool = False
    challenge: str | None = None


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class SessionPublic(BaseModel):
    id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str
    address: str
    current: bool


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _client(request: Request) -> Client:
    address = client_address(request)
    return Client(address=address, user_agent=request.headers.get("user-agent", ""))


def _answer(request: Request, response: Response, result: SignIn) -> LoginResponse:
    if result.challenge:
        return LoginResponse(mfa_required=True, challenge=result.challenge)
    response.set_cookie(
        COOKIE,
        result.token,
        max_age=int(_settings(request).staff_session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    user = StaffMe(
        username=result.username,
        display_name=result.display_name,
        role=result.role,
        required=result.required,
        mfa_enabled=result.mfa_enabled,
    )
    return LoginResponse(user=user, csrf_token=result.csrf_token)


@router.post("/login", response_model=LoginResponse)
def login(request: Request, response: Response, body: LoginRequest) -> LoginResponse:
    result = sign_in(
        request.app.state.engine,
        _settings(request),
        username=body.username,
        password=body.password,
        client=_client(request),
    )
    return _answer(request, response, result)


@router.post("/login/mfa", response_model=LoginResponse)
def login_second_step(
    request: Request, response: Response, body: SecondStepRequest
) -> LoginResponse:
    result = complete_second_step(
        request.app.state.engine,
        _settings(request),
        challenge=body.challenge,
        code=body.code,
        client=_client(request),
    )
    return _answer(request, response, result)


@router.post("/logout", status_code=204)
def logout(request: Request, actor: SignedInActor) -> Response:
    engine: Engine = request.app.state.engine
    with session_scope(engine) as session:
        end_session(session, request.cookies.get(COOKIE, ""))
        record_audit(
            session,
            action=AuditAction.logout,
            actor_id=actor.user_id,
            actor_name=actor.name,
            address=client_address(request),
            detail={"session": actor.session_id},
        )
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=StaffMe)
def me(request: Request, actor: SignedInActor) -> StaffMe:
    required, enabled = account_state(
        request.app.state.engine,
        user_id=actor.user_id,
        mfa_required_roles=_settings(request).mfa_required_roles,
    )
    return StaffMe(
        username=actor.name,
        display_name=actor.display_name,
        role=actor.role,
        required=required,
        mfa_enabled=enabled,
    )


async def _ended(request: Request, user_id: int, count: int) -> None:
    if count:
        broker: Broker = request.app.state.broker
        await notify_sessions_ended(broker, user_id)


@router.post("/password", status_code=204)
async def change_password(request: Request, actor: SignedInActor, body: PasswordChange) -> None:
    """Change one's own password; every other session of the account ends."""
    ended = await run_in_threadpool(
        lambda: change_own_password(
            request.app.state.engine,
            throttle_of(_settings(request)),
            user_id=actor.user_id,
            session_id=actor.session_id,
            address=_client(request).address,
            current=body.current_password,
            new=body.new_password,
        )
    )
    await _ended(request, actor.user_id, ended)


@router.get("/sessions")
def sessions(request: Request, actor: StaffActor) -> dict[str, list[SessionPublic]]:
    idle = timedelta(minutes=_settings(request).staff_session_idle_minutes)
    rows = live_sessions(request.app.state.engine, user_id=actor.user_id, idle=idle)
    return {
        "sessions": [
            SessionPublic(
                id=row.public_id,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
                user_agent=row.user_agent,
                address=row.address,
                current=row.public_id == actor.session_id,
            )
            for row in rows
        ]
    }


@router.post("/sessions/revoke-others")
async def revoke_other_sessions(request: Request, actor: StaffActor) -> dict[str, int]:
    ended = await run_in_threadpool(
        lambda: end_sessions(
            request.app.state.engine,
            user_id=actor.user_id,
            address=client_address(request),
            keep=actor.session_id,
        )
    )
    await _ended(request, actor.user_id, ended)
    return {"ended": ended}


@router.delete("/sessions/{session_id}", status_code=204)
async def revoke_session(request: Request, session_id: str, actor: StaffActor) -> None:
    ended = await run_in_threadpool(
        lambda: end_sessions(
            request.app.state.engine,
            user_id=actor.user_id,
            address=client_address(request),
            public_id=session_id[:32],
        )
    )
    await _ended(request, actor.user_id, ended)
