"""The handoff desk's errors, each with a stable code for HTTP and WebSocket clients."""

from __future__ import annotations

from core.errors import ConflictError, InvalidInputError

__all__ = [
    "AlreadyClaimedError",
    "AlreadyRatedError",
    "AtCapacityError",
    "InvalidReplyError",
    "NotClosedError",
    "ReopenWindowPassedError",
    "TicketClosedError",
]


class AlreadyClaimedError(ConflictError):
    code = "already_claimed"


class AtCapacityError(ConflictError):
    code = "at_capacity"


class TicketClosedError(ConflictError):
    code = "ticket_closed"


class NotClosedError(ConflictError):
    code = "not_closed"


class ReopenWindowPassedError(ConflictError):
    code = "reopen_window_passed"


class InvalidReplyError(InvalidInputError):
    code = "invalid_message"


class AlreadyRatedError(ConflictError):
    code = "already_rated"
