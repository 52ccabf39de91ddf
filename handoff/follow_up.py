"""The follow-up survey: ``KEFU_FOLLOW_UP_DAYS`` after a chat closes, the customer is asked
whether the problem stayed solved, by e-mail when an address is known and in the widget when
they come back (docs/handoff.md, "Follow-up survey").

A follow-up is a row per conversation, made when it falls due, about the conversation's latest
close only: a chat reopened and closed again is asked about later, from its new close. Rows are
made by the dispatcher leader's sweep (``FollowUps.sweep``) or, when the customer opens the
widget first, by the widget's call. E-mail is sent by the sweep: each row is claimed with a
lease by one conditional UPDATE (as bot turns are), so two processes never send the same one;
a failure is tried again with a doubling wait and given up after the last attempt, its error
kept. The answer, from the e-mail's link or the widget, is kept once and leaves an internal
event in the conversation for staff; "still need help" also tells the chat's agent and the
supervisors on their consoles.

The e-mail's links carry a random token of their own (kept as its SHA-256 only, as customer
tokens are), good for answering that one follow-up until it expires.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Literal, cast

import anyio.to_thread
from pydantic import BaseModel
from sqlalchemy import CursorResult, and_, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import utcnow
from core.conversations import (
    Conversation,
    ConversationEvent,
    ConversationState,
    append_event,
    authenticate,
)
from core.db import UTCDateTime, session_scope
from core.mailer import Mailer, MailError
from core.pii import mask_personal_data
from core.settings import Settings
from core.staff import Role

from .complaints import Notice, latest_ticket
from .errors import FollowUpAnsweredError, FollowUpExpiredError, NoFollowUpError
from .follow_up_text import ANSWERS, mail_parts
from .models import Ticket

__all__ = [
    "FollowUpPublic",
    "FollowUpRules",
    "FollowUpSurvey",
    "FollowUps",
    "LinkView",
    "SweepReport",
]

log = logging.getLogger("kefu.handoff.follow_up")

Answer = Literal["solved", "not_solved"]
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class FollowUpSurvey(SQLModel, table=True):
    """One conversation's follow-up: when it is due, its e-mail, and the answer."""

    __tablename__ = "follow_up_survey"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(
        foreign_key="conversation.id", max_length=32, unique=True, index=True
    )
    closed_at: datetime = Field(sa_type=UTCDateTime)  # the close it asks about
    due_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)  # answers are taken until then
    language: str = Field(default="en", max_length=8)
    # open (asked, or to be asked), answered, skipped (a close that is not asked about)
    status: str = Field(default="open", max_length=16, index=True)
    # none (no address or no SMTP), pending, sent, failed (given up)
    email_state: str = Field(default="none", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    token_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    shown_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, max_length=16)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_via: str | None = Field(default=None, max_length=16)  # email | widget
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class FollowUpRules:
    delay: timedelta | None  # None: follow-ups are off
    answer_window: timedelta
    batch: int = 20
    retry: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    lease: timedelta = timedelta(minutes=2)
    sweep_every: float = 60.0

    @classmethod
    def of(cls, settings: Settings) -> FollowUpRules:
        return cls(
            delay=timedelta(days=settings.follow_up_days) if settings.follow_up_days else None,
            answer_window=timedelta(days=settings.follow_up_answer_days),
            batch=settings.follow_up_batch,
            retry=timedelta(seconds=settings.follow_up_retry_seconds),
            max_attempts=settings.follow_up_max_attempts,
            # Long enough for a slow relay to answer; a crashed sender's row is free after it.
            lease=timedelta(seconds=max(60.0, settings.smtp_timeout_seconds * 6)),
            sweep_every=settings.follow_up_sweep_seconds,
        )


class FollowUpPublic(BaseModel):
    """What the widget is told: the close asked about, until when, and any answer."""

    conversation_id: str
    closed_at: datetime
    due_at: datetime
    expires_at: datetime
    language: str
    answer: str | None
    answered_at: datetime | None
    choices: tuple[str, ...] = ANSWERS

    @classmethod
    def of(cls, row: FollowUpSurvey) -> FollowUpPublic:
        return cls(
            conversation_id=row.conversation_id,
            closed_at=row.closed_at,
            due_at=row.due_at,
            expires_at=row.expires_at,
            language=row.language,
            answer=row.answer,
            answered_at=row.answered_at,
        )


@dataclass(frozen=True)
class LinkView:
    """What the answer page shows: ``state`` is open, answered or expired."""

    state: str
    language: str
    closed_at: datetime
    expires_at: datetime
    answer: str | None


