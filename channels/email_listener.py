"""The SMTP listener for customers' answers by e-mail (``KEFU_INBOUND_SMTP_LISTEN``).

aiosmtpd's SMTP protocol on the server's own event loop, so a delivered mail is stored,
published and answered by the bot as a widget's message is. The listener says 250 only after
the message has committed: a relay that saw no 250 delivers again, and the Message-ID makes
that one message. Its replies:

- RCPT to an address that is not a live reply address of the domain: 550 5.1.1;
- a mail over ``KEFU_INBOUND_MAIL_MAX_BYTES``: 552 5.3.4;
- a sender other than the conversation's customer: 550 5.7.1;
- a mail that cannot be read, has no text of its own, or is too long for a chat: 550 5.6.0;
- a fault of ours (the database away): 451 4.3.0, so the relay tries again.

The port is opened with SO_REUSEPORT, so several processes on one box can share it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP
from starlette.concurrency import run_in_threadpool

from bot.turn_runner import TurnRunner
from core.broker import Broker
from core.errors import KefuError
from core.realtime import publish_events

from .email_inbound import EmailInbound, MailTooLargeError, SenderMismatchError

__all__ = ["InboundMailListener"]

log = logging.getLogger(__name__)


class InboundMailListener:
    def __init__(
        self, inbound: EmailInbound, listen: str, *, broker: Broker, turns: TurnRunner
    ) -> None:
        host, _, port = listen.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.inbound = inbound
        self.broker = broker
        self.turns = turns
        self._server: asyncio.AbstractServer | None = None
        self._turns: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                self,
                data_size_limit=self.inbound.max_bytes,
                enable_SMTPUTF8=True,
                hostname=self.inbound.domain or None,
                ident="kefu",
                loop=loop,
            ),
            host=self.host,
            port=self.port,
            reuse_port=True,
        )
        log.info("taking customers' e-mail on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        # Turns taken for mail finish (their replies are owed in the database either way).
        await asyncio.gather(*self._turns, return_exceptions=True)

    # -- aiosmtpd's handler hooks ----------------------------------------------------------------

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        try:
            known = await run_in_threadpool(self.inbound.known_address, address)
        except Exception:
            log.exception("could not look up a reply address")
            return "451 4.3.0 try again later"
        if not known:
            return "550 5.1.1 no such reply address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            received = await run_in_threadpool(
                self.inbound.receive, bytes(raw), list(envelope.rcpt_tos)
            )
        except MailTooLargeError as exc:
            return f"552 5.3.4 {exc.message}"
        except SenderMismatchError as exc:
            return f"550 5.7.1 {exc.message}"
        except KefuError as exc:
            return f"550 5.6.0 {exc.message}"
        except Exception:
            log.exception("could not store a customer's e-mail")
            return "451 4.3.0 try again later"
        if received.events:
            await publish_events(self.broker, received.events)
        if received.turn_owed and received.conversation_id and received.message is not None:
            # After the 250 would be as good (the turn is owed in the database and the sweep
            # takes it); taking it here answers at once.
            task: asyncio.Task[object] = asyncio.create_task(
                self.turns.take(received.conversation_id, received.message.seq)
            )
            self._turns.add(task)
            task.add_done_callback(self._turns.discard)
        return "250 OK: stored"
