"""The channel APIs: admins manage channels (``/api/admin/channels``), apps send their
customers' messages and read their conversations (``/api/channels/{name}/...``), authenticated
by the channel's secret as a bearer token (docs/channels.md, "API channel")."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.routes import take_turn
from core.addresses import client_address
from core.api_types import SeqNumber
from core.auth import AdminActor
from core.auth import bearer_token as _token
from core.broker import Broker
from core.conversations import EVENTS_PAGE, EventPublic
from core.errors import InvalidInputError
from core.rate_limits import Action, RateLimiter
from core.realtime import publish_events

from .inbound import InboundService, Received, RequestInProgressError, respond
from .models import Channel
from .schemas import (
    ChannelCreate,
    ChannelPublic,
    ChannelUpdate,
    ChannelWithSecrets,
    ContactEvents,
    InboundMessage,
    InboundResponse,
)
from .service import Audited, ChannelService, SecretKind

__all__ = ["admin_router", "inbound_router"]

admin_router = APIRouter(prefix="/api/admin/channels", tags=["channels"])
inbound_router = APIRouter(prefix="/api/channels", tags=["API channel"])

# Printable ASCII without spaces, as Stripe's and the IETF draft's keys are (UUIDs, say).
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
# How long a retry waits for the first request with its key to answer before it is told to
# come back (409 request_in_progress).
REPLAY_WAIT_SECONDS = 10.0
REPLAYED_HEADER = "Idempotent-Replayed"


def _channels(request: Request) -> ChannelService:
    service: ChannelService = request.app.state.channels
    return service


def _inbound(request: Request) -> InboundService:
    service: InboundService = request.app.state.inbound
    return service


def _by(request: Request, actor: AdminActor) -> Audited:
    return Audited(actor, client_address(request))


def _with_secrets(
    channel: Channel, *, secret: str | None = None, signing: str | None = None
) -> ChannelWithSecrets:
    public = ChannelPublic.of(channel).model_dump()
    return ChannelWithSecrets(**public, secret=secret, signing_secret=signing)


# -- admins ---------------------------------------------------------------------------------


@admin_router.get("", response_model=list[ChannelPublic])
def list_channels(request: Request, _actor: AdminActor) -> list[ChannelPublic]:
    return [ChannelPublic.of(c) for c in _channels(request).all()]


@admin_router.post("", response_model=ChannelWithSecrets, status_code=status.HTTP_201_CREATED)
def create_channel(request: Request, actor: AdminActor, body: ChannelCreate) -> ChannelWithSecrets:
    """The new channel with its inbound secret and signing secret: shown this once."""
    channel, secret, signing = _channels(request).create(body, by=_by(request, actor))
    return _with_secrets(channel, secret=secret, signing=signing)


@admin_router.get("/{name}", response_model=ChannelPublic)
def get_channel(request: Request, _actor: AdminActor, name: str) -> ChannelPublic:
    return ChannelPublic.of(_channels(request).get(name))


@admin_router.patch("/{name}", response_model=ChannelPublic)
def update_channel(
    request: Request, actor: AdminActor, name: str, body: ChannelUpdate
) -> ChannelPublic:
    """Change the webhook URL (``""`` removes it) or enable / disable the channel."""
    return ChannelPublic.of(_channels(request).update(name, body, by=_by(request, actor)))


def _rotate(
    request: Request, actor: AdminActor, name: str, which: SecretKind
) -> ChannelWithSecrets:
    channel, secret = _channels(request).rotate(name, which, by=_by(request, actor))
    if which == "inbound":
        return _with_secrets(channel, secret=secret)
    return _with_secrets(channel, signing=secret)


@admin_router.post("/{name}/rotate-secret", response_model=ChannelWithSecrets)
def rotate_secret(request: Request, actor: AdminActor, name: str) -> ChannelWithSecrets:
    """A new inbound secret, shown once; the old one stops working at once."""
    return _rotate(request, actor, name, "inbound")


@admin_router.post("/{name}/rotate-signing-secret", response_model=ChannelWithSecrets)
def rotate_signing_secret(request: Request, actor: AdminActor, name: str) -> ChannelWithSecrets:
    """A new signing secret for outbound events, shown once; events are signed with it from
    now on."""
    return _rotate(request, actor, name, "signing")


# -- apps -------------------------------------------------------------------------------------


async def channel_caller(
    request: Request, name: str, authorization: Annotated[str | None, Header()] = None
) -> Channel:
    """The channel the request names, once its secret is checked (before the body is): 404
    unknown, 401 wrong or missing secret, 403 disabled."""
    return await run_in_threadpool(_channels(request).authenticate, name, _token(authorization))


Caller = Annotated[Channel, Depends(channel_caller)]


class InvalidIdempotencyKeyError(InvalidInputError):
    code = "invalid_idempotency_key"


def _key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _KEY.match(value):
        raise InvalidIdempotencyKeyError(
            "the Idempotency-Key header must be 1 to 128 printable ASCII characters, no spaces",
            details=[{"code": "invalid_idempotency_key", "field": "Idempotency-Key"}],
        )
    return value


@inbound_router.post("/{name}/messages", response_model=InboundResponse)
async def receive_message(
    request: Request,
    channel: Caller,
    body: InboundMessage,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Store the contact's message, run the bot's turn, answer with its replies. With an
    ``Idempotency-Key`` a retry gets the first answer again and stores nothing."""
    key = _key(idempotency_key)
    # The channel's allowance, then the contact's (the per-conversation limit).
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check(Action.message, channel=channel.name)
    await limiter.check(Action.message, conversation_id=f"channel:{channel.id}:{body.contact.id}")
    inbound = _inbound(request)
    received = await run_in_threadpool(inbound.receive, channel, body, key)
    if not received.created:
        replayed = received.response or await _first_answer(inbound, received)
        return JSONResponse(replayed, headers={REPLAYED_HEADER: "true"})
    broker: Broker = request.app.state.broker
    await publish_events(broker, received.events)
    replies = await take_turn(
        request.app.state.turns, received.conversation_id, received.message.seq
    )
    answer = respond(received.conversation_id, received.contact_id, received.message, replies)
    if received.key_id is not None:
        await run_in_threadpool(inbound.remember, received.key_id, answer)
    return JSONResponse(answer)


async def _first_answer(inbound: InboundService, received: Received) -> dict[str, Any]:
    """What the first request with this key answered: waited for while it is being answered,
    or built from the database if it never will be (``InboundService.settle``)."""
    assert received.key_id is not None
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while time.monotonic() < deadline:
        stored = await run_in_threadpool(inbound.stored_response, received.key_id)
        if stored is not None:
            return stored
        await asyncio.sleep(0.1)
    settled = await run_in_threadpool(inbound.settle, received.key_id)
    if settled is None:
        raise RequestInProgressError
    return settled


@inbound_router.get("/{name}/contacts/{contact_id}/events", response_model=ContactEvents)
def contact_events(
    request: Request, channel: Caller, contact_id: str, after: SeqNumber = 0
) -> ContactEvents:
    """The contact's current conversation past ``after``, as the customer sees it: a pull
    alternative to the webhook. ``conversation_id`` changes when a new conversation starts."""
    conversation_id, events = _inbound(request).contact_events(channel, contact_id, after=after)
    return ContactEvents(
        conversation_id=conversation_id,
        events=[EventPublic.of(e) for e in events[:EVENTS_PAGE]],
        has_more=len(events) > EVENTS_PAGE,
    )
