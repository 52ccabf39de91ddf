"""What travels over the broker, and in-order delivery of events to one socket.

Two kinds of message share a conversation's channel: stored events (an ``EventPublic`` body,
with its ``seq``) and ephemeral frames (``{"frame": {...}}``: typing, queue position) that are
never stored. The ``activity`` channel carries a notice for every event that changes who owns
a conversation, so the handoff dispatcher can react; the ``staff`` channel reaches every agent.
The ``events`` channel carries a notice (conversation id and newest seq) for every batch of
stored events, so the webhook outbox can deliver at once instead of at its next poll.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
from starlette.websockets import WebSocket, WebSocketDisconnect

from .broker import Broker
from .conversations import ConversationEvent, EventPublic
from .errors import KefuError
from .frames import FrameTooLargeError, parse_frame

__all__ = [
    "ACTIVITY_CHANNEL",
    "EVENTS_CHANNEL",
    "SESSIONS_ENDED",
    "STAFF_CHANNEL",
    "SeqFeed",
    "notify_activity",
    "notify_sessions_ended",
    "notify_stored",
    "publish_events",
    "publish_frame",
    "receive_frames",
    "until_first_ends",
]

ACTIVITY_CHANNEL = "activity"
EVENTS_CHANNEL = "events"
STAFF_CHANNEL = "staff"
# On the staff channel: some of a staff member's sessions ended (signed out elsewhere, password
# changed, account disabled). Each of their consoles re-checks its own session and closes if it
# is gone, on whichever process holds it.
SESSIONS_ENDED = "staff.sessions_ended"

EventBody = dict[str, Any]
log = logging.getLogger(__name__)


async def publish_events(broker: Broker, events: list[ConversationEvent]) -> None:
    """Notify subscribers after the events are committed."""
    changes_hands = False
    for event in events:
        await broker.publish(event.conversation_id, EventPublic.of(event).model_dump(mode="json"))
        changes_hands = changes_hands or (event.type != "message" and not event.internal)
    if changes_hands:
        await notify_activity(broker, events[-1].conversation_id)
    await notify_stored(broker, events)


async def notify_stored(broker: Broker, events: list[ConversationEvent]) -> None:
    """The ``events`` notice: each conversation's newest seq among ``events`` (the outbox of a
    channel's conversations wakes on it)."""
    newest: dict[str, int] = {}
    for event in events:
        newest[event.conversation_id] = max(event.seq, newest.get(event.conversation_id, 0))
    for conversation_id, seq in newest.items():
        await broker.publish(EVENTS_CHANNEL, {"conversation_id": conversation_id, "seq": seq})


async def publish_frame(broker: Broker, conversation_id: str, frame: dict[str, Any]) -> None:
    await broker.publish(conversation_id, {"frame": frame})


async def notify_sessions_ended(broker: Broker, user_id: int) -> None:
    await broker.publish(STAFF_CHANNEL, {"type": SESSIONS_ENDED, "user_id": user_id})


async def notify_activity(broker: Broker, conversation_id: str = "") -> None:
    await broker.publish(ACTIVITY_CHANNEL, {"conversation_id": conversation_id})


