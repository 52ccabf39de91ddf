"""Login throttling: failed sign-ins are rows, counted per account and per client address.

Rows, not process memory, so every process behind the load balancer counts the same failures.
Unknown usernames are counted like real ones, so a refusal never tells whether an account
exists. A complete sign-in clears its account's failures; an address's failures age out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, col, delete, func, select

from .clock import utcnow
from .db import UTCDateTime
from .errors import KefuError

__all__ = ["LoginAttempt", "Throttle", "TooManyAttemptsError"]


class TooManyAttemptsError(KefuError):
    code = "too_many_attempts"
    status = 429


class LoginAttempt(SQLModel, table=True):
    """One failed sign-in step (a password or a second-step code)."""

    __tablename__ = "staff_login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


@dataclass(frozen=True)
class Throttle:
    window: timedelta
    per_account: int
    per_address: int

    def check(self, session: Session, *, username: str, address: str) -> None:
        """Raise ``TooManyAttemptsError`` (429, with the seconds to wait) when the account or
        the address has failed too often within the window."""
        since = utcnow() - self.window
        for column, value, limit, what in (
            (LoginAttempt.username, username[:64], self.per_account, "this account"),
            (LoginAttempt.address, address[:64], self.per_address, "this address"),
        ):
            count, oldest = session.exec(
                select(func.count(), func.min(LoginAttempt.at)).where(
                    col(column) == value, col(LoginAttempt.at) > since
                )
            ).one()
            if count >= limit and oldest is not None:
                wait = max(1, math.ceil((oldest - since).total_seconds()))
                raise TooManyAttemptsError(
                    f"too many failed sign-ins for {what}; try again in {_minutes(wait)}",
                    details=[{"code": "too_many_attempts", "retry_after": wait}],
                    headers={"Retry-After": str(wait)},
                )

    def failed(self, session: Session, *, username: str, address: str) -> None:
        now = utcnow()
        # Rows older than the window count for nothing: drop this account's and address's.
        session.exec(
            delete(LoginAttempt).where(
                (col(LoginAttempt.username) == username[:64])
                | (col(LoginAttempt.address) == address[:64]),
                col(LoginAttempt.at) <= now - self.window,
            )
        )
        session.add(LoginAttempt(username=username[:64], address=address[:64], at=now))

    def succeeded(self, session: Session, *, username: str) -> None:
        session.exec(delete(LoginAttempt).where(col(LoginAttempt.username) == username[:64]))


def _minutes(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    return f"{math.ceil(seconds / 60)} min"
