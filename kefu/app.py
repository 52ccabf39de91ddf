"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from http import HTTPStatus
from string import Template
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from analytics.learning_routes import router as learning_router
from analytics.learning_service import VectorCache
from analytics.routes import router as analytics_router
from analytics.wall_feed import WallFeed
from analytics.wall_routes import router as wall_router
from bot.action_routes import demo_router as demo_orders_router
from bot.action_routes import router as bot_actions_router
from bot.admin_routes import register_jobs as register_bot_jobs
from bot.admin_routes import router as bot_admin_router
from bot.routes import admin_router as exchanges_router
from bot.routes import router as chat_router
from bot.turn_runner import TurnRunner
from channels.deliveries import DeliveryRules
from channels.delivery_routes import router as deliveries_router
from channels.email_inbound import EmailInbound
from channels.email_listener import InboundMailListener
from channels.inbound import InboundService
from channels.routes import admin_router as channels_admin_router
from channels.routes import inbound_router as channels_inbound_router
from channels.service import ChannelService
from channels.webhooks import WebhookWorker
from channels.wechat_api import WeChatApi
from channels.wechat_routes import wechat_admin_router, wechat_router
from core.api_types import ErrorResponse
from core.audit_routes import router as audit_router
from core.broker import make_broker
from core.errors import KefuError
from core.jobs import JobQueue, instance_id
from core.jobs_routes import router as jobs_router
from core.log_redaction import install_log_redaction
from core.metrics import CONTENT_TYPE_LATEST, exposition
from core.mfa_routes import router as mfa_router
from core.rate_limits import RateLimiter
from core.settings import Settings
from core.staff_routes import router as staff_router
from core.text import unstorable_at
from handoff.agent_mail import AgentMail
from handoff.agent_socket import ConsoleSockets
from handoff.agent_socket import router as agent_socket_router
from handoff.assist import AgentAssist
from handoff.complaint_routes import router as complaint_router
from handoff.customer_mail import CustomerMail
from handoff.customer_routes import router as handoff_customer_router
from handoff.dispatch import Dispatcher
from handoff.follow_up import FollowUps
from handoff.follow_up_routes import page_router as follow_up_page_router
from handoff.follow_up_routes import router as follow_up_router
from handoff.people_routes import router as people_router
from handoff.quality_routes import router as quality_router
from handoff.routes import router as agent_router
from handoff.service_language_routes import router as service_language_router
from knowledge_base.embeddings import Embedder
from knowledge_base.routes import register_jobs as register_kb_jobs
from knowledge_base.routes import router as kb_router

from . import pages
from .privacy_routes import router as privacy_router
from .purge_schedule import ScheduledPurge
from .retention import RetentionPolicy
from .security_headers import SecurityHeaders
from .services import Services, build_services
from .training import refresh_models

__all__ = ["create_app"]

log = logging.getLogger("kefu")


