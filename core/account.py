"""What staff members do with their own accounts: change the password, see and end their
sessions, turn two-step sign-in on and off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from .audit import AuditAction, record_audit
from .clock import utcnow
from .db import session_scope
from .errors import InvalidInputError, NotFoundError
from .login_throttle import Throttle
from .mfa import begin_enrolment, confirm_enrolment, reset_mfa, verify_second_factor
from .staff import (
    StaffSession,
    StaffUser,
    end_user_sessions,
    restriction,
    set_password,
    user_sessions,
    verify_password,
)

__all__ = [
    "account_state",
    "change_own_password",
    "confirm_mfa",
    "disable_mfa",
    "end_sessions",
    "live_sessions",
    "start_mfa",
]


def _user(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFoundError("no such account")
    return user


def _audit(
    session: Session,
    user: StaffUser,
    action: AuditAction,
    address: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """An entry for what a member did to their own account."""
    record_audit(
        session,
        action=action,
        actor_id=user.id,
        actor_name=user.username,
        target_type="staff_user",
        target_id=user.id,
        address=address,
        detail=detail,
    )


def _wrong(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, details=[{"field": field, "code": f"wrong_{field}"}])


def account_state(
    engine: Engine, *, user_id: int, mfa_required_roles: Iterable[str]
) -> tuple[str | None, bool]:
    """What the account must do first (or None), and whether two-step sign-in is on."""
    with session_scope(engine) as session:
        user = _user(session, user_id)
        return restriction(user, mfa_required_roles=mfa_required_roles), user.mfa_enabled


def change_own_password(
    engine: Engine,
    throttle: Throttle,
    *,
    user_id: int,
    session_id: str,
    address: str,
    current: str,
    new: str,
) -> int:
    """Check the current password (throttled like a sign-in), set the new one, and end every
    other session of the account. Returns how many ended."""
    with session_scope(engine) as session:
        username = _user(session, user_id).username
        throttle.check(session, username=username, address=address)
    with session_scope(engine) as session:
        user = _user(session, user_id)
        if verify_password(session, user, current):
            if verify_password(session, user, new):
                raise InvalidInputError(
                    "choose a password different from the current one",
                    details=[{"field": "new_password", "code": "password_unchanged"}],
                )
            was_temporary = user.must_change_password
            set_password(session, user, new, temporary=False)
            ended = end_user_sessions(session, user_id, keep=session_id)
            detail = {"was_temporary": was_temporary, "sessions_ended": ended}
            _audit(session, user, AuditAction.password_changed, address, detail)
            return ended
        # Recorded, so the failure is committed before it is reported.
        throttle.failed(session, username=username, address=address)
        reason = {"reason": "wrong_current_password"}
        _audit(session, user, AuditAction.password_change_failed, address, reason)
    raise _wrong("current_password", "the current password is not right")


def live_sessions(engine: Engine, *, user_id: int, idle: timedelta) -> list[StaffSession]:
    now = utcnow()
    with session_scope(engine) as session:
        rows = user_sessions(session, user_id)
        session.expunge_all()
    return [row for row in rows if row.last_seen_at + idle > now]


def end_sessions(
    engine: Engine,
    *,
    user_id: int,
    address: str,
    keep: str | None = None,
    public_id: str | None = None,
) -> int:
    """End one's own sessions: all but ``keep``, or the one ``public_id``."""
    with session_scope(engine) as session:
        ended = end_user_sessions(session, user_id, keep=keep, public_id=public_id)
        if ended:
            which = {"session": public_id} if public_id is not None else {"others_of": keep}
            detail = {**which, "ended": ended}
            _audit(session, _user(session, user_id), AuditAction.session_ended, address, detail)
    if public_id is not None and not ended:
        raise NotFoundError("no such session")
    return ended


def start_mfa(engine: Engine, *, user_id: int, issuer: str) -> dict[str, str]:
    with session_scope(engine) as session:
        return begin_enrolment(session, _user(session, user_id), issuer=issuer)


def confirm_mfa(engine: Engine, *, user_id: int, address: str, code: str) -> list[str]:
    with session_scope(engine) as session:
        user = _user(session, user_id)
        codes = confirm_enrolment(session, user, code)
        _audit(session, user, AuditAction.mfa_enabled, address)
        return codes


def disable_mfa(
    engine: Engine, throttle: Throttle, *, user_id: int, address: str, password: str, code: str
) -> None:
    """Turn two-step sign-in off: needs the password and a current code (or recovery code)."""
    with session_scope(engine) as session:
        username = _user(session, user_id).username
        throttle.check(session, username=username, address=address)
    failure: InvalidInputError | None = None
    with session_scope(engine) as session:
        user = _user(session, user_id)
        if not user.mfa_enabled:
            return
        if not verify_password(session, user, password):
            failure = _wrong("password", "the password is not right")
        else:
            factor = verify_second_factor(session, user, code)
            if factor is None:
                failure = _wrong("code", "that code is not right")
            elif factor == "recovery":
                _audit(session, user, AuditAction.recovery_code_used, address)
        if failure is None:
            reset_mfa(session, user)
            _audit(session, user, AuditAction.mfa_disabled, address)
            return
        throttle.failed(session, username=username, address=address)
    raise failure
