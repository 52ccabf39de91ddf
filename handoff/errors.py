"""The handoff desk's errors, each with a stable code for HTTP and WebSocket clients."""

from __future__ import annotations

from core.auth import ForbiddenError
from core.errors import ConflictError, InvalidInputError, NotFoundError

__all__ = [
    "AgentDisabledError",
    "AlreadyClaimedError",
    "AlreadyComplaintError",
    "AlreadyRatedError",
    "AtCapacityError",
    "ComplaintResolvedError",
    "InvalidReplyError",
    "NotAnAgentError",
    "NotClosedError",
    "ReopenWindowPassedError",
    "TicketClosedError",
    "UnknownAgentError",
    "UnknownCategoryError",
    "UnknownRootCauseError",
    "UnknownTeamError",
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


class NotAnAgentError(ForbiddenError):
    """A supervisor changing an admin's or another supervisor's desk profile."""

    code = "not_an_agent"


class UnknownAgentError(NotFoundError):
    code = "unknown_agent"


class UnknownTeamError(NotFoundError):
    code = "unknown_team"


class AgentDisabledError(InvalidInputError):
    code = "agent_disabled"


class AlreadyComplaintError(ConflictError):
    code = "already_complaint"


class ComplaintResolvedError(ConflictError):
    code = "complaint_resolved"


class UnknownCategoryError(InvalidInputError):
    code = "unknown_category"


class UnknownRootCauseError(InvalidInputError):
    code = "unknown_root_cause"
