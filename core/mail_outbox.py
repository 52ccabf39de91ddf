"""Mail that must go out, kept in the database until a relay has taken it.

``enqueue_mail`` adds a message under a unique ``key`` in the caller's transaction (a second
enqueue of the key changes nothing), so whatever decided to write it and the message commit
together. ``MailOutbox.send_due`` leases due messages with one conditional UPDATE each, sends
them through the ``Mailer``, and records the outcome: sent; or tried again after
``retry``, doubled each time; or failed for good after ``max_attempts`` or a 5xx. A process
killed between the relay's acceptance and the record sends that message again when its lease
runs out: at least once. Once a message is sent or given up, its body is emptied: the
database keeps that a mail went, and to whom, not what it said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, cast

import anyio
from sqlalchemy import JSON, Column, CursorResult, Text, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from .clock import utcnow
from .db import UTCDateTime, session_scope
from .mailer import Mailer, MailError
from .pii import mask_personal_data
from .settings import Settings

__all__ = ["MailOutbox", "MailRules", "MailSweep", "OutboxMail", "enqueue_mail"]


class OutboxMail(SQLModel, table=True):
    __tablename__ = "mail_outbox"

    id: int | None = Field(default=None, primary_key=True)
    # What the mail is about, unique: ``agent-notice:ticket:42``.
    key: str = Field(max_length=128, unique=True, index=True)
    # The conversation a mail to its customer belongs to (goes with it at purge and erasure).
    conversation_id: str | None = Field(default=None, max_length=32, index=True)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(default="en", max_length=8)
    # Headers beside the outbox's own: Reply-To, Message-ID, In-Reply-To, References.
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="pending", max_length=16, index=True)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def enqueue_mail(
    session: Session,
    *,
    key: str,
    recipients: list[str],
    subject: str,
    body: str,
    language: str = "en",
    headers: dict[str, str] | None = None,
    conversation_id: str | None = None,
) -> bool:
    """Add a message unless one with ``key`` exists (in any state); True when added."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    added = session.execute(
        insert(OutboxMail)
        .values(
            key=key,
            conversation_id=conversation_id,
            recipients=recipients,
            subject=subject[:300],
            body=body,
            language=language,
            headers=dict(headers or {}),
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(col(OutboxMail.id))
    )
    return added.first() is not None


@dataclass(frozen=True)
class MailRules:
    retry: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    batch: int = 20
    lease: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipients: list[str]
    subject: str
    body: str
    language: str
    headers: dict[str, str]


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


class MailOutbox:
    def __init__(self, engine: Engine, mailer: Mailer, rules: MailRules) -> None:
        self.engine = engine
        self.mailer = mailer
        self.rules = rules

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> MailOutbox | None:
        """The outbox through ``KEFU_SMTP_URL``; None without a relay or a sender."""
        mailer = Mailer.from_url(
            settings.smtp_url, settings.smtp_from, timeout=settings.smtp_timeout_seconds
        )
        if mailer is None:
            return None
        rules = MailRules(
            retry=timedelta(seconds=settings.mail_retry_seconds),
            max_attempts=settings.mail_max_attempts,
        )
        return cls(engine, mailer, rules)

    def _claim(self, now: datetime) -> list[_Claimed]:
        free = or_(col(OutboxMail.lease_until).is_(None), col(OutboxMail.lease_until) < now)
        due = (col(OutboxMail.state) == "pending", col(OutboxMail.next_attempt_at) <= now, free)
        with Session(self.engine) as session:
            ids = session.exec(
                select(OutboxMail.id)
                .where(*due)
                .order_by(col(OutboxMail.next_attempt_at))
                .limit(self.rules.batch)
            ).all()
        claimed: list[_Claimed] = []
        for mail_id in ids:
            with session_scope(self.engine) as session:
                taken = session.execute(
                    update(OutboxMail)
                    .where(col(OutboxMail.id) == mail_id, *due)
                    .values(lease_until=now + self.rules.lease, attempts=OutboxMail.attempts + 1)
                )
                row = session.get(OutboxMail, mail_id) if _rowcount(taken) == 1 else None
                if row is not None:
                    claimed.append(
                        _Claimed(
                            row.id or 0,
                            list(row.recipients),
                            row.subject,
                            row.body,
                            row.language,
                            dict(row.headers or {}),
                        )
                    )
        return claimed

    def _message(self, mail: _Claimed) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = mail.subject
        message["To"] = ", ".join(mail.recipients)
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain="kefu.outbox")
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        for name, value in mail.headers.items():
            del message[name]
            message[name] = value
        message.set_content(mail.body)
        # After the content: set_content replaces every Content-* header.
        message["Content-Language"] = "zh-CN" if mail.language == "zh" else "en"
        return message

    def _record(self, mail_id: int, error: MailError | None) -> None:
        now = utcnow()
        with session_scope(self.engine) as session:
            row = session.get(OutboxMail, mail_id)
            if row is None:
                return
            row.lease_until = None
            if error is None:
                row.state, row.sent_at, row.last_error = "sent", now, None
            else:
                row.last_error = mask_personal_data(str(error))[:500]
                if error.permanent or row.attempts >= self.rules.max_attempts:
                    row.state = "failed"
                else:
                    row.next_attempt_at = now + self.rules.retry * 2 ** (row.attempts - 1)
            if row.state != "pending":
                # Done with: what the customer wrote leaves the database with the mail.
                row.body = ""
            session.add(row)

    async def send_due(self) -> tuple[int, int]:
        """One batch of due mail; (sent, failed attempts)."""
        sent = failed = 0
        for mail in await anyio.to_thread.run_sync(self._claim, utcnow()):
            error: MailError | None = None
            try:
                await anyio.to_thread.run_sync(self.mailer.send, self._message(mail))
            except MailError as exc:
                error = exc
            await anyio.to_thread.run_sync(self._record, mail.id, error)
            sent, failed = (sent + 1, failed) if error is None else (sent, failed + 1)
        return sent, failed


class MailSweep:
    """A kind of mail the dispatcher's leader writes beside its sweep, every ``every``
    seconds: ``enqueue`` puts what is due in the outbox, then one batch is sent."""

    def __init__(self, engine: Engine, outbox: MailOutbox, *, every: float) -> None:
        self.engine = engine
        self.outbox = outbox
        self.every = every

    def enqueue(self) -> int:
        """Put what is due in the outbox; how many mails were added."""
        raise NotImplementedError

    async def sweep(self) -> tuple[int, int, int]:
        """Enqueue what is due, then send batches until one is not full (a busy desk's mail
        does not wait a pass per batch): (enqueued, sent, failed attempts)."""
        made = await anyio.to_thread.run_sync(self.enqueue)
        sent = failed = 0
        while True:
            batch_sent, batch_failed = await self.outbox.send_due()
            sent, failed = sent + batch_sent, failed + batch_failed
            if batch_sent + batch_failed < self.outbox.rules.batch:
                return made, sent, failed
