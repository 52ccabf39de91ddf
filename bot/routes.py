"""The customer chat API: REST to start, send, read and rate; a WebSocket for live chat.

Blocking work (database, models) runs in the thread pool; the event loop only moves frames.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    Header,
    Query,
    Request,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from core.addresses import client_address
from core.api_types import SeqNumber
from core.auth import SupervisorActor
from core.auth import bearer_token as _token
from core.broker import Broker
from core.conversations import EVENTS_PAGE, ConversationEvent, EventPublic
from core.errors import KefuError
from core.frames import FrameRefusedError, frame_text
from core.identity import IdentityClaims, verified_identity
from core.metrics import CUSTOMER_SOCKETS
from core.origins import origin_allowed
from core.rate_limits import Action, RateLimitedError, RateLimiter
from core.realtime import SeqFeed, publish_events, publish_frame, receive_frames, until_first_ends
from core.text import MAX_SEQ, StoredText, check_seq

from .chat import ChatService, TokenGrant
from .models import Exchange
from .turn_runner import TurnRunner

__all__ = ["admin_router", "count_request", "rate_limited", "router"]


async def count_request(connection: HTTPConnection) -> None:
    """Every customer request counts against its address (``limit_requests_per_address``). A
    socket is counted by its handler once accepted, so that it can say why it is refused."""
    if connection.scope["type"] == "http":
        limiter: RateLimiter = connection.app.state.rate_limiter
        await limiter.check(Action.request, address=client_address(connection))


router = APIRouter(
    prefix="/api/chat", tags=["customer chat"], dependencies=[Depends(count_request)]
)

# The customer's token travels in the Sec-WebSocket-Protocol header, which access logs do not
# print: the client offers SUBPROTOCOL and AUTH_SUBPROTOCOL + the token, the server picks
# SUBPROTOCOL. ``?token=`` still works for older clients; the log redaction hides it.
SUBPROTOCOL = "kefu.v1"
AUTH_SUBPROTOCOL = "kefu.token."
# Published on a conversation's channel when its token is rotated (never carries the token).
ROTATED_FRAME = "token.rotated"
admin_router = APIRouter(prefix="/api/admin", tags=["exchange log"])


class StartRequest(BaseModel):
    language: StoredText | None = Field(default=None, max_length=8)
    name: StoredText | None = Field(default=None, max_length=128)
    email: StoredText | None = Field(default=None, max_length=254)
    tier: Literal["standard", "vip"] = "standard"
    # A signed identity (docs/security.md): the embedding site's id for the customer, the Unix
    # time the signature stops being valid, and HMAC-SHA256 over the claims in hex. Without
    # ``identity_hash`` the name, e-mail and tier are kept as unverified claims.
    external_id: StoredText | None = Field(default=None, min_length=1, max_length=128)
    identity_expires: int | None = Field(default=None, ge=0, le=2**53)
    identity_hash: str | None = Field(default=None, max_length=64)

    def claims(self) -> IdentityClaims:
        return IdentityClaims(
            external_id=self.external_id,
            email=self.email,
            name=self.name,
            tier=self.tier,
            expires=self.identity_expires,
        )


class StartResponse(BaseModel):
    conversation_id: str
    token: str
    token_expires_at: datetime
    # From then on the client should rotate the token (POST .../token) to keep the chat.
    token_rotate_after: datetime
    # The same, counted from now: a client whose clock is off should use this one.
    token_rotate_in_seconds: float

    @classmethod
    def of(cls, grant: TokenGrant) -> StartResponse:
        return cls(
            conversation_id=grant.conversation_id,
            token=grant.token,
            token_expires_at=grant.expires_at,
            token_rotate_after=grant.rotate_after,
            token_rotate_in_seconds=grant.rotate_in_seconds,
        )


class SendRequest(BaseModel):
    text: str
    client_id: StoredText | None = Field(default=None, max_length=64)
    suggestion: StoredText | None = Field(default=None, max_length=64)


class SendResponse(BaseModel):
    message: EventPublic
    replies: list[EventPublic]


class EventsResponse(BaseModel):
    events: list[EventPublic]
    # True when more events follow: ask again with ``after`` = the last ``seq`` returned.
    has_more: bool = False


class RateRequest(BaseModel):
    seq: SeqNumber
    helpful: bool


def _chat(request: Request) -> ChatService:
    chat: ChatService = request.app.state.chat
    return chat


def rate_limited(action: Action) -> Callable[..., Awaitable[None]]:
    """A route dependency counting ``action`` by the client's address and, once the token is
    checked, in the conversation: a wrong token never spends a conversation's allowance."""

    async def dependency(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> None:
        limiter: RateLimiter = request.app.state.rate_limiter
        await limiter.check(action, address=client_address(request))
        conversation_id = request.path_params.get("conversation_id")
        if conversation_id is not None and limiter.limits_conversations(action):
            token = _token(authorization)
            await run_in_threadpool(_chat(request).authenticate, conversation_id, token)
            await limiter.check(action, conversation_id=conversation_id)

    return dependency


async def take_turn(
    turns: TurnRunner, conversation_id: str, message_seq: int
) -> list[ConversationEvent]:
    """The bot's turn for a message just recorded; the reply is published after its commit."""
    return await turns.take(conversation_id, message_seq)


@router.post(
    "/conversations",
    response_model=StartResponse,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limited(Action.conversation))],
)
def start_conversation(request: Request, body: StartRequest | None = None) -> StartResponse:
    body = body or StartRequest()
    secret: str = request.app.state.settings.identity_secret
    verified = verified_identity(secret, body.claims(), body.identity_hash)
    grant = _chat(request).start_conversation(
        language=body.language,
        name=body.name,
        email=body.email,
        tier=body.tier,
        external_id=body.external_id,
        identity_verified=verified,
    )
    return StartResponse.of(grant)