async def _thread_pool_drained() -> None:
    """Until no work handed to the thread pool is still running.

    A socket or request whose task has ended can leave its last database call running in the
    pool (a replay's page, say). Disposing of the engine under it would leave that connection
    open until the garbage collector finds it. The pool has no completion event, so this polls.
    """
    limiter = anyio.to_thread.current_default_thread_limiter()
    while limiter.borrowed_tokens:  # noqa: ASYNC110
        await anyio.sleep(0.01)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    # Before anything can log: no customer or staff token may reach a log line, nor (as the
    # policy says) a customer's personal data.
    install_log_redaction()
    settings = settings or Settings()
    install_log_redaction(personal_data="logs" in settings.pii_mask)
    services = build_services(settings, embedder=embedder)

    broker = make_broker(settings.broker_url)
    follow_ups = FollowUps.from_settings(services.engine, settings)
    dispatcher = Dispatcher(
        services.desk,
        broker,
        tick_seconds=settings.handoff_tick_seconds,
        follow_ups=follow_ups,
        agent_mail=AgentMail.from_settings(services.engine, settings),
        customer_mail=CustomerMail.from_settings(services.engine, settings),
    )
    console_sockets = ConsoleSockets(
        services.desk, broker, heartbeat=settings.agent_console_heartbeat_seconds
    )
    turns = TurnRunner(services.chat, broker, sweep_seconds=settings.bot_turn_sweep_seconds)
    wall_feed = WallFeed(services.engine, settings, broker)
    jobs = JobQueue(
        services.engine,
        instance_id(settings.data_dir),
        lease_seconds=settings.job_lease_seconds,
        poll_seconds=settings.job_poll_seconds,
    )
    register_kb_jobs(jobs, services.kb)
    register_bot_jobs(jobs, services.intents, services.answers)
    scheduled_purge = ScheduledPurge(
        services.engine, RetentionPolicy.of(settings), interval=settings.purge_interval_seconds
    )
    webhooks = WebhookWorker(
        services.engine,
        broker,
        DeliveryRules.of(settings),
        f"{instance_id(settings.data_dir)}:webhooks",
        wechat=WeChatApi(
            services.engine, settings.wechat_api_base, timeout=settings.webhook_timeout_seconds
        ),
        # A bot's message in a WeChat chat may go as the push's passive reply until then.
        passive_hold=timedelta(seconds=settings.wechat_passive_seconds + 1),
    )

    # Customers' answers by e-mail, when there is a domain to reply to and a port to take them.
    mail_listener = (
        InboundMailListener(
            EmailInbound(
                services.engine,
                chat=services.chat,
                customers=services.customer_desk,
                domain=settings.inbound_mail_domain,
                max_bytes=settings.inbound_mail_max_bytes,
            ),
            settings.inbound_smtp_listen,
            broker=broker,
            turns=turns,
        )
        if settings.inbound_mail_domain and settings.inbound_smtp_listen
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Following first: a change another process makes while this one starts is not lost.
        services.kb.follow(
            interval=settings.kb_follow_seconds, grace=settings.kb_stale_after_seconds
        )
        refreshed = await run_in_threadpool(refresh_models, services)
        if refreshed.index_rebuilt:
            log.info("rebuilt the FAQ index: %s", services.kb.index.state())
        await run_in_threadpool(services.chat.warm_up)
        services.answers.follow(interval=settings.kb_follow_seconds)
        # Models are ready: answer what a crashed process left owed, then keep sweeping.
        turns.start()
        dispatcher.start()
        console_sockets.start()
        jobs.start()
        scheduled_purge.start()
        webhooks.start()
        if mail_listener is not None:
            await mail_listener.start()
        app.state.accepting = True
        yield
        # A load balancer polling /readyz sends new customers elsewhere from now on.
        app.state.accepting = False
        if mail_listener is not None:
            await mail_listener.stop()
        # Turns in progress finish first: an escalation needs the desk and the database.
        await turns.stop()
        await dispatcher.stop()
        # Sends in flight finish and are recorded: a graceful restart doubles no delivery.
        await webhooks.stop()
        await console_sockets.close()
        await wall_feed.stop()
        # Jobs this process runs (imports, reindexing, training) finish before the database
        # goes; queued ones stay for another process, or this one's next start.
        await run_in_threadpool(jobs.stop)
        await scheduled_purge.stop()
        await run_in_threadpool(services.kb.stop_following)
        # A retraining still running would otherwise outlive the database it reads.
        await run_in_threadpool(services.intents.wait_idle)
        await run_in_threadpool(services.answers.stop_following)
        await broker.close()
        # Bounded: a call stuck in the pool must not stop the server from stopping.
        with anyio.move_on_after(10):
            await _thread_pool_drained()
        await run_in_threadpool(services.close_encoders)
        services.engine.dispose()

    app = FastAPI(
        title="kefu",
        version="0.1.0",
        description="Customer-service chatbot with human handoff.",
        lifespan=lifespan,
        # Every route answers a client error in one shape; this also replaces FastAPI's own
        # 422 schema, which describes a body ({"detail": [...]}) the app never sends.
        responses={"4XX": {"model": ErrorResponse, "description": "The request was refused."}},
    )
    app.state.settings = settings
    app.state.accepting = False
    app.state.services = services
    app.state.engine = services.engine
    app.state.kb = services.kb
    app.state.chat = services.chat
    app.state.desk = services.desk
    app.state.customer_desk = services.customer_desk
    app.state.service_language = services.desk.service_language
    app.state.canned = services.canned
    app.state.assist = AgentAssist.from_settings(
        services.engine, services.kb, services.canned, settings
    )
    app.state.dispatcher = dispatcher
    app.state.follow_ups = follow_ups
    app.state.follow_up_page = Template(pages.SURVEY_PAGE.read_text(encoding="utf-8"))
    app.state.turns = turns
    app.state.console_sockets = console_sockets
    app.state.wall_feed = wall_feed
    app.state.broker = broker
    app.state.jobs = jobs
    app.state.webhooks = webhooks
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    app.state.channels = ChannelService(services.engine)
    app.state.inbound = InboundService(
        services.engine,
        chat=services.chat,
        customers=services.customer_desk,
        token_ttl=services.chat.limits.customer_token_ttl,
    )
    app.state.learning_vectors = VectorCache(services.embedder)
    app.include_router(staff_router)
    app.include_router(mfa_router)
    app.include_router(kb_router)
    app.include_router(chat_router)
    app.include_router(exchanges_router)
    app.include_router(handoff_customer_router)
    app.include_router(agent_router)
    app.include_router(complaint_router)
    app.include_router(follow_up_router)
    app.include_router(follow_up_page_router)
    app.include_router(quality_router)
    app.include_router(service_language_router)
    app.include_router(agent_socket_router)
    app.include_router(people_router)
    app.include_router(analytics_router)
    app.include_router(wall_router)
    app.include_router(learning_router)
    app.include_router(bot_admin_router)
    app.include_router(bot_actions_router)
    app.include_router(demo_orders_router)
    app.include_router(jobs_router)
    app.include_router(audit_router)
    app.include_router(privacy_router)
    app.include_router(wechat_admin_router)
    app.include_router(wechat_router)
    app.include_router(channels_admin_router)
    app.include_router(channels_inbound_router)
    app.include_router(deliveries_router)
    app.include_router(pages.router)
    app.mount("/console/assets", pages.console_assets(), name="console-assets")
    app.mount("/admin/assets", pages.admin_assets(), name="admin-assets")
    app.mount("/wall/assets", pages.wall_assets(), name="wall-assets")
    app.mount("/reviews/assets", pages.reviews_assets(), name="reviews-assets")
    app.mount("/staff/assets", pages.shared_assets(), name="staff-assets")
    app.mount("/widget", pages.widget_assets(), name="widget-assets")
    _install_error_handlers(app)
    _install_text_check(app)
    # The widget, the consoles and JSON travel compressed to clients that accept gzip.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        CORSMiddleware,
        # The embedding sites; the server's own pages are same-origin and need no entry.
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=False,
    )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        return _health(services, dispatcher)

    @app.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """Whether to send this process new customers: started and not stopping, its database
        and broker reachable and its index current. ``/healthz`` says whether it is alive at
        all."""
        waiting = [] if app.state.accepting else ["not_serving"]
        if not broker.healthy:
            waiting.append("broker")
        if _database(services) != "ok":
            waiting.append("database")
        elif not services.kb.index_is_fresh():
            waiting.append("index_stale")
        return JSONResponse(
            {"ready": not waiting, "waiting_for": waiting}, status_code=503 if waiting else 200
        )

    # Prometheus' text format, not JSON: outside the API's schema.
    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return app


