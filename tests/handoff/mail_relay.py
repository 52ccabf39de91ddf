"""A real SMTP server on loopback (aiosmtpd) playing the mail relay in the desk's mail tests."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

__all__ = ["Relay"]


class Relay:
    """An SMTP server's handler: keeps what it accepts; ``fail`` maps an address to how many
    more times its recipient is refused with a temporary error (451)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.tries: dict[str, int] = {}
        self.fail: dict[str, int] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.tries[address] = self.tries.get(address, 0) + 1
        if self.fail.get(address, 0) > 0:
            self.fail[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]