@router.post("/conversations/{conversation_id}/token", response_model=StartResponse)
async def rotate_token(
    request: Request,
    conversation_id: str,
    authorization: Annotated[str | None, Header()] = None,
) -> StartResponse:
    """A new token for the current one, which stops working at once, open sockets included."""
    token = _token(authorization)
    grant = await run_in_threadpool(
        lambda: _chat(request).rotate_token(conversation_id=conversation_id, token=token)
    )
    # Sockets opened with the old token, in any process, check theirs again and close.
    await publish_frame(
        request.app.state.broker,
        conversation_id,
        {"type": ROTATED_FRAME, "conversation_id": conversation_id},
    )
    return StartResponse.of(grant)


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=SendResponse,
    dependencies=[Depends(rate_limited(Action.message))],
)
async def send_message(
    request: Request,
    conversation_id: str,
    body: SendRequest,
    authorization: Annotated[str | None, Header()] = None,
) -> SendResponse:
    chat = _chat(request)
    broker: Broker = request.app.state.broker
    event, created = await run_in_threadpool(
        lambda: chat.record_customer_message(
            conversation_id=conversation_id,
            token=_token(authorization),
            text=body.text,
            client_id=body.client_id,
            suggestion=body.suggestion,
        )
    )
    replies: list[ConversationEvent] = []
    if created:
        await publish_events(broker, [event])
        replies = await take_turn(request.app.state.turns, conversation_id, event.seq)
    # Staff-only events of the turn (a complaint opened at handover, say) stay with the staff.
    shown = [EventPublic.of(e) for e in replies if not e.internal]
    if shown:
        await run_in_threadpool(chat.shown, conversation_id, shown[-1].seq)
    return SendResponse(message=EventPublic.of(event), replies=shown)


@router.get("/conversations/{conversation_id}/events", response_model=EventsResponse)
def read_events(
    request: Request,
    conversation_id: str,
    after: SeqNumber = 0,
    authorization: Annotated[str | None, Header()] = None,
) -> EventsResponse:
    events = _chat(request).history(
        conversation_id=conversation_id,
        token=_token(authorization),
        after=after,
        limit=EVENTS_PAGE + 1,
    )
    return EventsResponse(
        events=[EventPublic.of(e) for e in events[:EVENTS_PAGE]],
        has_more=len(events) > EVENTS_PAGE,
    )