def _database(services: Services) -> str:
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means unreachable, and we say which
        return f"error: {type(exc).__name__}"
    return "ok"


def _health(services: Services, dispatcher: Dispatcher) -> JSONResponse:
    database = _database(services)
    state = services.kb.index.state()
    current = database == "ok" and services.kb.index_is_fresh()
    model = services.intents.model
    body: dict[str, Any] = {
        "status": "ok" if database == "ok" else "degraded",
        "intents": {
            "model": model.version if model else None,
            "training": services.intents.is_training,
        },
        "answers": {
            "model": services.answers.model.version if services.answers.model else None,
            "training": services.answers.is_training,
            "current": services.answers.current,
        },
        "database": database,
        "index": {
            "state": "ready" if current else "stale",
            "model": state.model,
            "entries": state.entries,
            "vectors": state.vectors,
            "kind": state.kind,
            "revision": state.revision,
        },
        # On PostgreSQL one process sweeps the handoff queue at a time.
        "dispatcher": {"leader": dispatcher.leadership.leading},
        # Micro-batching of customers' messages: model calls made, texts carried, largest batch.
        "encoders": {
            batcher.name: {
                "backend": batcher.backend,
                "batches": batcher.stats.batches,
                "texts": batcher.stats.texts,
                "largest": batcher.stats.largest,
            }
            for batcher in services.batchers
        },
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)


def _error_body(code: str, message: str, details: list[Any]) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _install_text_check(app: FastAPI) -> None:
    """Every path and query string passes the one storable-text check before any route runs:
    a NUL or a lone surrogate there would reach PostgreSQL (which refuses NUL) as a filter."""

    @app.middleware("http")
    async def refuse_unstorable_text(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        parts = [("path", request.url.path)]
        parts += [(f"query.{key}", key) for key in request.query_params]
        parts += [(f"query.{key}", value) for key, value in request.query_params.multi_items()]
        for field, value in parts:
            index = unstorable_at(value)
            if index is not None:
                message = f"{field}: a character no database can store at position {index}"
                return JSONResponse(
                    _error_body("invalid_text", message, [{"field": field, "message": message}]),
                    422,
                )
        return await call_next(request)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def kefu_error(_request: Request, exc: KefuError) -> JSONResponse:
        return JSONResponse(
            _error_body(exc.code, exc.message, exc.details), exc.status, headers=exc.headers or None
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Routing's own refusals (no such path, wrong method) in the app's shape, not {"detail"}.
        known = exc.status_code in HTTPStatus._value2member_map_
        phrase = HTTPStatus(exc.status_code).phrase if known else "error"
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        message = exc.detail if isinstance(exc.detail, str) else code
        return JSONResponse(_error_body(code, message, []), exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ())),
                "message": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return JSONResponse(_error_body("invalid", summary or "invalid request", details), 422)
