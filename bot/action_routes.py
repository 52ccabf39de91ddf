"""Admin API for actions (bot/actions.py), and the demo store's own order API they call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from core.auth import AdminActor
from core.errors import InvalidInputError

from .actions import (
    SLOT_KINDS,
    ActionService,
    ActionSpec,
    action_record,
    demo_order,
    shown_answer,
)
from .chat import ChatService

__all__ = ["demo_router", "router"]

router = APIRouter(prefix="/api/admin/bot/actions", tags=["bot administration"])
demo_router = APIRouter(prefix="/demo/api", tags=["demo store"])


class TestCall(BaseModel):
    slots: dict[str, str] = Field(default_factory=dict, max_length=len(SLOT_KINDS))


def _actions(request: Request) -> ActionService:
    chat: ChatService = request.app.state.chat
    return chat.actions


def _intents(request: Request) -> list[str]:
    return [intent.name for intent in request.app.state.kb.list_intents()]


@router.get("")
def list_actions(request: Request, _actor: AdminActor) -> list[dict[str, Any]]:
    service = _actions(request)
    return [action_record(a, service) for a in service.all()]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_action(request: Request, _actor: AdminActor, body: ActionSpec) -> dict[str, Any]:
    service = _actions(request)
    return action_record(service.create(body, intents=_intents(request)), service)


@router.get("/{name}")
def get_action(request: Request, _actor: AdminActor, name: str) -> dict[str, Any]:
    service = _actions(request)
    return action_record(service.get(name), service)


@router.put("/{name}")
def update_action(
    request: Request, _actor: AdminActor, name: str, body: ActionSpec
) -> dict[str, Any]:
    service = _actions(request)
    return action_record(service.update(name, body, intents=_intents(request)), service)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_action(request: Request, _actor: AdminActor, name: str) -> Response:
    _actions(request).delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/test")
def try_action(request: Request, _actor: AdminActor, name: str, body: TestCall) -> dict[str, Any]:
    """Call the action with sample slots, outside its circuit breaker and any conversation:
    the status, latency, the JSON answer (truncated) and the reply in every language."""
    service = _actions(request)
    action = service.get(name)
    unknown = [kind for kind in body.slots if kind not in action.required_slots]
    missing = service.missing(action, body.slots)
    if unknown or missing:
        raise InvalidInputError(
            f"give exactly the required slots: {', '.join(action.required_slots)}",
            details=[{"code": "invalid_slots", "missing": missing, "unknown": unknown}],
        )
    result = service.call(action, body.slots, "en", every_language=True, through_breaker=False)
    return {
        "outcome": result.outcome,
        "status": result.status,
        "latency_ms": None if result.latency_ms is None else round(result.latency_ms, 1),
        "answer": None if result.answer is None else shown_answer(result.answer),
        "replies": result.replies,
        "error": result.error,
    }


@demo_router.get("/orders/{order_number}")
def demo_order_status(order_number: str) -> JSONResponse:
    """The demo store's order system: a few orders from knowledge_base/demo/orders.json. An
    unknown order is a 404 in the API's usual error shape (the demo action reads it as "not
    found"), built here so that the router also serves alone, as the tests' business system."""
    order = demo_order(order_number)
    if order is None:
        error = {"code": "order_not_found", "message": f"no order {order_number!r}", "details": []}
        return JSONResponse({"error": error}, 404)
    return JSONResponse(order)
