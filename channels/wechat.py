"""WeChat Official Account (公众号) messages: the URL check, message push and passive replies.

WeChat's published protocol for a developer's server URL: every request carries
``signature``, ``timestamp`` and ``nonce`` in its query; the signature is the SHA-1 of the three
sorted strings of the account's token, the timestamp and the nonce. The URL check (GET) echoes
``echostr``. A message (POST) is XML; in the encrypted mode (``encrypt_type=aes``) the body holds
only ``<Encrypt>``, signed by ``msg_signature`` (the token, timestamp, nonce and the ciphertext,
sorted and hashed), and the reply is encrypted the same way. A reply within five seconds is shown
to the customer (a passive reply, one message); ``success`` or an empty body means none, and
later messages go through the customer-service message API (``channels/wechat_api.py``).

wechatpy parses and builds the XML and does the AES; this module checks what arrives (size,
no DTD, signatures in constant time, the timestamp's age) and maps it to kefu's terms.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply

from bot.plain_text import numbered_text
from core.errors import KefuError

__all__ = [
    "MAX_BODY_BYTES",
    "InboundWeChat",
    "WeChatAccount",
    "WeChatInputError",
    "WeChatSignatureError",
    "message_text",
    "passive_reply",
    "read_message",
    "verify_url",
]

#: WeChat's text messages are at most 2,048 bytes; the XML around one, encrypted, far below this.
MAX_BODY_BYTES = 64 * 1024
#: A request older (or newer) than this is refused, so a captured request cannot be replayed
#: later; WeChat's own retries of one message come within 15 seconds.
MAX_CLOCK_SKEW_SECONDS = 300


class WeChatSignatureError(KefuError):
    code = "invalid_signature"
    status = 401

    def __init__(
        self, message: str = "The request's signature does not match the channel's token."
    ) -> None:
        super().__init__(message)


class WeChatInputError(KefuError):
    code = "invalid_wechat_message"
    status = 400


@dataclass(frozen=True)
class WeChatAccount:
    """One Official Account as a channel's config holds it."""

    token: str
    app_id: str
    app_secret: str
    # 43 characters when messages are encrypted (安全模式); empty for plain text mode.
    encoding_aes_key: str = ""

    @classmethod
    def of(cls, config: dict[str, Any]) -> WeChatAccount:
        return cls(
            token=str(config.get("token", "")),
            app_id=str(config.get("app_id", "")),
            app_secret=str(config.get("app_secret", "")),
            encoding_aes_key=str(config.get("encoding_aes_key", "")),
        )

    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.encoding_aes_key, self.app_id)


@dataclass(frozen=True)
class InboundWeChat:
    """What a push said: who (the customer's OpenID), to whom, and a text or an event."""

    open_id: str
    account_id: str  # the account's original id (gh_…), the reply's sender
    kind: str  # "text", "event" or another MsgType (image, voice, …)
    text: str
    event: str  # for kind "event": subscribe, unsubscribe, …
    msg_id: str  # MsgId for a message; FromUserName + CreateTime for an event
    encrypted: bool
    raw: Any  # wechatpy's message, to build the reply


def _sha1_of_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324


def _check_time(timestamp: str, now: float | None) -> None:
    try:
        sent = int(timestamp)
    except ValueError:
        raise WeChatSignatureError() from None
    if abs((now if now is not None else time.time()) - sent) > MAX_CLOCK_SKEW_SECONDS:
        raise WeChatSignatureError("The request's timestamp is too old or in the future.")


def _check_signature(account: WeChatAccount, query: dict[str, str], now: float | None) -> None:
    signature = query.get("signature", "")
    timestamp = query.get("timestamp", "")
    nonce = query.get("nonce", "")
    expected = _sha1_of_sorted(account.token, timestamp, nonce)
    if not account.token or not hmac.compare_digest(expected, signature):
        raise WeChatSignatureError()
    _check_time(timestamp, now)


def verify_url(account: WeChatAccount, query: dict[str, str], *, now: float | None = None) -> str:
    """The server-URL check: the ``echostr`` to send back, once the signature holds."""
    _check_signature(account, query, now)
    return query.get("echostr", "")


def read_message(
    account: WeChatAccount, query: dict[str, str], body: bytes, *, now: float | None = None
) -> InboundWeChat:
    """Check and parse one push; raises ``WeChatSignatureError`` or ``WeChatInputError``."""
    _check_signature(account, query, now)
    if len(body) > MAX_BODY_BYTES:
        raise WeChatInputError("The message is too large.")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise WeChatInputError("A WeChat message has no document type declaration.")
    encrypted = query.get("encrypt_type", "raw") == "aes"
    try:
        text = body.decode("utf-8")
        if encrypted:
            if not account.encoding_aes_key:
                raise WeChatInputError("The channel is not set up for encrypted messages.")
            text = account.crypto().decrypt_message(
                text, query.get("msg_signature", ""), query.get("timestamp", ""), query["nonce"]
            )
        message = parse_message(text)
    except InvalidSignatureException:
        raise WeChatSignatureError() from None
    except InvalidAppIdException:
        raise WeChatSignatureError("The message is for another app id.") from None
    except (ExpatError, UnicodeError, KeyError, TypeError, ValueError) as error:
        raise WeChatInputError(
            f"The request is not a WeChat message ({type(error).__name__})."
        ) from None
    open_id = str(getattr(message, "source", "") or "")
    if not open_id:
        raise WeChatInputError("The message names no sender (FromUserName).")
    kind = str(message.type)
    event = str(getattr(message, "event", "") or "") if kind == "event" else ""
    msg_id = str(getattr(message, "id", "") or "") or f"{open_id}:{message.time}"
    return InboundWeChat(
        open_id=open_id,
        account_id=str(getattr(message, "target", "") or ""),
        kind=kind,
        text=str(getattr(message, "content", "") or "") if kind == "text" else "",
        event=event,
        msg_id=msg_id,
        encrypted=encrypted,
        raw=message,
    )


def passive_reply(account: WeChatAccount, inbound: InboundWeChat, text: str, *, nonce: str) -> str:
    """The XML that answers the push with ``text``, encrypted when the push was."""
    rendered: str = TextReply(message=inbound.raw, content=text).render()
    if inbound.encrypted:
        encrypted: str = account.crypto().encrypt_message(rendered, nonce)
        return encrypted
    return rendered


def message_text(payload: dict[str, Any]) -> str:
    """A message event's text as a WeChat customer reads it: a clarifying question's
    suggestions follow as numbered lines, and a number answers it."""
    return numbered_text(payload)
