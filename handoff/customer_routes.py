"""The customer's handoff calls, beside the chat API: status, offline messages, closing,
satisfaction and reopening. All take the conversation token as a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.chat import ChatService
from bot.routes import count_request, rate_limited
from core.api_types import DbInt
from core.auth import bearer_token as _token
from core.broker import Broker
from core.rate_limits import Action
from core.realtime import publish_events
from core.text import StoredText

from .customer import CustomerDesk, FeedbackPublic, StatusPublic

__all__ = ["router"]

router = APIRouter(
    prefix="/api/chat/conversations",
    tags=["customer chat"],
    dependencies=[Depends(count_request)],
)
Authorization = Annotated[str | None, Header()]


class OfflineMessageIn(BaseModel):
    email: StoredText = Field(min_length=3, max_length=254)
    text: StoredText
    name: StoredText | None = Field(default=None, max_length=128)


class FeedbackIn(BaseModel):
    # The desk checks the scales (1-5, 0-10) with its own message; this keeps ints storable.
    csat: DbInt
    nps: DbInt | None = None
    comment: StoredText | None = None


def _customers(request: Request) -> CustomerDesk:
    desk: CustomerDesk = request.app.state.customer_desk
    return desk


def _broker(request: Request) -> Broker:
    broker: Broker = request.app.state.broker
    return broker


def _chat(request: Request) -> ChatService:
    chat: ChatService = request.app.state.chat
    return chat


@router.post("/{conversation_id}/handoff", response_model=StatusPublic)
async def ask_for_person(
    request: Request, conversation_id: str, authorization: Authorization = None
) -> StatusPublic:
    token = _token(authorization)
    events = await run_in_threadpool(
        lambda: _chat(request).request_person(conversation_id=conversation_id, token=token)
    )
    await publish_events(_broker(request), events)
    return await run_in_threadpool(
        lambda: _customers(request).status(conversation_id=conversation_id, token=token)
    )


@router.get("/{conversation_id}/status", response_model=StatusPublic)
def read_status(
    request: Request, conversation_id: str, authorization: Authorization = None
) -> StatusPublic:
    return _customers(request).status(conversation_id=conversation_id, token=_token(authorization))


@router.post(
    "/{conversation_id}/offline-message",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limited(Action.offline_message))],
)
async def leave_offline_message(
    request: Request,
    conversation_id: str,
    body: OfflineMessageIn,
    authorization: Authorization = None,
) -> dict[str, int]:
    ticket, events = await run_in_threadpool(
        lambda: _customers(request).leave_message(
            conversation_id=conversation_id,
            token=_token(authorization),
            email=body.email,
            text=body.text,
            name=body.name,
        )
    )
    await publish_events(_broker(request), events)
    return {"ticket_id": ticket.id or 0}


@router.post("/{conversation_id}/close", response_model=StatusPublic)
async def close_conversation(
    request: Request, conversation_id: str, authorization: Authorization = None
) -> StatusPublic:
    result, events = await run_in_threadpool(
        lambda: _customers(request).close(
            conversation_id=conversation_id, token=_token(authorization)
        )
    )
    await publish_events(_broker(request), events)
    return result


@router.post(
    "/{conversation_id}/feedback",
    response_model=FeedbackPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limited(Action.rating))],
)
async def give_feedback(
    request: Request, conversation_id: str, body: FeedbackIn, authorization: Authorization = None
) -> FeedbackPublic:
    result, events = await run_in_threadpool(
        lambda: _customers(request).feedback(
            conversation_id=conversation_id,
            token=_token(authorization),
            csat=body.csat,
            nps=body.nps,
            comment=body.comment,
        )
    )
    await publish_events(_broker(request), events)
    return result


@router.post("/{conversation_id}/reopen", response_model=StatusPublic)
async def reopen(
    request: Request, conversation_id: str, authorization: Authorization = None
) -> StatusPublic:
    result, events = await run_in_threadpool(
        lambda: _customers(request).reopen(
            conversation_id=conversation_id, token=_token(authorization)
        )
    )
    await publish_events(_broker(request), events)
    return result
