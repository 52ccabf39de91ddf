"""The supervisors' live wall: ``GET /api/supervisor/wall`` and the socket that pushes it.

The socket authenticates as the agent socket does (the staff session cookie, this server's
Origin only) and then needs the supervisor or admin role: anyone else gets an ``error`` frame
(``unauthenticated`` / ``forbidden``) and the socket closes (4401 / 4403). It sends a ``wall``
frame at once and then whenever the wall says something new (``analytics/wall_feed.py``), and
answers ``ping`` with ``pong``. When the member's session ends elsewhere it closes with 4401.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from starlette.concurrency import run_in_threadpool

from core.auth import Actor, SupervisorActor
from core.broker import Broker
from core.clock import utcnow
from core.frames import FrameRefusedError, frame_text
from core.realtime import SESSIONS_ENDED, STAFF_CHANNEL, receive_frames, until_first_ends
from core.staff import Role
from handoff.agent_socket import same_origin, socket_actor

from .wall import WallSnapshot, wall_snapshot
from .wall_feed import WallFeed

__all__ = ["router"]

router = APIRouter(tags=["wall"])
_WATCHERS = (Role.supervisor, Role.admin)


@router.get("/api/supervisor/wall", response_model=WallSnapshot)
def wall(request: Request, _actor: SupervisorActor) -> WallSnapshot:
    """The wall as it stands now: what the socket pushes, for a first paint and for scripts."""
    return wall_snapshot(request.app.state.engine, request.app.state.settings, utcnow())


class _WallSocket:
    def __init__(self, ws: WebSocket, feed: WallFeed, broker: Broker, actor: Actor) -> None:
        self.ws = ws
        self.feed = feed
        self.broker = broker
        self.actor = actor
        self._send_lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(frame_text(frame))

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def push(self) -> None:
        sent = 0
        async with self.feed.watching():
            while True:
                sent, snapshot = await self.feed.after(sent)
                body = snapshot.model_dump(mode="json")
                # The page ticks waits from the server's clock, not the screen's.
                await self.send({"type": "wall", "server_time": utcnow().isoformat(), **body})

    async def watch_session(self) -> None:
        async with self.broker.subscribe(STAFF_CHANNEL) as subscription:
            while True:
                body = await subscription.get()
                if body.get("type") != SESSIONS_ENDED or body.get("user_id") != self.actor.user_id:
                    continue
                if await run_in_threadpool(socket_actor, self.ws) is None:
                    await self.error("session_ended", "this session has ended; log in again")
                    await self.ws.close(code=4401)
                    return

    async def receive(self) -> None:
        await receive_frames(self.ws, self.handle, self.error)

    async def handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind != "ping":
            raise FrameRefusedError("unknown_type", f"unknown frame type {kind!r:.60}")
        await self.send({"type": "pong"})


async def _refuse(ws: WebSocket, code: str, message: str, close: int) -> None:
    await ws.send_json({"type": "error", "code": code, "message": message})
    await ws.close(code=close)


@router.websocket("/api/supervisor/wall/ws")
async def wall_socket(ws: WebSocket) -> None:
    await ws.accept()
    actor = await run_in_threadpool(socket_actor, ws)
    if actor is None:
        await _refuse(ws, "unauthenticated", "log in first", 4401)
        return
    if not same_origin(ws):
        await _refuse(ws, "forbidden", "cross-site socket refused", 4403)
        return
    if actor.role not in _WATCHERS:
        await _refuse(ws, "forbidden", "the live wall is for supervisors and admins", 4403)
        return
    socket = _WallSocket(ws, ws.app.state.wall_feed, ws.app.state.broker, actor)
    await until_first_ends(socket.receive, socket.push, socket.watch_session)
