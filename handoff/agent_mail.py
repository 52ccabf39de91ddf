"""E-mail to the desk: a new offline message (and, if asked, a new live ticket) is mailed to
``KEFU_AGENT_NOTICE_EMAILS``, so a message left while nobody was online reaches someone.

The dispatcher's leader looks for such tickets every ``KEFU_MAIL_SWEEP_SECONDS`` beside its
sweep: each ticket opened in the last day that has no notice yet gets one mail per address in
the mail outbox (``core/mail_outbox.py``, keyed by ticket and address, so two looks or two
processes make one), which sends them with retries. Looking at the tickets rather than hooking
each path that opens one covers them all (the widget's offline form, the channels, an
escalation) and keeps mail off the chat's own transaction. Switching it on mails nothing older
than a day.

The mail leaves the product: every personal datum in it is masked whatever ``KEFU_PII_MASK``
says (the agent reads the message itself in the console), and the customer's address is
never in it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.conversations import Conversation
from core.db import session_scope
from core.mail_outbox import MailOutbox, MailSweep, OutboxMail, enqueue_mail
from core.pii import mask_personal_data
from core.settings import Settings

from .models import Ticket

__all__ = ["AgentMail", "notice_key"]

# Tickets older than this when first seen are not announced.
WINDOW = timedelta(days=1)
BATCH = 100


def notice_key(ticket_id: int, recipient: str) -> str:
    """One mail per recipient, so a relay that refuses one address delays only that one."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"agent-notice:ticket:{ticket_id}:{digest}"


@dataclass(frozen=True)
class _Rules:
    recipients: tuple[str, ...]
    live_tickets: bool
    console_url: str


class AgentMail(MailSweep):
    def __init__(
        self, engine: Engine, rules: _Rules, outbox: MailOutbox, *, every: float = 30.0
    ) -> None:
        super().__init__(engine, outbox, every=every)
        self.rules = rules

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> AgentMail | None:
        """None when there is nobody to tell or no relay to tell them through."""
        outbox = MailOutbox.from_settings(engine, settings)
        if outbox is None or not settings.agent_notice_emails:
            return None
        rules = _Rules(
            recipients=tuple(settings.agent_notice_emails),
            live_tickets=settings.agent_notice_live_tickets,
            console_url=f"{settings.resolved_public_url}/console",
        )
        return cls(engine, rules, outbox, every=settings.mail_sweep_seconds)

    def _unannounced(self, now: datetime) -> list[int]:
        kinds = ["offline", "live"] if self.rules.live_tickets else ["offline"]
        with Session(self.engine) as session:
            recent = session.exec(
                select(Ticket.id)
                .where(col(Ticket.created_at) > now - WINDOW, col(Ticket.kind).in_(kinds))
                .order_by(col(Ticket.id))
            ).all()
            ids = [ticket_id for ticket_id in recent if ticket_id is not None]
            keys = {i: [notice_key(i, to) for to in self.rules.recipients] for i in ids}
            wanted = [key for each in keys.values() for key in each]
            told = set(session.exec(select(OutboxMail.key).where(col(OutboxMail.key).in_(wanted))))
        return [i for i in ids if not told.issuperset(keys[i])][:BATCH]

    def _body(self, ticket: Ticket, conversation: Conversation | None) -> tuple[str, str]:
        offline = ticket.kind == "offline"
        what = "New offline message" if offline else "New chat waiting for an agent"
        subject = f"[kefu] {what} #{ticket.id} ({ticket.language}, {ticket.priority})"
        customer = (conversation.customer_name if conversation else None) or "a customer"
        text = ticket.offline_message if offline else ticket.summary
        lines = [
            f"{what} from {mask_personal_data(customer)}.",
            "",
            f"Ticket: #{ticket.id} ({ticket.kind}), priority {ticket.priority}, "
            f"team {ticket.team}, language {ticket.language}, reason {ticket.reason}",
            f"Channel: {conversation.channel if conversation else 'web'}",
            "",
            "Message (personal data masked):",
            *[f"  {line}" for line in mask_personal_data(text or "").splitlines() or ["—"]],
            "",
            f"Reply in the agent console: {self.rules.console_url}",
        ]
        return subject, "\n".join(lines) + "\n"

    def enqueue(self, now: datetime | None = None) -> int:
        """Put a notice of each new ticket in the outbox; how many were added."""
        made = 0
        for ticket_id in self._unannounced(now or utcnow()):
            with session_scope(self.engine) as session:
                ticket = session.get(Ticket, ticket_id)
                if ticket is None:
                    continue
                subject, body = self._body(
                    ticket, session.get(Conversation, ticket.conversation_id)
                )
                for recipient in self.rules.recipients:
                    enqueue_mail(
                        session,
                        key=notice_key(ticket_id, recipient),
                        recipients=[recipient],
                        subject=subject,
                        body=body,
                    )
                made += 1
        return made
