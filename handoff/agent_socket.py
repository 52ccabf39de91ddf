"""The agent's WebSocket: the queue's change notices, and live transcripts of the chats the
console has open, each replayed from the ``last_seq`` it asks for.

Authenticated by the staff session cookie; the Origin must be this server, since a cookie
alone would let another site's page open the socket in the agent's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from core.auth import COOKIE, Actor
from core.broker import Broker
from core.conversations import EVENTS_PAGE, EventPublic
from core.db import session_scope
from core.errors import KefuError
from core.frames import FrameRefusedError, frame_text
from core.realtime import (
    SESSIONS_ENDED,
    STAFF_CHANNEL,
    SeqFeed,
    notify_activity,
    publish_events,
    publish_frame,
    receive_frames,
    until_first_ends,
)
from core.settings import Settings
from core.staff import Role, resolve_session, restriction, touch_session
from core.text import MAX_SEQ, check_seq

from .desk import HandoffDesk
from .masking import agent_event_body
from .presence import close_console, mark_alive, open_console, sweep_consoles

__all__ = ["ConsoleSockets", "router", "same_origin", "socket_actor"]

log = logging.getLogger(__name__)
router = APIRouter()
MAX_SUBSCRIPTIONS = 50
# An agent's own frames on the socket (replies, typing, opening chats; not the automatic pings)
# count as activity for the session's idle timeout, recorded at most this often (or every
# twentieth of the timeout, if that is shorter).
TOUCH_EVERY_SECONDS = 30.0


class ConsoleSockets:
    """This process's open console sockets, each a row in ``agent_console`` that every process
    counts (``handoff.presence``). When none of an online agent's consoles, on any process, has
    been open for the desk's ``away_after_disconnect``, they are set away, so automatic
    assignment stops sending chats to a closed browser. A reconnect in time changes nothing.

    Sockets are marked alive every ``heartbeat`` seconds; a process that dies stops marking
    them, and three missed beats later they stop counting.
    """

    def __init__(self, desk: HandoffDesk, broker: Broker, *, heartbeat: float = 10.0) -> None:
        self._desk = desk
        self._broker = broker
        self._heartbeat = heartbeat
        self._open: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._beating: asyncio.Task[None] | None = None

    @property
    def _away_after(self) -> timedelta:
        return self._desk.config.away_after_disconnect

    def start(self) -> None:
        self._beating = asyncio.create_task(self._beat())

    async def opened(self, user_id: int) -> str:
        console_id = await run_in_threadpool(open_console, self._desk.engine, user_id)
        self._open[console_id] = user_id
        return console_id

    def closed(self, console_id: str) -> None:
        """Recorded by a task of its own, so a socket ended by cancellation still closes."""
        self._open.pop(console_id, None)
        task = asyncio.create_task(self._after_close(console_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_close(self, console_id: str) -> None:
        try:
            await run_in_threadpool(close_console, self._desk.engine, console_id)
            # Just past the away time, when this close can first decide anything.
            await asyncio.sleep(self._away_after.total_seconds() + 0.05)
            await self.sweep()
        except Exception:  # a task nobody awaits: say what went wrong rather than lose it
            log.exception("could not record that console %s closed", console_id)

    async def sweep(self) -> None:
        away = await run_in_threadpool(
            lambda: sweep_consoles(
                self._desk.engine,
                away_after=self._away_after,
                expiry=timedelta(seconds=3 * self._heartbeat),
            )
        )
        if away:
            await notify_activity(self._broker)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            try:
                await run_in_threadpool(mark_alive, self._desk.engine, list(self._open))
                # Also notices agents whose consoles were on a process that died.
                await self.sweep()
            except Exception:
                log.exception("could not mark this process's consoles alive")

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._beating] if self._beating else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._beating = None


def socket_actor(ws: WebSocket) -> Actor | None:
    """The socket's staff member, while their session lasts and they have nothing to do first
    (a temporary password to change, two-step sign-in to set up). Every staff socket's check
    (this one, the supervisors' wall in analytics/wall_routes.py)."""
    token = ws.cookies.get(COOKIE)
    if not token:
        return None
    settings: Settings = ws.app.state.settings
    with Session(ws.app.state.engine) as session:
        found = resolve_session(
            session, token, idle=timedelta(minutes=settings.staff_session_idle_minutes)
        )
    if found is None:
        return None
    user, login = found
    if restriction(user, mfa_required_roles=settings.mfa_required_roles) is not None:
        return None
    return Actor(user.id or 0, user.username, user.display_name, Role(user.role), login.public_id)


def _touch(ws: WebSocket) -> None:
    settings: Settings = ws.app.state.settings
    idle = timedelta(minutes=settings.staff_session_idle_minutes)
    with session_scope(ws.app.state.engine) as session:
        found = resolve_session(session, ws.cookies.get(COOKIE, ""), idle=idle)
        if found is not None:
            touch_session(session, found[1], idle=idle)


def same_origin(ws: WebSocket) -> bool:
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
        self._touched = time.monotonic()
        settings: Settings = ws.app.state.settings
        self._touch_every = min(TOUCH_EVERY_SECONDS, settings.staff_session_idle_minutes * 3)

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(frame_text(frame))

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def relay_staff(self) -> None:
        async with self.broker.subscribe(STAFF_CHANNEL) as subscription:
            while True:
                body = await subscription.get()
                if subscription.overflowed:
                    await self.ws.close(code=1013, reason="too slow to keep up")
                    return
                if body.get("type") == SESSIONS_ENDED:
                    if body.get("user_id") == self.actor.user_id and not await self.still_valid():
                        await self.error("session_ended", "this session has ended; log in again")
                        await self.ws.close(code=4401)
                        return
                    continue
                if not self._addressed(body.get("to")):
                    continue
                await self.send(body.get("frame", {}))

    def _addressed(self, to: Any) -> bool:
        """A staff frame with ``to`` goes only to those users and roles; without, to everyone."""
        if not isinstance(to, dict):
            return True
        return self.actor.user_id in (to.get("user_ids") or []) or str(self.actor.role) in (
            to.get("roles") or []
        )

    async def still_valid(self) -> bool:
        """Whether this socket's own session still stands (another of the user's may be the one
        that ended)."""
        return await run_in_threadpool(socket_actor, self.ws) is not None

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
                    conversation_id=conversation_id, actor=self.actor, after=seq, limit=EVENTS_PAGE
                )
            )
            return [EventPublic.of(e).model_dump(mode="json") for e in events]

        async def emit(body: dict[str, Any]) -> None:
            # Masked here, not before publishing: the customer's socket shares the channel.
            shown = agent_event_body(body, self.desk.config.pii, self.actor.role)
            await self.send({"type": "event", "event": shown})

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
        if kind != "ping" and time.monotonic() - self._touched >= self._touch_every:
            self._touched = time.monotonic()
            await run_in_threadpool(_touch, self.ws)
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
            raise FrameRefusedError("unknown_type", f"unknown frame type {kind!r:.60}")

    async def subscribe(self, conversation_id: object, last_seq: object) -> None:
        position = check_seq(last_seq)
        if not isinstance(conversation_id, str) or position is None:
            raise FrameRefusedError(
                "invalid_subscribe",
                f"'conversation_id' must be a string, 'last_seq' an integer from 0 to {MAX_SEQ}",
            )
        if len(self.open) >= MAX_SUBSCRIPTIONS and conversation_id not in self.open:
            raise FrameRefusedError(
                "too_many_subscriptions", f"at most {MAX_SUBSCRIPTIONS} open chats"
            )
        await run_in_threadpool(
            lambda: self.desk.check_conversation(conversation_id=conversation_id, actor=self.actor)
        )
        previous = self.open.pop(conversation_id, None)
        if previous is not None:
            previous.cancel()
        scope = anyio.CancelScope()
        self.open[conversation_id] = scope
        assert self.group is not None
        self.group.start_soon(self.follow, conversation_id, position, scope)

    async def reply(self, frame: dict[str, Any]) -> None:
        ticket_id, client_id = frame.get("ticket_id"), frame.get("client_id")
        if (
            isinstance(ticket_id, bool)
            or not isinstance(ticket_id, int)
            or (
                client_id is not None
                and (not isinstance(client_id, str) or not 0 < len(client_id) <= 64)
            )
        ):
            raise FrameRefusedError(
                "invalid_message", "a message needs an integer 'ticket_id' and a short 'client_id'"
            )
        event, created = await run_in_threadpool(
            lambda: self.desk.reply(
                ticket_id=ticket_id,
                actor=self.actor,
                text=frame.get("text"),
                client_id=client_id,
                confirm_phrases=frame.get("confirm_phrases") is True,
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
            raise FrameRefusedError(
                "invalid_typing", "'conversation_id' and a boolean 'typing' needed"
            )
        if conversation_id not in self.open:
            raise FrameRefusedError("not_subscribed", "subscribe to the conversation first")
        await publish_frame(
            self.broker,
            conversation_id,
            {"type": "typing", "who": "agent", "name": self.actor.display_name, "typing": typing},
        )


@router.websocket("/api/agent/ws")
async def agent_socket(ws: WebSocket) -> None:
    await ws.accept()
    actor = await run_in_threadpool(socket_actor, ws)
    if actor is None:
        await ws.send_json({"type": "error", "code": "unauthenticated", "message": "log in first"})
        await ws.close(code=4401)
        return
    if not same_origin(ws):
        await ws.send_json(
            {"type": "error", "code": "forbidden", "message": "cross-site socket refused"}
        )
        await ws.close(code=4403)
        return
    socket = _AgentSocket(ws, ws.app.state.desk, ws.app.state.broker, actor)
    consoles: ConsoleSockets = ws.app.state.console_sockets
    console_id = await consoles.opened(actor.user_id)
    try:
        await socket.send(
            {"type": "ready", "agent": {"username": actor.name, "display_name": actor.display_name}}
        )

        def keep(group: anyio.abc.TaskGroup) -> None:
            socket.group = group  # subscriptions start their relays in it

        await until_first_ends(socket.receive, socket.relay_staff, started=keep)
    finally:
        consoles.closed(console_id)
