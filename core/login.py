"""Signing in: the password step, the second step when two-step sign-in is on, throttling of
both, and the session a complete sign-in starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from .audit import AuditAction, record_audit
from .auth import UnauthenticatedError
from .db import session_scope
from .login_throttle import Throttle, TooManyAttemptsError
from .mfa import open_challenge, take_challenge, verify_second_factor
from .settings import Settings
from .staff import StaffUser, check_password, find_user, restriction, start_session

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


def _check_throttle(
    engine: Engine, throttle: Throttle, *, username: str, client: Client, step: str
) -> None:
    """``throttle.check``; a refusal is audited in a transaction of its own, since the check's
    transaction rolls back with the error."""
    try:
        with session_scope(engine) as session:
            throttle.check(session, username=username, address=client.address)
    except TooManyAttemptsError:
        with session_scope(engine) as session:
            found = find_user(session, username)
            record_audit(
                session,
                action=AuditAction.login_throttled,
                actor_id=found.id if found else None,
                actor_name=username,
                address=client.address,
                detail={"step": step},
            )
        raise


def _failure_reason(found: StaffUser | None) -> str:
    if found is None:
        return "unknown_user"
    return "disabled" if found.disabled else "wrong_password"


def sign_in(
    engine: Engine, settings: Settings, *, username: str, password: str, client: Client
) -> SignIn:
    throttle = throttle_of(settings)
    _check_throttle(engine, throttle, username=username, client=client, step="password")
    with session_scope(engine) as session:
        user = check_password(session, username, password)
        if user is None:
            throttle.failed(session, username=username, address=client.address)
            # The name as tried (never the password); committed with the failure's row.
            found = find_user(session, username)
            record_audit(
                session,
                action=AuditAction.login_failed,
                actor_id=found.id if found else None,
                actor_name=username,
                address=client.address,
                detail={"step": "password", "reason": _failure_reason(found)},
            )
        elif user.mfa_enabled:
            return SignIn(challenge=open_challenge(session, user))
        else:
            throttle.succeeded(session, username=username)
            _audit_signed_in(session, user, client, second_step=None)
            return _open_session(session, user, settings, client)
    raise UnauthenticatedError(WRONG_PASSWORD)


def _audit_signed_in(
    session: Session, user: StaffUser, client: Client, *, second_step: str | None
) -> None:
    actions = [AuditAction.login_succeeded]
    if second_step == "recovery":
        actions.append(AuditAction.recovery_code_used)
    for action in actions:
        record_audit(
            session,
            action=action,
            actor_id=user.id,
            actor_name=user.username,
            address=client.address,
            detail={"second_step": second_step} if second_step else {},
        )


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
        username = found[1].username if found else ""
    if found is None:
        with session_scope(engine) as session:
            record_audit(
                session,
                action=AuditAction.mfa_failed,
                address=client.address,
                detail={"reason": "challenge_expired"},
            )
        raise UnauthenticatedError(
            "the sign-in has expired; enter your password again",
            details=[{"code": "challenge_expired"}],
        )
    _check_throttle(engine, throttle, username=username, client=client, step="code")
    with session_scope(engine) as session:
        found = take_challenge(session, challenge)
        if found is None:
            raise UnauthenticatedError("the sign-in has expired; enter your password again")
        pending, user = found
        factor = verify_second_factor(session, user, code)
        if factor:
            session.delete(pending)
            throttle.succeeded(session, username=username)
            _audit_signed_in(session, user, client, second_step=factor)
            return _open_session(session, user, settings, client)
        throttle.failed(session, username=username, address=client.address)
        record_audit(
            session,
            action=AuditAction.mfa_failed,
            actor_id=user.id,
            actor_name=username,
            address=client.address,
            detail={"reason": "wrong_code"},
        )
    raise UnauthenticatedError("that code is not right", details=[{"code": "wrong_code"}])