class SeqFeed:
    """Sends one conversation's events to one socket exactly once each, in ``seq`` order.

    A live notification that skips numbers makes it fetch the gap from the database first.
    Events the viewer may not see (``visible`` says no) only advance the position.
    """

    def __init__(
        self,
        *,
        fetch_after: Callable[[int], Awaitable[list[EventBody]]],
        emit: Callable[[EventBody], Awaitable[None]],
        sent: int = 0,
        visible: Callable[[EventBody], bool] = lambda _body: True,
    ) -> None:
        self._fetch_after = fetch_after
        self._emit = emit
        self._visible = visible
        self.sent = max(0, sent)

    async def catch_up(self) -> None:
        """Send every stored event past ``sent``, a page at a time, however many there are."""
        await self._fill(before=None)

    async def deliver(self, bodies: list[EventBody]) -> None:
        for body in bodies:
            seq = int(body["seq"])
            if seq <= self.sent:
                continue
            if seq > self.sent + 1:
                await self._fill(before=seq)
                # Anything still missing below ``seq`` is hidden from this viewer: events of one
                # conversation commit in seq order, so none can appear later.
                self.sent = max(self.sent, seq - 1)
            await self._send(body)

    async def _fill(self, *, before: int | None) -> None:
        """Send stored events past ``sent`` (below ``before``) page by page until none is left.

        A page read from the database is complete up to its last ``seq`` (commits follow seq
        order), so the position moves past events this viewer may not read without a re-read.
        """
        while before is None or self.sent < before - 1:
            fetched = await self._fetch_after(self.sent)
            page = [body for body in fetched if before is None or int(body["seq"]) < before]
            for body in page:
                await self._send(body)
            if not page or len(page) < len(fetched):
                return

    async def _send(self, body: EventBody) -> None:
        seq = int(body["seq"])
        if seq <= self.sent:
            return
        self.sent = seq
        if self._visible(body):
            await self._emit(body)


async def receive_frames(
    ws: WebSocket,
    handle: Callable[[dict[str, Any]], Awaitable[None]],
    error: Callable[..., Awaitable[None]],
) -> None:
    """Read frames until the socket closes, handing each JSON object to ``handle``.

    The one error path of both sockets: a frame ``parse_frame`` refuses, or a ``KefuError``
    from handling one, becomes an error frame with a code (and the frame's ``client_id`` and
    ``conversation_id``, so a client can tell which failed, and ``retry_after`` for a rate
    limit); the socket stays open. Only a frame too large to read is abusive enough to close
    the socket (code 1009). A bug in a handler is logged once and answered with
    ``internal_error``; the socket still stays open.
    """
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        frame: dict[str, Any] = {}
        try:
            frame = parse_frame(message.get("text"))
            await handle(frame)
        except FrameTooLargeError as exc:
            await error(exc.code, exc.message)
            await ws.close(code=1009, reason="frame too large")
            return
        except KefuError as exc:
            detail = next((d.get("code") for d in exc.details if "code" in d), None)
            await error(str(detail or exc.code), exc.message, **_about(frame), **_wait(exc))
        except WebSocketDisconnect:
            raise
        except Exception:
            log.exception("could not handle a %s frame", _kind(frame))
            await error("internal_error", "the server could not handle this frame", **_about(frame))


def _about(frame: dict[str, Any]) -> dict[str, str]:
    """The ids an error frame repeats, when they are short strings (checked by the parser)."""
    return {
        key: frame[key]
        for key in ("client_id", "conversation_id")
        if isinstance(frame.get(key), str) and len(frame[key]) <= 64
    }


def _wait(exc: KefuError) -> dict[str, int]:
    """A refusal that passes with time (a rate limit) says when: ``retry_after`` seconds."""
    for detail in exc.details:
        wait = detail.get("retry_after")
        if isinstance(wait, int):
            return {"retry_after": wait}
    return {}


def _kind(frame: dict[str, Any]) -> str:
    kind = frame.get("type")
    return repr(kind[:32]) if isinstance(kind, str) else "malformed"


async def until_first_ends(
    *sides: Callable[[], Awaitable[None]],
    started: Callable[[anyio.abc.TaskGroup], None] | None = None,
) -> None:
    """Run a socket's sides (its reader, its relays) until the first ends, then cancel the rest.

    Structured concurrency: a cancellation from the server (shutdown, or the client going away)
    reaches every side. ``started`` gets the task group, for work a side starts later.
    """
    async with anyio.create_task_group() as group:
        if started is not None:
            started(group)

        async def run(side: Callable[[], Awaitable[None]]) -> None:
            try:
                await side()
            except WebSocketDisconnect:
                pass
            finally:
                group.cancel_scope.cancel()

        for side in sides:
            group.start_soon(run, side)
