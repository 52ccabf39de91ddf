"""Sending API channels' events to their webhooks: the body, its signature, and the worker.

Every process runs one ``WebhookWorker``. It enqueues (``channels/deliveries.py``) the events
of a conversation as soon as the broker's ``events`` channel says they were committed, and every
``KEFU_WEBHOOK_POLL_SECONDS`` sweeps for any it missed; then it claims due deliveries by lease
and POSTs each, signed, to its channel's URL, never following a redirect. A 2xx is delivered;
anything else is retried with backoff, up to ``KEFU_WEBHOOK_MAX_ATTEMPTS``. A stopping worker
claims nothing more and finishes what it sends, so a graceful restart doubles nothing; a killed
one's leases run out (or are freed at once when the same instance starts again), so what it was
sending is sent again: at least once, and the receiver dedupes by ``X-Kefu-Delivery``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from core.broker import Broker, Subscription
from core.clock import utcnow
from core.conversations import Conversation
from core.metrics import WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_SECONDS
from core.realtime import EVENTS_CHANNEL

from .deliveries import (
    OUTBOUND_KINDS,
    Attempt,
    Claimed,
    DeliveryRules,
    claim_due,
    enqueue,
    record_attempt,
    release,
    stale_conversations,
)
from .models import ChannelKind
from .wechat import WeChatAccount, message_text
from .wechat_api import WeChatApi, WeChatApiError

__all__ = ["WebhookWorker", "customer_author", "sign", "webhook_body"]

log = logging.getLogger("kefu.channels.webhooks")

# Deliveries one process sends at once, and at most per channel: a receiver that hangs holds
# a few slots for the timeout, never all of them.
CONCURRENCY = 32
PER_CHANNEL = 8
# Payload keys that name staff as only staff know them (the widget shows display names).
_STAFF_ONLY_KEYS = frozenset({"username"})
_KNOWN_CHANNELS = 10_000


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """``X-Kefu-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def customer_author(author: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The author as the customer sees it: the bot, the system, or an agent by display name."""
    if author.startswith("agent:"):
        return {"type": "agent", "name": payload.get("agent")}
    return {"type": author if author in ("bot", "system") else "system", "name": None}


def webhook_body(claimed: Claimed) -> bytes:
    payload = {k: v for k, v in claimed.payload.items() if k not in _STAFF_ONLY_KEYS}
    body = {
        "id": claimed.id,
        "event": claimed.event_type,
        "channel": claimed.channel,
        "contact": {"id": claimed.external_id},
        "conversation_id": claimed.conversation_id,
        "seq": claimed.seq,
        "author": customer_author(claimed.author, claimed.payload),
        "payload": payload,
        "created_at": claimed.event_at.isoformat(),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookWorker:
    """The outbox's worker: an API channel's events go to its webhook, a WeChat channel's
    messages through the account's customer-service message API (``wechat``)."""

    def __init__(
        self,
        engine: Engine,
        broker: Broker,
        rules: DeliveryRules,
        worker: str,
        *,
        wechat: WeChatApi | None = None,
        passive_hold: timedelta = timedelta(seconds=5),
    ) -> None:
        self.engine = engine
        self.broker = broker
        self.rules = rules
        self.worker = worker
        self.wechat = wechat
        self.passive_hold = passive_hold
        self._task: asyncio.Task[None] | None = None
        self._sending: dict[asyncio.Task[None], int] = {}
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._api: dict[str, bool] = {}
        self._http: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._http = httpx.AsyncClient(
            follow_redirects=False, timeout=self.rules.timeout, trust_env=False
        )
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    def wake(self) -> None:
        """Look for due deliveries now (a replay was queued on this process)."""
        self._wake.set()

    async def stop(self) -> None:
        """Claim nothing more; let every send in flight finish and record its outcome."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        await run_in_threadpool(release, self.engine, worker=self.worker)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _run(self) -> None:
        # Leases this instance held before a restart: free them, so they go out at once.
        await run_in_threadpool(release, self.engine, worker=self.worker)
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        async with self.broker.subscribe(EVENTS_CHANNEL) as notices:
            while not self._stopping.is_set():
                try:
                    touched = _drain(notices)
                    if loop.time() >= next_sweep:
                        next_sweep = loop.time() + self.rules.poll
                        touched.update(await run_in_threadpool(stale_conversations, self.engine))
                    await run_in_threadpool(self._enqueue, touched)
                    await self._claim()
                except Exception:  # the database may be away a moment: the next pass retries
                    log.exception("webhook delivery pass failed")
                await self._wait(notices, max(0.0, next_sweep - loop.time()))

    def _enqueue(self, conversation_ids: set[str]) -> None:
        for conversation_id in conversation_ids:
            if self._has_outbox(conversation_id):
                enqueue(self.engine, conversation_id, hold=self.passive_hold)

    def _has_outbox(self, conversation_id: str) -> bool:
        """A conversation's channel never changes: asked once per process."""
        known = self._api.get(conversation_id)
        if known is None:
            with Session(self.engine) as session:
                conversation = session.get(Conversation, conversation_id)
            known = conversation is not None and conversation.channel in OUTBOUND_KINDS
            if len(self._api) >= _KNOWN_CHANNELS:
                self._api.clear()
            self._api[conversation_id] = known
        return known

    async def _claim(self) -> None:
        free = CONCURRENCY - len(self._sending)
        if free <= 0 or self._stopping.is_set():
            return
        busy: dict[int, int] = {}
        for channel_id in self._sending.values():
            busy[channel_id] = busy.get(channel_id, 0) + 1
        claimed = await run_in_threadpool(
            lambda: claim_due(
                self.engine,
                worker=self.worker,
                lease=self.rules.lease,
                limit=free,
                busy_channels=busy,
                per_channel=PER_CHANNEL,
            )
        )
        for item in claimed:
            task = asyncio.create_task(self._deliver(item), name=f"webhook-{item.id}")
            self._sending[task] = item.channel_id
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._sending.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery failed", exc_info=task.exception())
        self._wake.set()  # a slot is free, and the conversation's next event may be due

    async def _wait(self, notices: Subscription, seconds: float) -> None:
        notice = asyncio.ensure_future(notices.queue.get())
        others = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        done, pending = await asyncio.wait(
            [notice, *others], timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if notice in done:
            notices.queue.put_nowait(notice.result())  # _drain reads it with the rest
        self._wake.clear()

    async def _deliver(self, claimed: Claimed) -> None:
        if claimed.kind == ChannelKind.wechat:
            attempt = await run_in_threadpool(self._send_wechat, claimed)
        else:
            attempt = await self._post(claimed)
        outcome = await run_in_threadpool(
            lambda: record_attempt(
                self.engine, claimed, attempt, worker=self.worker, rules=self.rules
            )
        )
        if outcome is None:
            return
        WEBHOOK_DELIVERIES.labels(
            outcome="retry" if outcome.state == "pending" else outcome.state
        ).inc()
        if outcome.state == "delivered" and not claimed.replay:
            WEBHOOK_DELIVERY_SECONDS.observe((utcnow() - claimed.event_at).total_seconds())
        if outcome.next_attempt_at is not None:
            delay = max(0.0, (outcome.next_attempt_at - utcnow()).total_seconds())
            asyncio.get_running_loop().call_later(delay, self._wake.set)

    async def _post(self, claimed: Claimed) -> Attempt:
        assert self._http is not None
        body = webhook_body(claimed)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "kefu-webhooks/1",
            "X-Kefu-Delivery": str(claimed.id),
            "X-Kefu-Event": claimed.event_type,
            "X-Kefu-Signature": sign(claimed.secret, body, int(time.time())),
        }
        if claimed.replay:
            headers["X-Kefu-Replay"] = "1"
        started = time.perf_counter()
        status: int | None = None
        error: str | None
        try:
            async with asyncio.timeout(self.rules.timeout):
                response = await self._http.post(claimed.url, content=body, headers=headers)
            status = response.status_code
            error = None if 200 <= status < 300 else _refusal(response)
        except TimeoutError:
            error = f"no answer within {self.rules.timeout:g} s"
        except Exception as exc:  # a bad URL, a refused connection, TLS: all are failures
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        return Attempt(status, error, round((time.perf_counter() - started) * 1000))

    def _send_wechat(self, claimed: Claimed) -> Attempt:
        started = time.perf_counter()
        text = message_text(claimed.payload)
        if self.wechat is None or not claimed.external_id:
            return Attempt(None, "no WeChat API or OpenID for this delivery", 0, permanent=True)
        try:
            if text:
                account = WeChatAccount.of(claimed.config)
                self.wechat.send_text(claimed.channel_id, account, claimed.external_id, text)
        except WeChatApiError as error:
            duration = round((time.perf_counter() - started) * 1000)
            return Attempt(None, str(error)[:500], duration, permanent=error.permanent)
        return Attempt(200, None, round((time.perf_counter() - started) * 1000))


def _refusal(response: httpx.Response) -> str:
    if response.is_redirect:
        return f"HTTP {response.status_code}: redirects are not followed"
    return f"HTTP {response.status_code}"


def _drain(notices: Subscription) -> set[str]:
    touched: set[str] = set()
    while not notices.queue.empty():
        message = notices.queue.get_nowait()
        conversation_id = message.get("conversation_id")
        if isinstance(conversation_id, str):
            touched.add(conversation_id)
    return touched
