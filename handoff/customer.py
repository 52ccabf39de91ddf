"""The customer's side of the desk: where they stand, offline messages, closing, satisfaction
and reopening. Every call is authenticated with the conversation's token."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from bot.chat import ConversationClosedError
from bot.escalation import Escalation
from core.clock import utcnow
from core.conversations import (
    Conversation,
    ConversationEvent,
    ConversationState,
    append_event,
    authenticate,
)
from core.db import session_scope
from core.errors import InvalidInputError
from core.staff import StaffUser

from .desk import HandoffDesk
from .errors import AlreadyRatedError, NotClosedError, ReopenWindowPassedError
from .models import Feedback, Ticket
from .priority import trusted_tier
from .queue import open_ticket_of, places

__all__ = ["CustomerDesk", "FeedbackPublic", "StatusPublic"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_COMMENT = 1000


class FeedbackPublic(BaseModel):
    csat: int
    nps: int | None
    comment: str | None


class StatusPublic(BaseModel):
    conversation_id: str
    state: str
    queue: dict[str, int] | None
    agent: dict[str, str] | None
    offline: dict[str, Any] | None
    closed_at: datetime | None
    reopen_until: datetime | None
    feedback: FeedbackPublic | None
    last_seq: int


class CustomerDesk:
    def __init__(self, desk: HandoffDesk) -> None:
        self.desk = desk
        self.engine = desk.engine

    def status(self, *, conversation_id: str, token: str | None) -> StatusPublic:
        with Session(self.engine) as session:
            conversation = authenticate(session, conversation_id, token)
            return self._status(session, conversation)

    def _status(self, session: Session, conversation: Conversation) -> StatusPublic:
        ticket = open_ticket_of(session, conversation.id)
        queue = None
        agent = None
        offline = None
        if conversation.state == ConversationState.waiting_for_agent:
            place = places(session, self.desk.config).get(conversation.id)
            if place:
                queue = {"position": place.position, "eta_seconds": place.eta_seconds}
        if ticket is not None and ticket.status == "active" and ticket.agent_id:
            user = session.get(StaffUser, ticket.agent_id)
            agent = {"display_name": user.display_name} if user else None
        if (
            conversation.state == ConversationState.bot
            and conversation.escalation_reason
            and ticket is None
        ):
            team = self.desk.config.team_for(None)
            available = self.desk.availability(
                session, team=team, language=conversation.language or "en"
            )
            offline = available.as_payload()
        feedback = session.exec(
            select(Feedback).where(col(Feedback.conversation_id) == conversation.id)
        ).first()
        return StatusPublic(
            conversation_id=conversation.id,
            state=conversation.state,
            queue=queue,
            agent=agent,
            offline=offline,
            closed_at=conversation.closed_at,
            reopen_until=conversation.reopen_until,
            feedback=FeedbackPublic(csat=feedback.csat, nps=feedback.nps, comment=feedback.comment)
            if feedback
            else None,
            last_seq=conversation.last_seq,
        )

    def leave_message(
        self,
        *,
        conversation_id: str,
        token: str | None,
        email: str,
        text: str,
        name: str | None = None,
    ) -> tuple[Ticket, list[ConversationEvent]]:
        email = email.strip()
        if not _EMAIL.match(email) or len(email) > 254:
            raise InvalidInputError(
                "that does not look like an email address", details=[{"code": "invalid_email"}]
            )
        cleaned = self.desk._text(text)
        with session_scope(self.engine) as session:
            conversation = authenticate(session, conversation_id, token)
            if conversation.state == ConversationState.closed:
                raise ConversationClosedError("the conversation is closed")
            # A signed identity stays as signed: the address typed here is the ticket's only.
            if not conversation.identity_verified:
                conversation.customer_email = email
                if name and name.strip():
                    conversation.customer_name = name.strip()[:128]
            session.add(conversation)
            message = append_event(
                session,
                conversation_id=conversation.id,
                type="message",
                author="customer",
                payload={"text": cleaned, "kind": "offline_message"},
            )
            ticket = Ticket(
                conversation_id=conversation.id,
                kind="offline",
                status="offline",
                reason=conversation.escalation_reason or "asked_for_person",
                language=conversation.language or "en",
                team=self.desk.config.default_team,
                # What agents read: masked as the policy says (the event keeps the raw text).
                summary=self.desk.config.pii.shown("agents", cleaned)[:200],
                customer_tier=trusted_tier(
                    conversation.customer_tier, verified=conversation.identity_verified
                ),
                offline_email=email,
                offline_message=self.desk.config.pii.shown("agents", cleaned),
            )
            session.add(ticket)
            session.flush()
            received = append_event(
                session,
                conversation_id=conversation.id,
                type="offline_message.received",
                author="system",
                payload={"email": email, "ticket_id": ticket.id},
            )
            return ticket, [message, received]

    def close(
        self, *, conversation_id: str, token: str | None
    ) -> tuple[StatusPublic, list[ConversationEvent]]:
        with session_scope(self.engine) as session:
            conversation = authenticate(session, conversation_id, token)
            if conversation.state == ConversationState.closed:
                return self._status(session, conversation), []
            ticket = open_ticket_of(session, conversation.id)
            if ticket is not None and ticket.kind == "live":
                resolution = "closed" if ticket.status == "active" else "abandoned"
                self.desk.finish_open_ticket(session, conversation.id, resolution)
            event = self.desk.close_conversation(session, conversation, by="customer")
            session.flush()
            return self._status(session, conversation), [event]

    def feedback(
        self,
        *,
        conversation_id: str,
        token: str | None,
        csat: int,
        nps: int | None,
        comment: str | None,
    ) -> tuple[FeedbackPublic, list[ConversationEvent]]:
        if not 1 <= csat <= 5:
            raise InvalidInputError("'csat' must be from 1 to 5")
        if nps is not None and not 0 <= nps <= 10:
            raise InvalidInputError("'nps' must be from 0 to 10")
        if comment is not None and len(comment) > MAX_COMMENT:
            raise InvalidInputError(f"the comment is longer than {MAX_COMMENT} characters")
        with session_scope(self.engine) as session:
            conversation = authenticate(session, conversation_id, token)
            if conversation.state != ConversationState.closed:
                raise NotClosedError("satisfaction is asked once the conversation is closed")
            if session.exec(
                select(Feedback).where(col(Feedback.conversation_id) == conversation.id)
            ).first():
                raise AlreadyRatedError("this conversation has already been rated")
            ticket = session.exec(
                select(Ticket)
                .where(
                    col(Ticket.conversation_id) == conversation.id,
                    col(Ticket.assigned_at).is_not(None),
                )
                .order_by(col(Ticket.id).desc())
            ).first()
            row = Feedback(
                conversation_id=conversation.id,
                ticket_id=ticket.id if ticket else None,
                agent_id=ticket.agent_id if ticket else None,
                person_handled=ticket is not None,
                csat=csat,
                nps=nps,
                comment=(comment or "").strip() or None,
            )
            session.add(row)
            event = append_event(
                session,
                conversation_id=conversation.id,
                type="feedback.received",
                author="system",
                payload={"csat": csat, "nps": nps},
            )
            return FeedbackPublic(csat=csat, nps=nps, comment=row.comment), [event]

    def reopen(
        self, *, conversation_id: str, token: str | None
    ) -> tuple[StatusPublic, list[ConversationEvent]]:
        """Within the window a closed chat comes back: to the queue if a person had it."""
        with session_scope(self.engine) as session:
            conversation = authenticate(session, conversation_id, token)
            events = self.reopen_in(session, conversation)
            return self._status(session, conversation), events

    def reopen_in(self, session: Session, conversation: Conversation) -> list[ConversationEvent]:
        """In the caller's transaction: the widget's reopen, and a channel's next message."""
        if conversation.state != ConversationState.closed:
            raise NotClosedError("the conversation is not closed")
        if conversation.reopen_until is None or utcnow() > conversation.reopen_until:
            raise ReopenWindowPassedError(
                "it is too late to reopen this conversation; start a new one"
            )
        last = session.exec(
            select(Ticket)
            .where(col(Ticket.conversation_id) == conversation.id)
            .order_by(col(Ticket.id).desc())
        ).first()
        conversation.state = ConversationState.bot
        conversation.closed_at = None
        conversation.reopen_until = None
        events = [
            append_event(
                session,
                conversation_id=conversation.id,
                type="conversation.reopened",
                author="system",
                payload={"state": ConversationState.bot},
            )
        ]
        if last is not None and last.assigned_at is not None and last.resolution == "closed":
            escalation = Escalation(
                "reopened",
                f"reopened after ticket {last.id}",
                conversation.language or "en",
                last.topic,
            )
            events += self.desk.escalate(session, conversation, escalation)
            reopened = open_ticket_of(session, conversation.id)
            if reopened is not None:
                reopened.reopened_from = last.id
                session.add(reopened)
        session.add(conversation)
        session.flush()
        return events
