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
    "DuplicateCriterionError",
    "FollowUpAnsweredError",
    "FollowUpExpiredError",
    "InvalidReplyError",
    "NoFollowUpError",
    "NoRubricError",
    "NotAnAgentError",
    "NotClosedError",
    "OwnConversationError",
    "ReopenWindowPassedError",
    "ReviewSubmittedError",
    "RubricChangedError",
    "ScoreOutOfRangeError",
    "TicketClosedError",
    "UnknownAgentError",
    "UnknownCategoryError",
    "UnknownCriterionError",
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


class NoRubricError(ConflictError):
    """Quality review: nothing can be scored before an admin sets the rubric."""

    code = "no_rubric"


class RubricChangedError(ConflictError):
    code = "rubric_changed"


class DuplicateCriterionError(InvalidInputError):
    code = "duplicate_criterion"


class UnknownCriterionError(InvalidInputError):
    code = "unknown_criterion"


class ScoreOutOfRangeError(InvalidInputError):
    """A criterion scored outside 0..its max points, or left unscored."""

    code = "score_out_of_range"


class ReviewSubmittedError(ConflictError):
    code = "review_submitted"


class OwnConversationError(ForbiddenError):
    """A reviewer scoring (or sampling) a conversation they handled themselves."""

    code = "own_conversation"


class NoFollowUpError(NotFoundError):
    """No follow-up is due for this conversation, or the link names none."""

    code = "no_follow_up"


class FollowUpAnsweredError(ConflictError):
    code = "follow_up_answered"


class FollowUpExpiredError(ConflictError):
    code = "follow_up_expired"
    status = 410
