"""``/api/agent/service-language``: the list every agent's replies are checked against (any
staff member reads it; supervisors and admins change it) and the report of its uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from core.api_types import RowId
from core.auth import StaffActor, SupervisorActor

from .service_language import (
    ServiceLanguage,
    ServiceLanguageReport,
    ServicePhraseIn,
    ServicePhrasePublic,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/agent/service-language", tags=["service language"])


class PhrasesOut(BaseModel):
    phrases: list[ServicePhrasePublic]


def _phrases(request: Request) -> ServiceLanguage:
    phrases: ServiceLanguage = request.app.state.service_language
    return phrases


@router.get("", response_model=PhrasesOut)
def list_phrases(request: Request, _actor: StaffActor) -> PhrasesOut:
    return PhrasesOut(phrases=_phrases(request).all())


@router.post("", response_model=ServicePhrasePublic, status_code=status.HTTP_201_CREATED)
def create_phrase(
    request: Request, _actor: SupervisorActor, body: ServicePhraseIn
) -> ServicePhrasePublic:
    return _phrases(request).create(body)


@router.get("/report", response_model=ServiceLanguageReport)
def report(
    request: Request,
    _actor: SupervisorActor,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> ServiceLanguageReport:
    return _phrases(request).report(days)


@router.put("/{phrase_id}", response_model=ServicePhrasePublic)
def update_phrase(
    request: Request, phrase_id: RowId, _actor: SupervisorActor, body: ServicePhraseIn
) -> ServicePhrasePublic:
    return _phrases(request).update(phrase_id, body)


@router.delete("/{phrase_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_phrase(request: Request, phrase_id: RowId, _actor: SupervisorActor) -> Response:
    _phrases(request).delete(phrase_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
