"""Personal data in what agents see: events masked on their way to a console (REST and the
agent socket), and the raw text of one event revealed to a role the policy allows, audited.

The customer's own channel never passes through here: they see their words as typed.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from core.audit import AuditAction, record_audit
from core.auth import Actor, ForbiddenError
from core.conversations import ConversationEvent, EventPublic
from core.db import session_scope
from core.errors import NotFoundError
from core.pii import mask_personal_data
from core.pii_policy import PersonalDataPolicy

from .desk import HandoffDesk

__all__ = ["AgentEventPublic", "RevealForbiddenError", "agent_event", "agent_event_body", "reveal"]


class RevealForbiddenError(ForbiddenError):
    code = "reveal_forbidden"


class AgentEventPublic(EventPublic):
    # True when personal data in the text is shown masked; ``revealable`` when this reader's
    # role may see it raw (POST .../events/{seq}/reveal).
    masked: bool = False
    revealable: bool = False


def agent_event(
    event: ConversationEvent, policy: PersonalDataPolicy, role: str
) -> AgentEventPublic:
    body = agent_event_body(EventPublic.of(event).model_dump(), policy, role)
    return AgentEventPublic.model_validate(body)


def agent_event_body(body: dict[str, Any], policy: PersonalDataPolicy, role: str) -> dict[str, Any]:
    """An event as published (``EventPublic`` as JSON) as a console of ``role`` may show it."""
    payload = body.get("payload") or {}
    text = payload.get("text")
    if not isinstance(text, str) or not policy.masks("agents"):
        return {**body, "masked": False, "revealable": False}
    shown = mask_personal_data(text)
    if shown == text:
        return {**body, "masked": False, "revealable": False}
    return {
        **body,
        "payload": {**payload, "text": shown},
        "masked": True,
        "revealable": policy.may_reveal(role),
    }


def reveal(desk: HandoffDesk, *, conversation_id: str, seq: int, actor: Actor, address: str) -> str:
    """The raw text of one event, for a role the policy names and a conversation the actor may
    read; the audit entry names the conversation and seq, never the text."""
    if not desk.config.pii.may_reveal(actor.role):
        raise RevealForbiddenError("your role may not reveal personal data")
    desk.check_conversation(conversation_id=conversation_id, actor=actor)
    with session_scope(desk.engine) as session:
        event = session.exec(
            select(ConversationEvent).where(
                col(ConversationEvent.conversation_id) == conversation_id,
                col(ConversationEvent.seq) == seq,
            )
        ).first()
        if event is None:
            raise NotFoundError(f"no event {seq} in this conversation")
        record_audit(
            session,
            action=AuditAction.pii_revealed,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type="conversation",
            target_id=conversation_id,
            address=address,
            detail={"seq": seq},
        )
        return str(event.payload.get("text", ""))
