"""A customer's answer by e-mail: the mail sent to a reply address becomes their next message.

Every mail ``handoff/customer_mail.py`` sends a customer has its own reply address,
``reply+<token>@KEFU_INBOUND_MAIL_DOMAIN``. ``EmailInbound.receive`` takes a mail delivered to
one (by the SMTP listener, ``channels/email_listener.py``) and:

- refuses it, changing nothing, when the address is unknown or expired, the sender is not the
  conversation's customer, the mail is too big, has no text, or its text is longer than a chat
  message may be (each a ``KefuError`` whose code the listener turns into an SMTP reply);
- drops an automatic reply (``Auto-Submitted`` other than ``no``, ``Precedence`` bulk, junk
  or list): a customer's out-of-office must not talk to the bot;
- reads the text: the plain part (or the HTML part as text), without the quoted mail it
  answers (mail-parser-reply for the reply headers and signatures of each language, then every
  ``>`` line, "On … wrote:" / "在…写道：" line and what follows a "-- " signature line);
- stores it as the customer's message through ``ChatService.append_customer_message``, the
  widget's path, keyed by the mail's Message-ID, so the same mail delivered twice is one
  message. A closed conversation is reopened (back to a person if one had it) within its
  window, and refused after it.

The caller publishes the events and takes the bot's turn when one is owed, as the REST send
does; the bot's answer then goes out by e-mail, since no widget showed it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses

from bs4 import BeautifulSoup
from mailparser_reply import EmailReplyParser
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.chat import ChatService
from core.clock import utcnow
from core.conversations import (
    Conversation,
    ConversationEvent,
    ConversationState,
    find_client_event,
)
from core.db import session_scope
from core.errors import InvalidInputError, KefuError, NotFoundError
from handoff.customer import CustomerDesk
from handoff.customer_mail import ReplyToken, reply_token_hash

__all__ = [
    "EmailInbound",
    "MailReceived",
    "MailTooLargeError",
    "SenderMismatchError",
    "UnknownReplyAddressError",
    "mail_text",
]

_TOKEN = re.compile(r"^reply\+([0-9a-f]{32})$")
# The quoted mail's header line in the replies of common clients, and quoted lines.
_QUOTE_HEADER = re.compile(
    r"^\s*(on\s.*\swrote:|在.*写道[:：]|.*\d{4}年\d{1,2}月\d{1,2}日.*[:：]"
    r"|-{2,}\s*original message\s*-{2,})\s*$",
    re.IGNORECASE,
)
_REPLIES = EmailReplyParser(languages=["en", "zh"])


class UnknownReplyAddressError(NotFoundError):
    code = "unknown_reply_address"


class SenderMismatchError(KefuError):
    code = "sender_mismatch"
    status = 403


class MailTooLargeError(KefuError):
    code = "mail_too_large"
    status = 413


class InvalidMailError(InvalidInputError):
    code = "invalid_mail"


@dataclass(frozen=True)
class MailReceived:
    """What a mail became: nothing (an automatic reply), or the message and the events to
    publish; ``created`` is false for a mail seen before."""

    conversation_id: str | None
    message: ConversationEvent | None
    events: list[ConversationEvent]
    created: bool
    turn_owed: bool


def token_of(address: str, domain: str) -> str | None:
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not at or host.lower() != domain:
        return None
    match = _TOKEN.match(local.lower())
    return match.group(1) if match else None


def mail_text(message: EmailMessage) -> str:
    """The customer's own words: the mail's text without the mail it quotes."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError) as exc:
        raise InvalidMailError(f"the mail's text cannot be read ({exc})") from exc
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = _html_text(content)
    content = content.replace("\r\n", "\n")
    reply = _REPLIES.parse_reply(content) or ""
    kept: list[str] = []
    for line in reply.splitlines():
        if re.fullmatch(r"-- ?", line):
            break  # the signature separator (RFC 3676)
        if not line.lstrip().startswith(">") and not _QUOTE_HEADER.match(line):
            kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


# Elements that end a line, and the quoted mail of webmail and Outlook replies.
_BLOCKS = ["br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table"]
_QUOTED = ["blockquote", ".gmail_quote", "#appendonsend", "#divRplyFwdMsg", ".moz-cite-prefix"]