@dataclass
class SweepReport:
    scheduled: int = 0
    sent: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Outgoing:
    id: int
    conversation_id: str
    to: str
    name: str | None
    language: str
    closed_at: datetime
    expires_at: datetime
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def recipient(session: Session, conversation: Conversation) -> str | None:
    """An address we may write to: the one a signed identity gave, or one the customer typed
    into an offline message in this chat. An unsigned widget attribute is anyone's claim, so
    it is never mailed (the widget asks instead)."""
    if conversation.identity_verified and conversation.customer_email:
        return conversation.customer_email
    return session.exec(
        select(Ticket.offline_email)
        .where(
            col(Ticket.conversation_id) == conversation.id,
            col(Ticket.offline_email).is_not(None),
        )
        .order_by(col(Ticket.id).desc())
        .limit(1)
    ).first()


def _qualifies(session: Session, conversation: Conversation) -> bool:
    """A close is asked about when the customer wrote, and did not give up waiting for a
    person (a ticket closed ``abandoned``): that problem was never solved to ask about."""
    wrote = session.exec(
        select(ConversationEvent.id)
        .where(
            col(ConversationEvent.conversation_id) == conversation.id,
            col(ConversationEvent.type) == "message",
            col(ConversationEvent.author) == "customer",
        )
        .limit(1)
    ).first()
    ticket = latest_ticket(session, conversation.id)
    return wrote is not None and (ticket is None or ticket.resolution != "abandoned")


