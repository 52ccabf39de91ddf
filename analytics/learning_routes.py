"""Admin API for the learning loop: the clustered "unanswered and misunderstood" questions, and
the one action per cluster that turns it into an FAQ entry or intent examples (or dismisses it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from core.api_types import RowId
from core.auth import AdminActor
from core.pii_policy import PersonalDataPolicy
from core.text import StoredText
from knowledge_base.schemas import FaqEntryCreate

from .learning_service import MAX_ACTION_IDS, LearningService, VectorCache
from .queries import parse_filters

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/learning", tags=["learning loop"])

ExchangeIds = Annotated[list[RowId], Field(min_length=1, max_length=MAX_ACTION_IDS)]


class ToFaq(BaseModel):
    exchange_ids: ExchangeIds
    entry: FaqEntryCreate


class ToIntent(BaseModel):
    exchange_ids: ExchangeIds
    intent: StoredText = Field(min_length=1, max_length=64)
    examples: list[Annotated[StoredText, Field(max_length=500)]] = Field(
        min_length=1, max_length=500
    )


class Dismiss(BaseModel):
    exchange_ids: ExchangeIds


def _service(request: Request) -> LearningService:
    state = request.app.state
    vectors: VectorCache = state.learning_vectors
    policy = PersonalDataPolicy.of(state.settings)
    return LearningService(state.services.engine, state.services.kb, vectors, personal_data=policy)


@router.get("/clusters")
def clusters(
    request: Request,
    _actor: AdminActor,
    start: str | None = None,
    end: str | None = None,
    language: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Unreviewed signals from the exchange log, grouped by similarity, largest group first."""
    filters = parse_filters(start=start, end=end, language=language)
    return _service(request).clusters(filters, limit=limit)


@router.post("/faq", status_code=201)
def to_faq(request: Request, actor: AdminActor, body: ToFaq) -> dict[str, Any]:
    """Create the FAQ entry (phrasings usually the cluster's questions) and mark them reviewed."""
    return _service(request).to_faq(
        exchange_ids=body.exchange_ids, entry=body.entry, actor=actor.name
    )


@router.post("/intent")
def to_intent(request: Request, actor: AdminActor, body: ToIntent) -> dict[str, Any]:
    """Add the texts to the intent's examples (the bot retrains) and mark them reviewed."""
    return _service(request).to_intent(
        exchange_ids=body.exchange_ids, intent=body.intent, examples=body.examples, actor=actor.name
    )


@router.post("/dismiss")
def dismiss(request: Request, actor: AdminActor, body: Dismiss) -> dict[str, Any]:
    return _service(request).dismiss(exchange_ids=body.exchange_ids, actor=actor.name)
