"""Signing in: the password step, the second step when two-step sign-in is on, throttling of
both, and the session a complete sign-in starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from .auth import UnauthenticatedError
from .db import session_scope
from .login_throttle import Throttle
from .mfa import open_challenge, take_challenge, verify_second_factor
from .settings import Settings
from .staff import StaffUser, check_password, restriction, start_session

__all__ = ["Client", "SignIn", "complete_second_step", "sign_in", "throttle_of"]

WRONG_PASSWORD = "wrong username or password"  # noqa: S105 (a message)


@dataclass(frozen=True)
class Client:
    address: str
    user_agent: str


@dataclass(frozen=True)
class SignIn:
    """A started session (``token`` for the cookie) or, with two-step sign-in, a challenge."""

    username: str = ""
    display_name: str = ""
    role: str = ""
    required: str | None = None
    mfa_enabled: bool = False
    token: str = ""
    csrf_token: str = ""
    challenge: str = ""


def throttle_of(settings: Settings) -> Throttle:
    return Throttle(
        window=timedelta(minutes=settings.login_window_minutes),
        per_account=settings.login_max_failures_per_account,
        per_address=settings.login_max_failures_per_address,
    )


def _started(session_user: StaffUser, token: str, csrf: str, settings: Settings) -> SignIn:
    return SignIn(
        username=session_user.username,
        display_name=session_user.display_name,
        role=session_user.role,
        required=restriction(session_user, mfa_required_roles=settings.mfa_required_roles),
        mfa_enabled=session_user.mfa_enabled,
        token=token,
        csrf_token=csrf,
    )


def sign_in(
    engine: Engine, settings: Settings, *, username: str, password: str, client: Client
) -> SignIn:
    throttle = throttle_of(settings)
    with session_scope(engine) as session:
        throttle.check(session, username=username, address=client.address)
    with session_scope(engine) as session:
        user = check_password(session, username, password)
        if user is None:
            throttle.failed(session, username=username, address=client.address)
        elif user.mfa_enabled:
            return SignIn(challenge=open_challenge(session, user))
        else:
            throttle.succeeded(session, username=username)
            return _open_session(session, user, settings, client)
    raise UnauthenticatedError(WRONG_PASSWORD)


def _open_session(session: Session, user: StaffUser, settings: Settings, client: Client) -> SignIn:
    """The last step of either sign-in path: a session for ``user`` from ``client``."""
    token, csrf = start_session(
        session,
        user,
        ttl=timedelta(hours=settings.staff_session_hours),
        user_agent=client.user_agent,
        address=client.address,
    )
    return _started(user, token, csrf, settings)


def complete_second_step(
    engine: Engine, settings: Settings, *, challenge: str, code: str, client: Client
) -> SignIn:
    throttle = throttle_of(settings)
    with session_scope(engine) as session:
        found = take_challenge(session, challenge)
        if found is None:
            raise UnauthenticatedError(
                "the sign-in has expired; enter your password again",
                details=[{"code": "challenge_expired"}],
            )
        username = found[1].username
        throttle.check(session, username=username, address=client.address)
    with session_scope(engine) as session:
        found = take_challenge(session, challenge)
        if found is None:
            raise UnauthenticatedError("the sign-in has expired; enter your password again")
        pending, user = found
        if verify_second_factor(session, user, code):
            session.delete(pending)
            throttle.succeeded(session, username=username)
            return _open_session(session, user, settings, client)
        throttle.failed(session, username=username, address=client.address)
    raise UnauthenticatedError("that code is not right", details=[{"code": "wrong_code"}])