class FollowUps:
    def __init__(
        self, engine: Engine, rules: FollowUpRules, mailer: Mailer | None, public_url: str
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.mailer = mailer
        self.public_url = public_url.rstrip("/")

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> FollowUps:
        mailer = Mailer.from_url(
            settings.smtp_url, settings.smtp_from, timeout=settings.smtp_timeout_seconds
        )
        return cls(engine, FollowUpRules.of(settings), mailer, settings.resolved_public_url)

    # -- scheduling ------------------------------------------------------------------------------

    def _ensure(
        self, session: Session, conversation: Conversation, now: datetime
    ) -> FollowUpSurvey | None:
        """The follow-up of the conversation's latest close, made or brought up to date once it
        is due; None before then, or when follow-ups are off or the chat is open."""
        delay = self.rules.delay
        closed = conversation.closed_at
        if delay is None or conversation.state != ConversationState.closed or closed is None:
            return None
        if closed + delay > now:
            return None
        row = session.exec(
            select(FollowUpSurvey).where(col(FollowUpSurvey.conversation_id) == conversation.id)
        ).first()
        if row is not None and (row.closed_at == closed or row.status == "answered"):
            return row
        due = closed + delay
        asked = _qualifies(session, conversation)
        mail = asked and self.mailer is not None and recipient(session, conversation) is not None
        row = row or FollowUpSurvey(
            conversation_id=conversation.id, closed_at=closed, due_at=due, expires_at=due
        )
        row.closed_at, row.due_at = closed, due
        row.expires_at = due + self.rules.answer_window
        row.language = "zh" if (conversation.language or "").startswith("zh") else "en"
        row.status = "open" if asked else "skipped"
        row.email_state = "pending" if mail else "none"
        row.attempts, row.next_attempt_at, row.lease_until = 0, due, None
        row.sent_at = row.last_error = row.token_hash = row.shown_at = None
        session.add(row)
        session.flush()
        return row

    def schedule(self, now: datetime | None = None) -> int:
        """Make the follow-ups that fell due since the last look; how many."""
        now = now or utcnow()
        if self.rules.delay is None:
            return 0
        cutoff = now - self.rules.delay
        with Session(self.engine) as session:
            found = session.exec(
                select(Conversation.id, Conversation.closed_at, FollowUpSurvey.closed_at)
                .join(
                    FollowUpSurvey,
                    col(FollowUpSurvey.conversation_id) == col(Conversation.id),
                    isouter=True,
                )
                .where(
                    col(Conversation.state) == ConversationState.closed,
                    col(Conversation.closed_at) <= cutoff,
                    # Older closes would be asked after their answers stopped being taken.
                    col(Conversation.closed_at) > cutoff - self.rules.answer_window,
                    or_(
                        col(FollowUpSurvey.id).is_(None),
                        and_(
                            col(FollowUpSurvey.status) != "answered",
                            col(FollowUpSurvey.closed_at) != col(Conversation.closed_at),
                        ),
                    ),
                )
            ).all()
        made = 0
        for conversation_id, closed, asked_about in found:
            if asked_about == closed:
                continue
            try:
                with session_scope(self.engine) as session:
                    conversation = session.get(Conversation, conversation_id)
                    if conversation is not None and self._ensure(session, conversation, now):
                        made += 1
            except IntegrityError:
                continue  # the customer's widget or another process made it meanwhile
        return made

    # -- e-mail ----------------------------------------------------------------------------------

    def _claim(self, now: datetime) -> list[_Outgoing]:
        """Up to one batch of due e-mails, each leased to this caller by a conditional UPDATE."""
        free = or_(col(FollowUpSurvey.lease_until).is_(None), col(FollowUpSurvey.lease_until) < now)
        claimed: list[_Outgoing] = []
        with Session(self.engine) as session:
            ids = session.exec(
                select(FollowUpSurvey.id)
                .where(
                    col(FollowUpSurvey.email_state) == "pending",
                    col(FollowUpSurvey.status) == "open",
                    col(FollowUpSurvey.next_attempt_at) <= now,
                    col(FollowUpSurvey.expires_at) > now,
                    free,
                )
                .order_by(col(FollowUpSurvey.next_attempt_at))
                .limit(self.rules.batch)
            ).all()
        for follow_up_id in ids:
            token = secrets.token_urlsafe(32)
            with session_scope(self.engine) as session:
                taken = session.execute(
                    update(FollowUpSurvey)
                    .where(
                        col(FollowUpSurvey.id) == follow_up_id,
                        col(FollowUpSurvey.email_state) == "pending",
                        col(FollowUpSurvey.status) == "open",
                        free,
                    )
                    .values(
                        lease_until=now + self.rules.lease,
                        attempts=FollowUpSurvey.attempts + 1,
                        # A new link with each attempt: an earlier mail's link stops working.
                        token_hash=_hash(token),
                    )
                )
                if _rowcount(taken) != 1:
                    continue  # another process has it
                row = session.get(FollowUpSurvey, follow_up_id)
                conversation = session.get(Conversation, row.conversation_id) if row else None
                to = recipient(session, conversation) if conversation else None
                # Reopened since (a later close makes it due again, from then) or no address.
                current = conversation is not None and (
                    conversation.state == ConversationState.closed
                    and conversation.closed_at == (row.closed_at if row else None)
                )
                if row is None or conversation is None or to is None or not current:
                    if row is not None:
                        row.email_state, row.lease_until = "none", None
                        session.add(row)
                    continue
                claimed.append(
                    _Outgoing(
                        id=follow_up_id or 0,
                        conversation_id=row.conversation_id,
                        to=to,
                        name=conversation.customer_name,
                        language=row.language,
                        closed_at=row.closed_at,
                        expires_at=row.expires_at,
                        token=token,
                    )
                )
        return claimed

    def _message(self, outgoing: _Outgoing, now: datetime) -> EmailMessage:
        link = f"{self.public_url}/survey/follow-up/{outgoing.token}"
        subject, plain, html = mail_parts(
            outgoing.language,
            name=outgoing.name,
            closed=outgoing.closed_at.strftime("%Y-%m-%d"),
            expires=outgoing.expires_at.strftime("%Y-%m-%d"),
            links={answer: f"{link}?answer={answer}" for answer in ANSWERS},
        )
        message = EmailMessage()
        message["Subject"] = subject
        message["To"] = outgoing.to
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain="kefu.follow-up")
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        message["Content-Language"] = "zh-CN" if outgoing.language == "zh" else "en"
        message.set_content(plain)
        message.add_alternative(html, subtype="html")
        return message

    def _sent(self, follow_up_id: int, now: datetime) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                update(FollowUpSurvey)
                .where(col(FollowUpSurvey.id) == follow_up_id)
                .values(email_state="sent", sent_at=now, lease_until=None, last_error=None)
            )

    def _failed(self, follow_up_id: int, error: MailError, now: datetime) -> bool:
        """Record a failed attempt; True when it was the last one."""
        with session_scope(self.engine) as session:
            row = session.get(FollowUpSurvey, follow_up_id)
            if row is None:
                return True
            last = error.permanent or row.attempts >= self.rules.max_attempts
            row.last_error = mask_personal_data(str(error))[:500]
            row.lease_until = None
            if last:
                row.email_state = "failed"
            else:
                row.next_attempt_at = now + self.rules.retry * 2 ** (row.attempts - 1)
            session.add(row)
            return last

    async def sweep(self, now: datetime | None = None) -> SweepReport:
        """Schedule what fell due, then send one batch of due e-mails; the dispatcher's leader
        calls this every ``KEFU_FOLLOW_UP_SWEEP_SECONDS``."""
        report = SweepReport()
        now = now or utcnow()
        report.scheduled = await anyio.to_thread.run_sync(self.schedule, now)
        if self.mailer is None:
            return report
        mailer = self.mailer
        for outgoing in await anyio.to_thread.run_sync(self._claim, now):
            message = self._message(outgoing, now)
            try:
                await anyio.to_thread.run_sync(mailer.send, message)
            except MailError as exc:
                last = await anyio.to_thread.run_sync(self._failed, outgoing.id, exc, utcnow())
                report.failed += 1
                # The follow-up's id only: the address is personal data.
                log.warning(
                    "follow-up %s: e-mail failed (%s)%s",
                    outgoing.id,
                    exc,
                    "; giving up" if last else "; will try again",
                )
                continue
            await anyio.to_thread.run_sync(self._sent, outgoing.id, utcnow())
            report.sent += 1
        return report

    # -- answers ---------------------------------------------------------------------------------

    def _answer(
        self, session: Session, row: FollowUpSurvey, answer: str, via: str, now: datetime
    ) -> tuple[list[ConversationEvent], list[Notice]]:
        if row.answer is not None:
            raise FollowUpAnsweredError(
                f"this follow-up was answered already ({row.answer}); the first answer stays"
            )
        if now >= row.expires_at:
            raise FollowUpExpiredError(
                f"answers to this follow-up were taken until {row.expires_at.isoformat()}"
            )
        row.status, row.answer, row.answered_at, row.answered_via = "answered", answer, now, via
        session.add(row)
        event = append_event(
            session,
            conversation_id=row.conversation_id,
            type="follow_up.answered",
            author="system",
            payload={"answer": answer, "via": via, "closed_at": row.closed_at.isoformat()},
            internal=True,
        )
        notices: list[Notice] = []
        if answer == "not_solved":
            ticket = latest_ticket(session, row.conversation_id)
            conversation = session.get(Conversation, row.conversation_id)
            frame = {
                "type": "follow_up.not_solved",
                "conversation_id": row.conversation_id,
                "ticket_id": ticket.id if ticket else None,
                "customer_name": conversation.customer_name if conversation else None,
                "closed_at": row.closed_at.isoformat(),
            }
            owner = (ticket.agent_id,) if ticket and ticket.agent_id else ()
            notices.append(Notice(frame, owner, (Role.supervisor.value, Role.admin.value)))
        return [event], notices

    def for_widget(
        self, *, conversation_id: str, token: str | None, now: datetime | None = None
    ) -> FollowUpPublic | None:
        """The conversation's due follow-up, if any; marks it shown (it counts as asked)."""
        now = now or utcnow()
        for _attempt in range(2):
            try:
                with session_scope(self.engine) as session:
                    conversation = authenticate(session, conversation_id, token)
                    row = self._ensure(session, conversation, now)
                    if row is None or row.status == "skipped" or now >= row.expires_at:
                        return None
                    if row.answer is None and row.shown_at is None:
                        row.shown_at = now
                        session.add(row)
                    return FollowUpPublic.of(row)
            except IntegrityError:
                continue  # made by the sweep meanwhile: read it
        return None

    def answer_in_widget(
        self, *, conversation_id: str, token: str | None, answer: Answer
    ) -> tuple[FollowUpPublic, list[ConversationEvent], list[Notice]]:
        now = utcnow()
        with session_scope(self.engine) as session:
            conversation = authenticate(session, conversation_id, token)
            row = self._ensure(session, conversation, now)
            if row is None or row.status == "skipped":
                raise NoFollowUpError("this conversation has no follow-up to answer")
            events, notices = self._answer(session, row, answer, "widget", now)
            return FollowUpPublic.of(row), events, notices

    def _by_token(self, session: Session, token: str) -> FollowUpSurvey:
        if not 16 <= len(token) <= 128 or not set(token) <= _TOKEN_CHARS:
            raise NoFollowUpError("this link is not valid")
        row = session.exec(
            select(FollowUpSurvey).where(col(FollowUpSurvey.token_hash) == _hash(token))
        ).first()
        if row is None or row.status == "skipped":
            raise NoFollowUpError("this link is not valid")
        return row

    def view_link(self, token: str, now: datetime | None = None) -> LinkView:
        now = now or utcnow()
        with Session(self.engine) as session:
            row = self._by_token(session, token)
            state = "answered" if row.answer else "expired" if now >= row.expires_at else "open"
            return LinkView(state, row.language, row.closed_at, row.expires_at, row.answer)

    def answer_by_link(
        self, token: str, answer: Answer
    ) -> tuple[LinkView, list[ConversationEvent], list[Notice]]:
        now = utcnow()
        with session_scope(self.engine) as session:
            row = self._by_token(session, token)
            events, notices = self._answer(session, row, answer, "email", now)
            view = LinkView("answered", row.language, row.closed_at, row.expires_at, answer)
            return view, events, notices
