"""An app's messages through its API channel: the contact, their conversation, the message.

One transaction per message, as the widget's: the contact is found or created (and locked,
so two messages of one contact take turns), their conversation found, reopened or started,
the message stored through ``ChatService.append_customer_message`` (with the bot's pending
turn when the bot has the conversation) and the idempotency key recorded. The caller then
publishes and takes the bot's turn exactly as the widget's REST send does.

The contact's conversation: their current one while it is open; a closed one within its
reopening window is reopened (back to a person if one had it); otherwise a new one, with the
channel's kind and id and the contact's name and e-mail as unverified claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.chat import ChatService
from bot.turns import PendingBotTurn
from core.clock import utcnow
from core.conversations import (
    EVENTS_PAGE,
    Conversation,
    ConversationEvent,
    ConversationState,
    EventPublic,
    events_after,
    new_conversation,
)
from core.db import session_scope
from core.errors import InvalidInputError, KefuError, NotFoundError
from handoff.customer import CustomerDesk

from .idempotency import ChannelMessageKey, find_key, fingerprint, remember_response
from .models import Channel, ChannelContact, ChannelKind
from .schemas import ContactIn, InboundMessage, InboundResponse

__all__ = [
    "IdempotencyKeyReusedError",
    "InboundService",
    "Received",
    "RequestInProgressError",
    "UnknownContactError",
]

# Races lost to a unique constraint (a key or a contact another request created first) are
# retried; the second try finds the winner's row.
_ATTEMPTS = 3


class IdempotencyKeyReusedError(InvalidInputError):
    code = "idempotency_key_reused"


class RequestInProgressError(KefuError):
    code = "request_in_progress"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still being answered; retry shortly",
            details=[{"code": "request_in_progress", "retry_after": 1}],
            headers={"Retry-After": "1"},
        )


class UnknownContactError(NotFoundError):
    code = "unknown_contact"


@dataclass(frozen=True)
class Received:
    """A message stored now (``created``), or the one an earlier request with the same key
    stored (``response``: what that request answered, once it has)."""

    conversation_id: str
    contact_id: str
    message: ConversationEvent
    # What to publish after the commit: a reopening's events, then the message.
    events: list[ConversationEvent]
    created: bool
    key_id: int | None = None
    response: dict[str, Any] | None = None


class InboundService:
    def __init__(
        self,
        engine: Engine,
        *,
        chat: ChatService,
        customers: CustomerDesk,
        token_ttl: timedelta,
    ) -> None:
        self._engine = engine
        self._chat = chat
        self._customers = customers
        self._token_ttl = token_ttl

    def receive(self, channel: Channel, body: InboundMessage, key: str | None) -> Received:
        text = self._chat.validate_text(body.text)
        _check_contact(body.contact)
        digest = fingerprint(body.model_dump(mode="json"))
        for attempt in range(_ATTEMPTS):
            try:
                return self._receive(channel, body, text, key, digest)
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _receive(
        self, channel: Channel, body: InboundMessage, text: str, key: str | None, digest: str
    ) -> Received:
        channel_id = channel.id or 0
        with session_scope(self._engine) as session:
            if key and (earlier := _replay(session, channel_id, key, digest)) is not None:
                return earlier
            contact = _lock_contact(session, channel_id, body.contact)
            # A request of this contact with the same key may have committed while we waited.
            if key and (earlier := _replay(session, channel_id, key, digest)) is not None:
                return earlier
            conversation, events = self._conversation_of(session, channel, contact, body)
            message, _ = self._chat.append_customer_message(
                session, conversation, text, numbered=channel.kind == ChannelKind.wechat
            )
            key_id = None
            if key:
                row = ChannelMessageKey(
                    channel_id=channel_id,
                    key=key,
                    request_hash=digest,
                    conversation_id=conversation.id,
                    message_seq=message.seq,
                )
                session.add(row)
                session.flush()
                key_id = row.id
            return Received(
                conversation.id, contact.external_id, message, [*events, message], True, key_id
            )

    def _conversation_of(
        self, session: Session, channel: Channel, contact: ChannelContact, body: InboundMessage
    ) -> tuple[Conversation, list[ConversationEvent]]:
        current = session.get(Conversation, contact.conversation_id or "")
        if current is not None and current.state != ConversationState.closed:
            return current, []
        if current is not None and current.reopen_until and utcnow() <= current.reopen_until:
            return current, self._customers.reopen_in(session, current)
        conversation, _token = new_conversation(
            session,
            token_ttl=self._token_ttl,
            language=body.language,
            name=contact.name,
            email=contact.email,
        )
        # The customer's token is never handed out: an API contact has no widget to use it.
        conversation.channel = channel.kind
        conversation.channel_id = channel.id
        session.add(conversation)
        contact.conversation_id = conversation.id
        session.add(contact)
        session.flush()
        return conversation, []

    def stored_response(self, key_id: int) -> dict[str, Any] | None:
        with Session(self._engine) as session:
            row = session.get(ChannelMessageKey, key_id)
            return None if row is None else row.response

    def remember(self, key_id: int, response: dict[str, Any]) -> None:
        with session_scope(self._engine) as session:
            remember_response(session, key_id, response)

    def settle(self, key_id: int) -> dict[str, Any] | None:
        """For a retry whose first request never answered (its process died after the commit):
        once no turn is owed for the message, the response built from the database, i.e. the
        message and the bot's and system's events after it up to the customer's next message;
        None while a turn is still owed. The first response stored is the one every retry
        gets."""
        with session_scope(self._engine) as session:
            row = session.get(ChannelMessageKey, key_id)
            if row is None or row.response is not None:
                return None if row is None else row.response
            pending = session.get(PendingBotTurn, (row.conversation_id, row.message_seq))
            if pending is not None:
                return None
            contact = session.exec(
                select(ChannelContact).where(
                    col(ChannelContact.channel_id) == row.channel_id,
                    col(ChannelContact.conversation_id) == row.conversation_id,
                )
            ).first()
            events = events_after(session, row.conversation_id, row.message_seq - 1)
            replies: list[ConversationEvent] = []
            for event in events[1:]:
                if event.author == "customer":
                    break
                if event.author in {"bot", "system"}:
                    replies.append(event)
            response = respond(
                row.conversation_id, contact.external_id if contact else "", events[0], replies
            )
            remember_response(session, key_id, response)
        return self.stored_response(key_id)

    def contact_events(
        self, channel: Channel, contact_id: str, *, after: int
    ) -> tuple[str | None, list[ConversationEvent]]:
        """One page of the contact's current conversation past ``after``, as its customer sees
        it (agents' notes left out)."""
        with Session(self._engine) as session:
            contact = session.exec(
                select(ChannelContact).where(
                    col(ChannelContact.channel_id) == channel.id,
                    col(ChannelContact.external_id) == contact_id,
                )
            ).first()
            if contact is None:
                raise UnknownContactError(f"the channel knows no contact {contact_id!r}")
            if contact.conversation_id is None:
                return None, []
            events = events_after(session, contact.conversation_id, after, limit=EVENTS_PAGE + 1)
            return contact.conversation_id, events


def respond(
    conversation_id: str,
    contact_id: str,
    message: ConversationEvent,
    replies: list[ConversationEvent],
) -> dict[str, Any]:
    """The response body, as stored for retries: staff-only events of the turn stay out."""
    return InboundResponse(
        conversation_id=conversation_id,
        contact_id=contact_id,
        message=EventPublic.of(message),
        replies=[EventPublic.of(e) for e in replies if not e.internal],
    ).model_dump(mode="json")


def _check_contact(contact: ContactIn) -> None:
    if not contact.id.strip():
        raise InvalidInputError(
            "'contact.id' must not be blank",
            details=[{"code": "invalid_contact", "field": "contact.id"}],
        )
    email = contact.email
    if email is not None and ("@" not in email[1:-1] or any(c.isspace() for c in email)):
        raise InvalidInputError(
            "'contact.email' is not an e-mail address",
            details=[{"code": "invalid_email", "field": "contact.email"}],
        )


def _replay(session: Session, channel_id: int, key: str, digest: str) -> Received | None:
    row = find_key(session, channel_id, key)
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was used with a different request",
            details=[{"code": "idempotency_key_reused", "field": "Idempotency-Key"}],
        )
    message = session.exec(
        select(ConversationEvent).where(
            col(ConversationEvent.conversation_id) == row.conversation_id,
            col(ConversationEvent.seq) == row.message_seq,
        )
    ).one()
    contact_id = str((row.response or {}).get("contact_id", ""))
    return Received(row.conversation_id, contact_id, message, [], False, row.id, row.response)