def _html_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for quoted in soup.select(", ".join(_QUOTED)):
        quoted.decompose()
    for block in soup.find_all(_BLOCKS):
        block.append("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return "\n".join(lines)


def _automatic(message: EmailMessage) -> bool:
    submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        submitted != "no"
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or "X-Autoreply" in message
        or "X-Autorespond" in message
    )


class EmailInbound:
    def __init__(
        self,
        engine: Engine,
        *,
        chat: ChatService,
        customers: CustomerDesk,
        domain: str,
        max_bytes: int,
    ) -> None:
        self._engine = engine
        self._chat = chat
        self._customers = customers
        self.domain = domain
        self.max_bytes = max_bytes

    def known_address(self, address: str) -> bool:
        """For the listener's RCPT: a live reply address of this domain."""
        token = token_of(address, self.domain)
        return token is not None and self._token_row(token) is not None

    def _token_row(self, token: str) -> ReplyToken | None:
        with Session(self._engine) as session:
            row = session.exec(
                select(ReplyToken).where(col(ReplyToken.token_hash) == reply_token_hash(token))
            ).first()
        return row if row is not None and row.expires_at > utcnow() else None

    def receive(self, raw: bytes, recipients: Sequence[str]) -> MailReceived:
        if len(raw) > self.max_bytes:
            raise MailTooLargeError(f"the mail is larger than {self.max_bytes} bytes")
        parsed = message_from_bytes(raw, policy=default)
        if not isinstance(parsed, EmailMessage) or (parsed.defects and not parsed.get("From")):
            raise InvalidMailError("that is not a mail message")
        token = next((t for a in recipients if (t := token_of(a, self.domain))), None)
        row = self._token_row(token) if token else None
        if row is None:
            raise UnknownReplyAddressError("no conversation has this reply address")
        if _automatic(parsed):
            return MailReceived(row.conversation_id, None, [], False, False)
        senders = getaddresses([str(v) for v in parsed.get_all("From", [])])
        if len(senders) != 1:
            raise InvalidMailError("the mail must have one sender")
        text = mail_text(parsed)
        if not text:
            raise InvalidMailError("the mail has no text of its own (only what it quotes)")
        if len(text) > self._chat.limits.max_message_chars:
            raise InvalidMailError(
                f"the mail's text is too long for a chat message ({len(text)} characters, "
                f"at most {self._chat.limits.max_message_chars}); please write less"
            )
        text = self._chat.validate_text(text)
        message_id = str(parsed.get("Message-ID") or "").strip() or hashlib.sha256(raw).hexdigest()
        client_id = "mail:" + hashlib.sha256(message_id.encode()).hexdigest()[:40]
        sender = senders[0][1].strip().lower()
        try:
            return self._store(row.conversation_id, sender, text, client_id)
        except IntegrityError:
            # The same mail, delivered twice at once: the other delivery stored it.
            return self._store(row.conversation_id, sender, text, client_id)

    def _store(self, conversation_id: str, sender: str, text: str, client_id: str) -> MailReceived:
        with session_scope(self._engine) as session:
            locked = select(Conversation).where(col(Conversation.id) == conversation_id)
            conversation = session.exec(locked.with_for_update()).first()
            if conversation is None:
                raise UnknownReplyAddressError("no conversation has this reply address")
            if (conversation.customer_email or "").strip().lower() != sender:
                raise SenderMismatchError(
                    "the mail's sender is not the customer this address was given to"
                )
            events: list[ConversationEvent] = []
            if conversation.state == ConversationState.closed:
                earlier = find_client_event(session, conversation_id, client_id)
                if earlier is not None:
                    return MailReceived(conversation_id, earlier, [], False, False)
                events = self._customers.reopen_in(session, conversation)
            message, created = self._chat.append_customer_message(
                session, conversation, text, client_id=client_id, via="email", numbered=True
            )
            owed = created and conversation.state == ConversationState.bot
            return MailReceived(
                conversation_id, message, [*events, message] if created else [], created, owed
            )
