"""E-mail continuity: a customer who left an address and went away gets what the desk (or the
bot) wrote them by e-mail, and may answer by e-mail.

The customer's widget records how far it has been shown the conversation
(``conversation.customer_seen_seq``: the socket sent it, or a REST read or send returned it).
An agent's or the bot's message past that mark was not seen. When a conversation's unseen
messages have been quiet for ``KEFU_CUSTOMER_REPLY_DELAY_SECONDS``, the dispatcher's leader
(looking every ``KEFU_MAIL_SWEEP_SECONDS`` beside its sweep) puts one mail in the mail outbox
(``core/mail_outbox.py``) holding them all in order, in the conversation's language.

Each mail gets a reply address of its own, ``reply+<token>@KEFU_INBOUND_MAIL_DOMAIN``, a row of
``email_reply_token`` (the token's SHA-256 only, the conversation, the last message mailed,
an expiry): what the customer sends there comes back into the conversation
(``channels/email_inbound.py``). The row is also the record of what was mailed: the next mail
starts after the highest ``up_to_seq``, and the unique (conversation, up_to_seq) makes two
processes (SQLite, where every process leads) write one mail.

A customer's own conversation goes to their own address, so the messages are not masked; the
outbox empties the body once the relay took it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import UniqueConstraint, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from bot.plain_text import numbered_text
from core.clock import utcnow
from core.conversations import Conversation, ConversationEvent
from core.db import UTCDateTime, session_scope
from core.mail_outbox import MailOutbox, MailSweep, enqueue_mail
from core.settings import Settings

__all__ = ["CustomerMail", "ReplyToken", "reply_token_hash", "sender_name"]

# Messages older than this when first seen unmailed are left alone: switching the feature on
# mails nobody about last month.
WINDOW = timedelta(days=2)
BATCH = 100
# Conversations whose customer may be mailed: the widget's, and those that began by e-mail.
MAILED_CHANNELS = ("web", "email")


class ReplyToken(SQLModel, table=True):
    __tablename__ = "email_reply_token"
    __table_args__ = (
        UniqueConstraint("conversation_id", "up_to_seq", name="uq_email_reply_token_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=32, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    # The last message this mail carried.
    up_to_seq: int
    message_id: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


def reply_token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().lower().encode()).hexdigest()


def sender_name(event: ConversationEvent, language: str) -> str:
    if event.author == "bot":
        return "智能客服" if language == "zh" else "Assistant"
    name = str(event.payload.get("agent") or "").strip()
    return name or ("客服" if language == "zh" else "Customer service")


@dataclass(frozen=True)
class _Rules:
    delay: timedelta
    token_ttl: timedelta
    domain: str


class CustomerMail(MailSweep):
    def __init__(
        self, engine: Engine, rules: _Rules, outbox: MailOutbox, *, every: float = 30.0
    ) -> None:
        super().__init__(engine, outbox, every=every)
        self.rules = rules

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> CustomerMail | None:
        """None when switched off or without a relay."""
        outbox = MailOutbox.from_settings(engine, settings)
        if outbox is None or not settings.customer_reply_emails:
            return None
        rules = _Rules(
            delay=timedelta(seconds=settings.customer_reply_delay_seconds),
            token_ttl=timedelta(days=settings.customer_reply_token_days),
            domain=settings.inbound_mail_domain,
        )
        return cls(engine, rules, outbox, every=settings.mail_sweep_seconds)

    # -- what is due ---------------------------------------------------------------------------

    @staticmethod
    def _unseen(now: datetime) -> tuple[Any, ...]:
        mailed = (
            select(func.coalesce(func.max(ReplyToken.up_to_seq), 0))
            .where(col(ReplyToken.conversation_id) == col(ConversationEvent.conversation_id))
            .scalar_subquery()
        )
        return (
            col(Conversation.id) == col(ConversationEvent.conversation_id),
            col(Conversation.customer_email).is_not(None),
            col(Conversation.channel).in_(MAILED_CHANNELS),
            col(ConversationEvent.type) == "message",
            col(ConversationEvent.internal).is_(False),
            col(ConversationEvent.author).not_in(["customer", "system"]),
            col(ConversationEvent.seq) > col(Conversation.customer_seen_seq),
            col(ConversationEvent.created_at) > now - WINDOW,
            col(ConversationEvent.seq) > mailed,
        )

    def _due(self, now: datetime) -> list[str]:
        """Conversations whose unseen messages have been quiet for the delay: a mail carries
        what the agent wrote in one go, not each line."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(ConversationEvent.conversation_id)
                .where(*self._unseen(now))
                .group_by(col(ConversationEvent.conversation_id))
                .having(func.max(ConversationEvent.created_at) <= now - self.rules.delay)
                .limit(BATCH)
            ).all()
        return list(rows)

    # -- one conversation's mail ---------------------------------------------------------------

    def _enqueue(self, conversation_id: str, now: datetime) -> bool:
        with session_scope(self.engine) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None or not conversation.customer_email:
                return False
            events = list(
                session.exec(
                    select(ConversationEvent)
                    .where(
                        col(ConversationEvent.conversation_id) == conversation_id,
                        *self._unseen(now),
                    )
                    .order_by(col(ConversationEvent.seq))
                ).all()
            )
            if not events or events[-1].created_at > now - self.rules.delay:
                return False
            previous = session.exec(
                select(ReplyToken)
                .where(col(ReplyToken.conversation_id) == conversation_id)
                .order_by(col(ReplyToken.up_to_seq).desc())
            ).first()
            up_to = events[-1].seq
            domain = self.rules.domain or "kefu.outbox"
            message_id = f"<kefu.{conversation_id}.{up_to}@{domain}>"
            token = secrets.token_hex(16)
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            made = session.execute(
                insert(ReplyToken)
                .values(
                    conversation_id=conversation_id,
                    token_hash=reply_token_hash(token),
                    up_to_seq=up_to,
                    message_id=message_id,
                    created_at=now,
                    expires_at=now + self.rules.token_ttl,
                )
                .on_conflict_do_nothing()
                .returning(col(ReplyToken.id))
            )
            if made.first() is None:
                return False  # another process mailed these messages
            language = "zh" if conversation.language == "zh" else "en"
            headers = {"Message-ID": message_id}
            if self.rules.domain:
                headers["Reply-To"] = f"reply+{token}@{self.rules.domain}"
            if previous is not None:
                headers["In-Reply-To"] = previous.message_id
                headers["References"] = previous.message_id
            subject, body = compose(events, language, can_reply=bool(self.rules.domain))
            return enqueue_mail(
                session,
                key=f"customer-reply:{conversation_id}:{up_to}",
                recipients=[conversation.customer_email],
                subject=subject,
                body=body,
                language=language,
                headers=headers,
                conversation_id=conversation_id,
            )

    def enqueue(self, now: datetime | None = None) -> int:
        """Put one mail per conversation with unseen messages in the outbox; how many."""
        now = now or utcnow()
        return sum(self._enqueue(conversation_id, now) for conversation_id in self._due(now))


def compose(events: list[ConversationEvent], language: str, *, can_reply: bool) -> tuple[str, str]:
    """The mail's subject and plain-text body: each message with who wrote it."""
    zh = language == "zh"
    parts: list[str] = []
    for event in events:
        name = sender_name(event, language)
        text = numbered_text(event.payload)
        parts.append(f"{name}：\n{text}" if zh else f"{name} wrote:\n{text}")
    if zh:
        subject = "回复：您的咨询"
        opening = "您好，我们回复了您的咨询："
        closing = "直接回复此邮件即可继续对话。" if can_reply else "如需继续，请回到网页聊天窗口。"
    else:
        subject = "Re: your conversation with us"
        opening = "Hello, we have answered you in your chat:"
        closing = (
            "Reply to this e-mail to answer; your reply goes to the same conversation."
            if can_reply
            else "To answer, open the chat on our site again."
        )
    body = "\n\n".join([opening, *parts, "—", closing])
    return subject, body + "\n"
