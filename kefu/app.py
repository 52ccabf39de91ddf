"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from analytics.learning_routes import router as learning_router
from analytics.learning_service import VectorCache
from analytics.routes import router as analytics_router
from bot.admin_routes import router as bot_admin_router
from bot.routes import admin_router as exchanges_router
from bot.routes import router as chat_router
from core.broker import make_broker
from core.errors import KefuError
from core.jobs import JobRegistry
from core.jobs_routes import router as jobs_router
from core.settings import Settings
from core.staff_routes import router as staff_router
from handoff.agent_socket import ConsoleSockets
from handoff.agent_socket import router as agent_socket_router
from handoff.customer_routes import router as handoff_customer_router
from handoff.dispatch import Dispatcher
from handoff.people_routes import router as people_router
from handoff.routes import router as agent_router
from knowledge_base.embeddings import Embedder
from knowledge_base.routes import router as kb_router

from . import pages
from .services import Services, build_services

__all__ = ["create_app"]

log = logging.getLogger("kefu")


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    settings = settings or Settings()
    services = build_services(settings, embedder=embedder)

    broker = make_broker(settings.broker_url)
    dispatcher = Dispatcher(services.desk, broker, tick_seconds=settings.handoff_tick_seconds)
    console_sockets = ConsoleSockets(services.desk, broker)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        rebuilt = await run_in_threadpool(services.kb.ensure_index)
        if rebuilt:
            log.info("rebuilt the FAQ index: %s", services.kb.index.state())
        await run_in_threadpool(services.intents.start)
        await run_in_threadpool(services.chat.warm_up)
        dispatcher.start()
        yield
        await dispatcher.stop()
        await console_sockets.close()
        # A retraining still running would otherwise outlive the database it reads.
        await run_in_threadpool(services.intents.wait_idle)
        await broker.close()
        services.engine.dispose()

    app = FastAPI(
        title="kefu",
        version="0.1.0",
        description="Customer-service chatbot with human handoff.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.engine = services.engine
    app.state.kb = services.kb
    app.state.chat = services.chat
    app.state.desk = services.desk
    app.state.customer_desk = services.customer_desk
    app.state.canned = services.canned
    app.state.dispatcher = dispatcher
    app.state.console_sockets = console_sockets
    app.state.broker = broker
    app.state.jobs = JobRegistry()
    app.state.learning_vectors = VectorCache(services.embedder)
    app.include_router(staff_router)
    app.include_router(kb_router)
    app.include_router(chat_router)
    app.include_router(exchanges_router)
    app.include_router(handoff_customer_router)
    app.include_router(agent_router)
    app.include_router(agent_socket_router)
    app.include_router(people_router)
    app.include_router(analytics_router)
    app.include_router(learning_router)
    app.include_router(bot_admin_router)
    app.include_router(jobs_router)
    app.include_router(pages.router)
    app.mount("/console/assets", pages.console_assets(), name="console-assets")
    app.mount("/admin/assets", pages.admin_assets(), name="admin-assets")
    app.mount("/staff/assets", pages.shared_assets(), name="staff-assets")
    app.mount("/widget", pages.widget_assets(), name="widget-assets")
    _install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.widget_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=False,
    )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        return _health(services)

    return app


def _health(services: Services) -> JSONResponse:
    database = "ok"
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means unreachable, and we say which
        database = f"error: {type(exc).__name__}"
    state = services.kb.index.state()
    current = database == "ok" and services.kb.index_is_current()
    model = services.intents.model
    body: dict[str, Any] = {
        "status": "ok" if database == "ok" else "degraded",
        "intents": {
            "model": model.version if model else None,
            "training": services.intents.is_training,
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
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)


def _error_body(code: str, message: str, details: list[Any]) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def kefu_error(_request: Request, exc: KefuError) -> JSONResponse:
        return JSONResponse(_error_body(exc.code, exc.message, exc.details), exc.status)

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