def _lock_contact(session: Session, channel_id: int, given: ContactIn) -> ChannelContact:
    """The contact, created if new, its name and e-mail updated when given. The UPDATE comes
    first: it holds the row (PostgreSQL) or the database (SQLite) until the commit, so one
    contact's messages take turns choosing the conversation."""
    changes: dict[str, Any] = {"updated_at": utcnow()}
    if given.name is not None:
        changes["name"] = given.name
    if given.email is not None:
        changes["email"] = given.email
    updated = session.execute(
        update(ChannelContact)
        .where(
            col(ChannelContact.channel_id) == channel_id,
            col(ChannelContact.external_id) == given.id,
        )
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], updated).rowcount == 0:
        contact = ChannelContact(
            channel_id=channel_id, external_id=given.id, name=given.name, email=given.email
        )
        session.add(contact)
        session.flush()  # a contact created meanwhile: IntegrityError, and the caller retries
        return contact
    contact = session.exec(
        select(ChannelContact).where(
            col(ChannelContact.channel_id) == channel_id,
            col(ChannelContact.external_id) == given.id,
        )
    ).one()
    conversation = session.get(Conversation, contact.conversation_id or "")
    if conversation is not None and (given.name is not None or given.email is not None):
        conversation.customer_name = contact.name
        conversation.customer_email = contact.email
        session.add(conversation)
    return contact
