"""A WeChat Official Account as a channel: its server URL, and the admin's way to add one.

* ``GET /api/wechat/{name}``: WeChat's server-URL check; the ``echostr`` back when the
  signature holds, 401 otherwise.
* ``POST /api/wechat/{name}``: a push. The message takes the API channel's inbound
  path (``InboundService``: the OpenID is the contact, ``wx:<MsgId>`` the idempotency key, so
  WeChat's own retries of one message store it once), then the bot's turn. When the bot has
  answered within ``KEFU_WECHAT_PASSIVE_SECONDS`` the answer is the passive reply (XML,
  encrypted when the push was); otherwise ``success``, and the outbox sends what follows
  through the customer-service message API (``channels/wechat_api.py``).
* ``POST /api/admin/channels/wechat``: an admin adds an account: its token (for signatures),
  app id and secret (for the API), and the EncodingAESKey for the encrypted mode.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from bot.routes import take_turn
from core.addresses import client_address
from core.auth import AdminActor
from core.conversations import ConversationEvent, EventPublic
from core.errors import InvalidInputError
from core.rate_limits import Action, RateLimiter
from core.realtime import publish_events
from core.text import STORABLE

from .deliveries import take_passive
from .inbound import InboundService
from .models import Channel, ChannelKind
from .schemas import ChannelPublic, ContactIn, InboundMessage
from .service import (
    Audited,
    ChannelDisabledError,
    ChannelService,
    UnknownChannelError,
    check_channel_name,
)
from .wechat import WeChatAccount, message_text, passive_reply, read_message, verify_url

__all__ = ["wechat_admin_router", "wechat_router", "wechat_text"]

wechat_router = APIRouter(prefix="/api/wechat", tags=["WeChat channel"])
wechat_admin_router = APIRouter(prefix="/api/admin/channels/wechat", tags=["channels"])

_XML = "application/xml; charset=utf-8"
# What WeChat expects when there is no passive reply.
_NOTHING = "success"
_NOT_TEXT = {
    "en": "Sorry, I can only read text messages here.",
    "zh": "抱歉，这里目前只能处理文字消息。",
}


# -- what the customer reads --------------------------------------------------------------------


def wechat_text(events: list[ConversationEvent]) -> str:
    """What a turn said to the customer, as one WeChat text (a passive reply is one message)."""
    said = [e for e in events if e.type == "message" and e.author != "customer"]
    return "\n\n".join(t for e in said if not e.internal and (t := message_text(e.payload)))


# -- the server URL -------------------------------------------------------------------------------


def _account(
    request: Request, name: str, *, enabled_only: bool = True
) -> tuple[Channel, WeChatAccount]:
    with Session(request.app.state.engine) as session:
        channel = session.exec(
            select(Channel).where(
                col(Channel.name) == name, col(Channel.kind) == ChannelKind.wechat
            )
        ).first()
    if channel is None:
        raise UnknownChannelError(f"there is no WeChat channel {name!r}")
    if enabled_only and not channel.enabled:
        raise ChannelDisabledError(f"the channel {name!r} is disabled")
    return channel, WeChatAccount.of(channel.config)


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params.items())


@wechat_router.get("/{name}", response_class=Response)
def check_server_url(request: Request, name: str) -> Response:
    """WeChat's check of the server URL: ``echostr`` back, as plain text, when the signature
    holds. (A refusal is the usual JSON error, as the API documents.)"""
    _channel, account = _account(request, name)
    return PlainTextResponse(verify_url(account, _query(request)))


@wechat_router.post("/{name}", response_class=Response)
async def push(request: Request, name: str) -> Response:
    started = time.monotonic()
    channel, account = await run_in_threadpool(_account, request, name)
    inbound = read_message(account, _query(request), await request.body())
    if inbound.kind == "event":
        # Following the account, scanning a code, a menu click: nothing to answer here.
        return PlainTextResponse(_NOTHING)
    if inbound.kind != "text" or not inbound.text.strip():
        text = _NOT_TEXT["zh"]
        return Response(passive_reply(account, inbound, text, nonce=_nonce()), media_type=_XML)
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check(Action.message, channel=channel.name)
    await limiter.check(Action.message, conversation_id=f"channel:{channel.id}:{inbound.open_id}")
    service: InboundService = request.app.state.inbound
    body = InboundMessage(contact=ContactIn(id=inbound.open_id), text=inbound.text)
    received = await run_in_threadpool(service.receive, channel, body, f"wx:{inbound.msg_id}")
    if not received.created:
        # WeChat's retry of a message stored already: its answer went, or goes, by the API.
        return PlainTextResponse(_NOTHING)
    await publish_events(request.app.state.broker, received.events)
    replies = await take_turn(
        request.app.state.turns, received.conversation_id, received.message.seq
    )
    text = wechat_text(replies)
    budget: float = request.app.state.settings.wechat_passive_seconds
    if not text or time.monotonic() - started > budget:
        return PlainTextResponse(_NOTHING)
    seqs = [event.seq for event in replies]
    engine = request.app.state.engine
    if not await run_in_threadpool(take_passive, engine, received.conversation_id, seqs):
        return PlainTextResponse(_NOTHING)  # the outbox sends them instead
    return Response(passive_reply(account, inbound, text, nonce=_nonce()), media_type=_XML)


def _nonce() -> str:
    return secrets.token_hex(8)


# -- adding an account ----------------------------------------------------------------------------

_APP_ID = re.compile(r"^wx[0-9a-zA-Z]{10,30}$")
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")
_AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")
Short = Annotated[str, StringConstraints(max_length=128), STORABLE]


class WeChatChannelCreate(BaseModel):
    name: Short
    app_id: Short
    app_secret: Short = Field(repr=False)
    token: Short = Field(repr=False)
    # Empty: plain text mode (明文模式); 43 characters: compatible or safe mode.
    encoding_aes_key: Short = Field(default="", repr=False)
    enabled: bool = True


class WeChatChannelPublic(ChannelPublic):
    app_id: str
    encrypted: bool
    # What to enter as the server URL (服务器地址) in the account's settings, after the host.
    server_path: str


def _public(channel: Channel) -> WeChatChannelPublic:
    return WeChatChannelPublic(
        **ChannelPublic.of(channel).model_dump(),
        app_id=str(channel.config.get("app_id", "")),
        encrypted=bool(channel.config.get("encoding_aes_key")),
        server_path=f"/api/wechat/{channel.name}",
    )


def _invalid(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, details=[{"code": f"invalid_{field}", "field": field}])


@wechat_admin_router.post(
    "", response_model=WeChatChannelPublic, status_code=status.HTTP_201_CREATED
)
def create_wechat_channel(
    request: Request, actor: AdminActor, body: WeChatChannelCreate
) -> WeChatChannelPublic:
    """Add an Official Account. Its secrets are kept for signatures and the API, never shown."""
    name = check_channel_name(body.name)
    if not _APP_ID.match(body.app_id):
        raise _invalid("app_id", "an AppID starts with wx, then letters and digits")
    if not body.app_secret.strip() or len(body.app_secret) > 64:
        raise _invalid("app_secret", "the AppSecret is 1 to 64 characters")
    if not _TOKEN.match(body.token):
        raise _invalid("token", "the token is 3 to 32 letters and digits, as WeChat allows")
    if body.encoding_aes_key and not _AES_KEY.match(body.encoding_aes_key):
        raise _invalid("encoding_aes_key", "the EncodingAESKey is 43 letters and digits")
    config: dict[str, Any] = {
        "app_id": body.app_id,
        "app_secret": body.app_secret,
        "token": body.token,
        "encoding_aes_key": body.encoding_aes_key,
    }
    channels: ChannelService = request.app.state.channels
    by = Audited(actor, client_address(request))
    return _public(channels.create_wechat(name, config, enabled=body.enabled, by=by))


class ContactTranscript(BaseModel):
    conversation_id: str | None
    events: list[EventPublic]


@wechat_admin_router.get("/{name}/contacts/{open_id}", response_model=ContactTranscript)
def contact_transcript(
    request: Request, _actor: AdminActor, name: str, open_id: str
) -> ContactTranscript:
    """A WeChat customer's current conversation as they saw it, by OpenID (the first page)."""
    channel, _account_settings = _account(request, name, enabled_only=False)
    service: InboundService = request.app.state.inbound
    conversation_id, events = service.contact_events(channel, open_id, after=0)
    return ContactTranscript(
        conversation_id=conversation_id, events=[EventPublic.of(e) for e in events]
    )
