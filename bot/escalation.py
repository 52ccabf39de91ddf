"""The seam between the bot and whoever takes over: the bot decides *that* a person is needed;
an ``Escalator`` decides *how* (queue, offline desk) inside the bot's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel import Session

from core.conversations import Conversation, ConversationEvent, ConversationState, append_event

from .replies import phrase

__all__ = ["BotOnlyEscalator", "Escalation", "Escalator", "announce_escalation"]


@dataclass(frozen=True)
class Escalation:
    reason: str
    detail: str
    language: str
    # The intent or FAQ category the customer was on, for routing and the agent's overview.
    topic: str | None = None


class Escalator(Protocol):
    def escalate(
        self, session: Session, conversation: Conversation, escalation: Escalation
    ) -> list[ConversationEvent]:
        """Write the bot's hand-over message and what follows; the caller commits."""
        ...


def announce_escalation(
    session: Session,
    conversation: Conversation,
    escalation: Escalation,
    *,
    said: str = "escalate",
    offline: dict[str, Any] | None = None,
    queue: dict[str, int] | None = None,
) -> list[ConversationEvent]:
    """The bot's hand-over message, then the ``conversation.escalated`` event in its new state."""
    message = append_event(
        session,
        conversation_id=conversation.id,
        type="message",
        author="bot",
        payload={"text": phrase(said, escalation.language), "kind": "escalation"},
    )
    escalated = append_event(
        session,
        conversation_id=conversation.id,
        type="conversation.escalated",
        author="system",
        payload={
            "reason": escalation.reason,
            "detail": escalation.detail,
            "state": conversation.state,
            "offline": offline,
            "queue": queue,
        },
    )
    return [message, escalated]


class BotOnlyEscalator:
    """Without a handoff desk: mark the conversation as waiting for a person and say so."""

    def escalate(
        self, session: Session, conversation: Conversation, escalation: Escalation
    ) -> list[ConversationEvent]:
        conversation.state = ConversationState.waiting_for_agent
        conversation.escalation_reason = escalation.reason
        return announce_escalation(session, conversation, escalation)
