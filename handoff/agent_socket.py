"""The agent's WebSocket: the queue's change notices, and live transcripts of the chats the
console has open, each replayed from the ``last_seq`` it asks for.

Authenticated by the staff session cookie; the Origin must be this server, since a cookie
alone would let another site's page open the socket in the agent's name.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from core.auth import COOKIE, Actor
from core.broker import Broker
from core.conversations import EventPublic
from core.errors import KefuError
from core.realtime import (
    STAFF_CHANNEL,
    SeqFeed,
    notify_activity,
    publish_events,
    publish_frame,
    receive_frames,
    until_first_ends,
)
from core.staff import Role, resolve_session

from .desk import HandoffDesk

__all__ = ["ConsoleSockets", "router"]

log = logging.getLogger(__name__)
router = APIRouter()
MAX_SUBSCRIPTIONS = 50


class ConsoleSockets:
    """Each agent's open console sockets in this process. When an online agent's last socket
    has been gone for the desk's ``away_after_disconnect``, they are set away, so automatic
    assignment stops sending chats to a closed browser. A reconnect in time cancels that.

    Counted per process: with several processes behind one broker, an agent connected to
    another process can be set away here (they set themselves online again).
    """

    def __init__(self, desk: HandoffDesk, broker: Broker) -> None:
        self._desk = desk
        self._broker = broker
        self._open: Counter[int] = Counter()
        self._timers: dict[int, asyncio.Task[None]] = {}

    def opened(self, user_id: int) -> None:
        self._open[user_id] += 1
        timer = self._timers.pop(user_id, None)
        if timer is not None:
            timer.cancel()

    def closed(self, user_id: int) -> None:
        self._open[user_id] -= 1
        if self._open[user_id] <= 0:
            del self._open[user_id]
            self._timers[user_id] = asyncio.create_task(self._away_later(user_id))

    async def _away_later(self, user_id: int) -> None:
        await asyncio.sleep(self._desk.config.away_after_disconnect.total_seconds())
        self._timers.pop(user_id, None)
        if self._open[user_id]:
            return
        try:
            if await run_in_threadpool(self._desk.set_away_if_online, user_id):
                await notify_activity(self._broker)
        except Exception:  # a task nobody awaits: say what went wrong rather than lose it
            log.exception("could not set agent %s away after their console closed", user_id)

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


def _actor(ws: WebSocket) -> Actor | None:
    token = ws.cookies.get(COOKIE)
    if not token:
        return None
    with Session(ws.app.state.engine) as session:
        found = resolve_session(session, token)
    if found is None:
        return None
    user, _login = found
    return Actor(user.id or 0, user.username, user.display_name, Role(user.role))


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == ws.headers.get("host")


class _AgentSocket:
    def __init__(self, ws: WebSocket, desk: HandoffDesk, broker: Broker, actor: Actor) -> None:
        self.ws = ws
        self.desk = desk
        self.broker = broker
        self.actor = actor
        self.open: dict[str, anyio.CancelScope] = {}
        self._send_lock = asyncio.Lock()
        self.group: anyio.abc.TaskGroup | None = None

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_json(frame)

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def relay_staff(self) -> None:
        async with self.broker.subscribe(STAFF_CHANNEL) as subscription:
            while True:
                body = await subscription.get()
                if subscription.overflowed:
                    await self.ws.close(code=1013, reason="too slow to keep up")
                    return
                await self.send(body.get("frame", {}))

    async def follow(self, conversation_id: str, last_seq: int, scope: anyio.CancelScope) -> None:
        """Replay then relay one conversation until unsubscribed or the socket ends."""
        try:
            with scope:
                await self._follow(conversation_id, last_seq)
        except KefuError as exc:
            await self.error(exc.code, exc.message, conversation_id=conversation_id)
        except WebSocketDisconnect:
            assert self.group is not None
            self.group.cancel_scope.cancel()
        finally:
            if self.open.get(conversation_id) is scope:
                del self.open[conversation_id]

    async def _follow(self, conversation_id: str, last_seq: int) -> None:

        async def fetch_after(seq: int) -> list[dict[str, Any]]:
            events = await run_in_threadpool(
                lambda: self.desk.events(
                    conversation_id=conversation_id, actor=self.actor, after=seq
                )
            )
            return [EventPublic.of(e).model_dump(mode="json") for e in events]

        async def emit(body: dict[str, Any]) -> None:
            await self.send({"type": "event", "event": body})

        feed = SeqFeed(fetch_after=fetch_after, emit=emit, sent=last_seq)
        async with self.broker.subscribe(conversation_id) as subscription:
            await self.send(
                {"type": "subscribed", "conversation_id": conversation_id, "last_seq": feed.sent}
            )
            await feed.catch_up()
            while True:
                body = await subscription.get()
                if subscription.overflowed:
                    await self.ws.close(code=1013, reason="too slow to keep up")
                    return
                frame = body.get("frame")
                if frame is None:
                    await feed.deliver([body])
                elif frame.get("type") == "typing" and frame.get("who") == "customer":
                    await self.send(frame)

    async def receive(self) -> None:
        await receive_frames(self.ws, self.handle, self.error)

    async def handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        conversation_id = frame.get("conversation_id")
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "subscribe":
            await self.subscribe(conversation_id, frame.get("last_seq", 0))
        elif kind == "unsubscribe":
            scope = self.open.pop(str(conversation_id), None)
            if scope is not None:
                scope.cancel()
        elif kind == "message":
            await self.reply(frame)
        elif kind == "typing":
            await self.typing(conversation_id, frame.get("typing", True))
        else:
            await self.error("unknown_type", f"unknown frame type {kind!r}")

    async def subscribe(self, conversation_id: object, last_seq: object) -> None:
        if not isinstance(conversation_id, str) or not isinstance(last_seq, int) or last_seq < 0:
            await self.error(
                "invalid_subscribe", "'conversation_id' must be a string, 'last_seq' an integer ≥ 0"
            )
            return
        if len(self.open) >= MAX_SUBSCRIPTIONS and conversation_id not in self.open:
            await self.error("too_many_subscriptions", f"at most {MAX_SUBSCRIPTIONS} open chats")
            return
        await run_in_threadpool(
            lambda: self.desk.check_conversation(conversation_id=conversation_id, actor=self.actor)
        )
        previous = self.open.pop(conversation_id, None)
        if previous is not None:
            previous.cancel()
        scope = anyio.CancelScope()
        self.open[conversation_id] = scope
        assert self.group is not None
        self.group.start_soon(self.follow, conversation_id, last_seq, scope)

    async def reply(self, frame: dict[str, Any]) -> None:
        ticket_id, client_id = frame.get("ticket_id"), frame.get("client_id")
        if not isinstance(ticket_id, int) or (
            client_id is not None
            and (not isinstance(client_id, str) or not 0 < len(client_id) <= 64)
        ):
            await self.error(
                "invalid_message", "a message needs an integer 'ticket_id' and a short 'client_id'"
            )
            return
        event, created = await run_in_threadpool(
            lambda: self.desk.reply(
                ticket_id=ticket_id, actor=self.actor, text=frame.get("text"), client_id=client_id
            )
        )
        await self.send(
            {
                "type": "ack",
                "client_id": client_id,
                "conversation_id": event.conversation_id,
                "seq": event.seq,
                "duplicate": not created,
            }
        )
        if created:
            await publish_events(self.broker, [event])

    async def typing(self, conversation_id: object, typing: object) -> None:
        if not isinstance(conversation_id, str) or not isinstance(typing, bool):
            await self.error("invalid_typing", "'conversation_id' and a boolean 'typing' needed")
            return
        if conversation_id not in self.open:
            await self.error("not_subscribed", "subscribe to the conversation first")
            return
        await publish_frame(
            self.broker,
            conversation_id,
            {"type": "typing", "who": "agent", "name": self.actor.display_name, "typing": typing},
        )


@router.websocket("/api/agent/ws")
async def agent_socket(ws: WebSocket) -> None:
    await ws.accept()
    actor = await run_in_threadpool(_actor, ws)
    if actor is None:
        await ws.send_json({"type": "error", "code": "unauthenticated", "message": "log in first"})
        await ws.close(code=4401)
        return
    if not _same_origin(ws):
        await ws.send_json(
            {"type": "error", "code": "forbidden", "message": "cross-site socket refused"}
        )
        await ws.close(code=4403)
        return
    socket = _AgentSocket(ws, ws.app.state.desk, ws.app.state.broker, actor)
    consoles: ConsoleSockets = ws.app.state.console_sockets
    consoles.opened(actor.user_id)
    try:
        await socket.send(
            {"type": "ready", "agent": {"username": actor.name, "display_name": actor.display_name}}
        )

        def keep(group: anyio.abc.TaskGroup) -> None:
            socket.group = group  # subscriptions start their relays in it

        await until_first_ends(socket.receive, socket.relay_staff, started=keep)
    finally:
        consoles.closed(actor.user_id)