@router.post(
    "/conversations/{conversation_id}/ratings", dependencies=[Depends(rate_limited(Action.rating))]
)
def rate_answer(
    request: Request,
    conversation_id: str,
    body: RateRequest,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    _chat(request).rate(
        conversation_id=conversation_id,
        token=_token(authorization),
        seq=body.seq,
        helpful=body.helpful,
    )
    return {"seq": body.seq, "helpful": body.helpful}


@admin_router.get("/exchanges", response_model=list[Exchange])
def list_exchanges(
    request: Request,
    _actor: SupervisorActor,
    conversation_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Exchange]:
    """The exchange log, newest first: what the bot understood, decided and why."""
    return _chat(request).exchanges(conversation_id=conversation_id, limit=limit)


# -- WebSocket --------------------------------------------------------------------------------


class _Socket:
    """One customer connection: replays from ``last_seq``, then relays live events in order."""

    def __init__(
        self, ws: WebSocket, chat: ChatService, broker: Broker, conversation_id: str, token: str
    ) -> None:
        self.ws = ws
        self.chat = chat
        self.broker = broker
        self.conversation_id = conversation_id
        self.token = token
        self.limiter: RateLimiter = ws.app.state.rate_limiter
        self.address = client_address(ws)
        self._send_lock = asyncio.Lock()
        self.feed = SeqFeed(fetch_after=self._fetch_after, emit=self._emit_event)
        # The last reply message sent, and the last one recorded as shown.
        self._shown = self._noted = 0

    async def _fetch_after(self, seq: int) -> list[dict[str, Any]]:
        missed = await run_in_threadpool(self.chat.events_since, self.conversation_id, seq)
        return [EventPublic.of(e).model_dump(mode="json") for e in missed]

    async def _emit_event(self, body: dict[str, Any]) -> None:
        if not body.get("internal"):
            await self.send({"type": "event", "event": body})
            if body.get("type") == "message" and body.get("author") != "customer":
                self._shown = max(self._shown, int(body["seq"]))

    async def note_shown(self) -> None:
        """Record once per batch sent that the widget has an agent's or the bot's messages,
        so they are not mailed (handoff/customer_mail.py)."""
        if self._shown > self._noted:
            self._noted = self._shown
            await run_in_threadpool(self.chat.shown, self.conversation_id, self._noted)

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(frame_text(frame))

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def relay(self, subscription: Any) -> None:
        while True:
            body = await subscription.get()
            if subscription.overflowed:
                await self.ws.close(code=1013, reason="too slow to keep up")
                return
            frame = body.get("frame")
            if frame is None:
                await self.feed.deliver([body])
                await self.note_shown()
            elif frame.get("type") == ROTATED_FRAME:
                if not await self.token_still_valid():
                    return
            elif frame.get("who") != "customer":
                await self.send(frame)

    async def token_still_valid(self) -> bool:
        """After a rotation, a socket opened with the old token is refused and closed."""
        try:
            await run_in_threadpool(self.chat.authenticate, self.conversation_id, self.token)
        except KefuError as exc:
            await _refuse(self.ws, exc)
            return False
        return True

    async def receive(self) -> None:
        await receive_frames(self.ws, self.handle, self.error)

    async def handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message":
            await self.on_message(frame)
        elif kind == "rate":
            await self.on_rate(frame)
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "typing":
            await self.on_typing(frame)
        elif kind == "handoff":
            events = await run_in_threadpool(
                lambda: self.chat.request_person(
                    conversation_id=self.conversation_id, token=self.token
                )
            )
            await publish_events(self.broker, events)
        else:
            raise FrameRefusedError("unknown_type", f"unknown frame type {kind!r:.60}")

    async def on_typing(self, frame: dict[str, Any]) -> None:
        typing = frame.get("typing", True)
        if not isinstance(typing, bool):
            raise FrameRefusedError("invalid_typing", "'typing' must be a boolean")
        await publish_frame(
            self.broker,
            self.conversation_id,
            {
                "type": "typing",
                "who": "customer",
                "conversation_id": self.conversation_id,
                "typing": typing,
            },
        )

    async def on_message(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        suggestion = frame.get("suggestion") if isinstance(frame.get("suggestion"), str) else None
        # Refused before anything is stored: the error frame carries ``retry_after``.
        await self.limiter.check(
            Action.message, address=self.address, conversation_id=self.conversation_id
        )
        event, created = await run_in_threadpool(
            lambda: self.chat.record_customer_message(
                conversation_id=self.conversation_id,
                token=self.token,
                text=frame.get("text"),
                client_id=client_id,
                suggestion=suggestion,
            )
        )
        await self.send(
            {"type": "ack", "client_id": client_id, "seq": event.seq, "duplicate": not created}
        )
        if created:
            await publish_events(self.broker, [event])
            await take_turn(self.ws.app.state.turns, self.conversation_id, event.seq)

    async def on_rate(self, frame: dict[str, Any]) -> None:
        seq, helpful = check_seq(frame.get("seq")), frame.get("helpful")
        if seq is None or not isinstance(helpful, bool):
            raise FrameRefusedError(
                "invalid_rating",
                f"a rating needs an integer 'seq' from 0 to {MAX_SEQ} and a boolean 'helpful'",
            )
        await self.limiter.check(
            Action.rating, address=self.address, conversation_id=self.conversation_id
        )
        await run_in_threadpool(
            lambda: self.chat.rate(
                conversation_id=self.conversation_id, token=self.token, seq=seq, helpful=helpful
            )
        )
        await self.send({"type": "rated", "seq": seq, "helpful": helpful})


def _offered_token(offered: list[str]) -> str:
    tokens = [p.removeprefix(AUTH_SUBPROTOCOL) for p in offered if p.startswith(AUTH_SUBPROTOCOL)]
    return tokens[0] if tokens else ""


async def _refuse(ws: WebSocket, exc: KefuError) -> None:
    """An error frame with the code, then close: 4401 for a bad or expired token, else 4404."""
    try:
        await ws.send_json({"type": "error", "code": exc.code, "message": exc.message})
        await ws.close(code=4401 if exc.status == 401 else 4404)
    except WebSocketDisconnect:
        pass  # the client left first; nothing to tell it


def _position(last_seq: str) -> int | None:
    """The ``last_seq`` query parameter as a sequence number; a negative one means 0."""
    if re.fullmatch(r"-?[0-9]{1,12}", last_seq) is None:
        return None
    return check_seq(max(0, int(last_seq)))


@router.websocket("/ws")
async def chat_socket(
    ws: WebSocket,
    conversation_id: str = "",
    token: str = "",
    last_seq: str = "0",
) -> None:
    chat: ChatService = ws.app.state.chat
    broker: Broker = ws.app.state.broker
    offered = [str(p) for p in ws.scope.get("subprotocols") or []]
    token = _offered_token(offered) or token
    # Browsers drop a socket whose server picks none of the offered protocols.
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    origin = ws.headers.get("origin")
    allowed: list[str] = ws.app.state.settings.allowed_origins
    if not origin_allowed(origin, host=ws.headers.get("host"), allowed=allowed):
        await ws.send_json(
            {
                "type": "error",
                "code": "origin_not_allowed",
                "message": "this site may not embed the chat (KEFU_ALLOWED_ORIGINS)",
            }
        )
        await ws.close(code=4403)
        return
    limiter: RateLimiter = ws.app.state.rate_limiter
    try:
        await limiter.check(Action.request, address=client_address(ws))
    except RateLimitedError as exc:
        frame = {"type": "error", "code": exc.code, "message": exc.message}
        await ws.send_json({**frame, "retry_after": exc.retry_after})
        await ws.close(code=1013)  # try again later
        return
    try:
        await run_in_threadpool(chat.authenticate, conversation_id, token)
    except KefuError as exc:
        await _refuse(ws, exc)
        return
    position = _position(last_seq)
    if position is None:
        await ws.send_json(
            {
                "type": "error",
                "code": "invalid_last_seq",
                "message": f"'last_seq' must be an integer from 0 to {MAX_SEQ}",
            }
        )
        await ws.close(code=1008)
        return
    socket = _Socket(ws, chat, broker, conversation_id, token)
    socket.feed.sent = position
    async with broker.subscribe(conversation_id) as subscription:
        CUSTOMER_SOCKETS.inc()
        try:
            await socket.send(
                {"type": "ready", "conversation_id": conversation_id, "last_seq": socket.feed.sent}
            )
            await socket.feed.catch_up()
            await socket.note_shown()
            await until_first_ends(socket.receive, partial(socket.relay, subscription))
        finally:
            CUSTOMER_SOCKETS.dec()
