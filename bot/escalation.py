"""The seam between the bot and whoever takes over: the bot decides *that* a person is needed;
an ``Escalator`` decides *how* (queue, offline desk) inside the bot's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from core.conversations import Conversation, ConversationEvent, ConversationState, append_event

from .replies import phrase

__all__ = ["BotOnlyEscalator", "Escalation", "Escalator"]


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


class BotOnlyEscalator:
    """Without a handoff desk: mark the conversation as waiting for a person and say so."""

    def escalate(
        self, session: Session, conversation: Conversation, escalation: Escalation
    ) -> list[ConversationEvent]:
        message = append_event(
            session,
            conversation_id=conversation.id,
            type="message",
            author="bot",
            payload={"text": phrase("escalate", escalation.language), "kind": "escalation"},
        )
        conversation.state = ConversationState.waiting_for_agent
        conversation.escalation_reason = escalation.reason
        escalated = append_event(
            session,
            conversation_id=conversation.id,
            type="conversation.escalated",
            author="system",
            payload={
                "reason": escalation.reason,
                "detail": escalation.detail,
                "state": conversation.state,
                "offline": None,
                "queue": None,
            },
        )
        return [message, escalated]
