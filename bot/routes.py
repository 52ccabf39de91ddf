"""The customer chat API: REST to start, send, read and rate; a WebSocket for live chat.

Blocking work (database, models) runs in the thread pool; the event loop only moves frames.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, WebSocket, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from core.auth import SupervisorActor
from core.auth import bearer_token as _token
from core.broker import Broker
from core.conversations import ConversationEvent, EventPublic
from core.errors import KefuError
from core.realtime import SeqFeed, publish_events, publish_frame, receive_frames, until_first_ends

from .chat import ChatService
from .models import Exchange

__all__ = ["admin_router", "router"]

router = APIRouter(prefix="/api/chat", tags=["customer chat"])
admin_router = APIRouter(prefix="/api/admin", tags=["exchange log"])


class StartRequest(BaseModel):
    language: str | None = Field(default=None, max_length=8)
    name: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=254)
    tier: Literal["standard", "vip"] = "standard"


class StartResponse(BaseModel):
    conversation_id: str
    token: str


class SendRequest(BaseModel):
    text: str
    client_id: str | None = Field(default=None, max_length=64)
    suggestion: str | None = Field(default=None, max_length=64)


class SendResponse(BaseModel):
    message: EventPublic
    replies: list[EventPublic]


class EventsResponse(BaseModel):
    events: list[EventPublic]


class RateRequest(BaseModel):
    seq: int
    helpful: bool


def _chat(request: Request) -> ChatService:
    chat: ChatService = request.app.state.chat
    return chat


async def take_turn(
    chat: ChatService, broker: Broker, conversation_id: str, message_seq: int
) -> list[ConversationEvent]:
    replies = await run_in_threadpool(
        lambda: chat.bot_turn(conversation_id=conversation_id, message_seq=message_seq)
    )
    await publish_events(broker, replies)
    return replies


@router.post("/conversations", response_model=StartResponse, status_code=status.HTTP_201_CREATED)
def start_conversation(request: Request, body: StartRequest | None = None) -> StartResponse:
    body = body or StartRequest()
    conversation, token = _chat(request).start_conversation(
        language=body.language, name=body.name, email=body.email, tier=body.tier
    )
    return StartResponse(conversation_id=conversation.id, token=token)


@router.post("/conversations/{conversation_id}/messages", response_model=SendResponse)
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
        replies = await take_turn(chat, broker, conversation_id, event.seq)
    return SendResponse(message=EventPublic.of(event), replies=[EventPublic.of(e) for e in replies])


@router.get("/conversations/{conversation_id}/events", response_model=EventsResponse)
def read_events(
    request: Request,
    conversation_id: str,
    after: Annotated[int, Query(ge=0)] = 0,
    authorization: Annotated[str | None, Header()] = None,
) -> EventsResponse:
    events = _chat(request).history(
        conversation_id=conversation_id, token=_token(authorization), after=after
    )
    return EventsResponse(events=[EventPublic.of(e) for e in events])


@router.post("/conversations/{conversation_id}/ratings")
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
        self._send_lock = asyncio.Lock()
        self.feed = SeqFeed(fetch_after=self._fetch_after, emit=self._emit_event)

    async def _fetch_after(self, seq: int) -> list[dict[str, Any]]:
        missed = await run_in_threadpool(self.chat.events_since, self.conversation_id, seq)
        return [EventPublic.of(e).model_dump(mode="json") for e in missed]

    async def _emit_event(self, body: dict[str, Any]) -> None:
        if not body.get("internal"):
            await self.send({"type": "event", "event": body})

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_json(frame)

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
            elif frame.get("who") != "customer":
                await self.send(frame)

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
            await self.error("unknown_type", f"unknown frame type {kind!r}")

    async def on_typing(self, frame: dict[str, Any]) -> None:
        typing = frame.get("typing", True)
        if not isinstance(typing, bool):
            await self.error("invalid_typing", "'typing' must be a boolean")
            return
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
            await take_turn(self.chat, self.broker, self.conversation_id, event.seq)

    async def on_rate(self, frame: dict[str, Any]) -> None:
        seq, helpful = frame.get("seq"), frame.get("helpful")
        if not isinstance(seq, int) or not isinstance(helpful, bool):
            await self.error(
                "invalid_rating", "a rating needs an integer 'seq' and a boolean 'helpful'"
            )
            return
        await run_in_threadpool(
            lambda: self.chat.rate(
                conversation_id=self.conversation_id, token=self.token, seq=seq, helpful=helpful
            )
        )
        await self.send({"type": "rated", "seq": seq, "helpful": helpful})


@router.websocket("/ws")
async def chat_socket(
    ws: WebSocket,
    conversation_id: str = "",
    token: str = "",
    last_seq: int = 0,
) -> None:
    chat: ChatService = ws.app.state.chat
    broker: Broker = ws.app.state.broker
    await ws.accept()
    try:
        await run_in_threadpool(chat.authenticate, conversation_id, token)
    except KefuError as exc:
        await ws.send_json({"type": "error", "code": exc.code, "message": exc.message})
        await ws.close(code=4401 if exc.status == 401 else 4404)
        return
    socket = _Socket(ws, chat, broker, conversation_id, token)
    socket.feed.sent = max(0, last_seq)
    async with broker.subscribe(conversation_id) as subscription:
        await socket.send(
            {"type": "ready", "conversation_id": conversation_id, "last_seq": socket.feed.sent}
        )
        await socket.feed.catch_up()
        await until_first_ends(socket.receive, partial(socket.relay, subscription))
