"""Sending e-mail over SMTP with the standard library, configured by one URL.

``KEFU_SMTP_URL`` is ``smtp://host:port`` (plain, or ``?starttls=1`` to upgrade),
``smtps://host:port`` (TLS from the first byte), with ``user:password@`` when the relay wants
a login. ``Mailer.send`` blocks; callers on the event loop run it in a thread. Addresses are
personal data: nothing here logs one, and ``MailError`` messages name none.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["MailError", "Mailer", "SmtpTarget", "parse_smtp_url"]

_TRUE = frozenset({"1", "true", "yes", "on"})


class MailError(Exception):
    """A send that failed; ``permanent`` when the relay refused for good (a 5xx reply)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never the password
        return f"SmtpTarget({self.host!r}, {self.port}, tls={self.implicit_tls or self.starttls})"


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://…``; ValueError if not."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("an SMTP URL starts with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("an SMTP URL names a host")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ValueError("the SMTP URL's port is not a number from 0 to 65535") from None
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"unknown SMTP URL option(s): {', '.join(sorted(unknown))}")
    starttls = query.get("starttls", "").lower() in _TRUE
    if starttls and parts.scheme == "smtps":
        raise ValueError("smtps:// is TLS already; starttls=1 is for smtp://")
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class Mailer:
    """One relay and one sender address; a connection per ``send`` (mail is rare here)."""

    def __init__(
        self,
        target: SmtpTarget,
        sender: str,
        *,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.target = target
        self.sender = sender
        self.timeout = timeout
        self.tls_context = tls_context or ssl.create_default_context()

    @classmethod
    def from_url(cls, url: str, sender: str, *, timeout: float = 10.0) -> Mailer | None:
        """None when no relay is configured: the caller sends no mail."""
        if not url.strip() or not sender.strip():
            return None
        return cls(parse_smtp_url(url), sender.strip(), timeout=timeout)

    def send(self, message: EmailMessage) -> None:
        """Deliver to the relay, or raise ``MailError``. Sets ``From`` when it is missing."""
        if "From" not in message:
            message["From"] = self.sender
        target = self.target
        try:
            smtp: smtplib.SMTP
            if target.implicit_tls:
                smtp = smtplib.SMTP_SSL(
                    target.host, target.port, timeout=self.timeout, context=self.tls_context
                )
            else:
                smtp = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
            with smtp:
                if target.starttls:
                    smtp.starttls(context=self.tls_context)
                if target.username:
                    smtp.login(target.username, target.password or "")
                smtp.send_message(message, from_addr=self.sender)
        except smtplib.SMTPRecipientsRefused as exc:
            # Its text would name the address: say only what the relay answered.
            codes = sorted({code for code, _reply in exc.recipients.values()})
            raise MailError(
                f"the relay refused the recipient (SMTP {', '.join(map(str, codes))})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"the relay answered SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"could not reach the relay: {type(exc).__name__}") from None
