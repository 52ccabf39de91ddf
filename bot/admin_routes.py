"""Admin API for the bot: "test the bot", and retraining with review before activation.

Retraining from here makes a *candidate*: its cross-validated metrics sit beside the serving
model's until an admin activates it. (Editing intents still retrains and activates in the
background, as before, so the bot never lags its knowledge base; that model shows up in the
same version list.)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from core.addresses import client_address
from core.audit import AuditAction, record_audit
from core.auth import AdminActor
from core.db import session_scope
from core.jobs import Handler, JobQueue, JobScope, Progress
from core.jobs_routes import Jobs
from core.text import StoredText

from .chat import ChatService
from .intent_service import IntentService

__all__ = ["register_jobs", "router"]

router = APIRouter(prefix="/api/admin/bot", tags=["bot administration"])


class TestRequest(BaseModel):
    text: str  # the chat service's own check answers for it (invalid_message)
    language: StoredText | None = Field(default=None, max_length=8)


class ModelKind(StrEnum):
    """Which learned model: the intent classifier, or the answer model learned from the FAQ
    entries' phrasings (bot/answer_service.py). Both version, review and roll back alike."""

    intent = "intent"
    answer = "answer"


Kind = Annotated[ModelKind, Query(description="intent (default) or answer")]


def _service(request: Request, kind: ModelKind) -> IntentService:
    services = request.app.state.services
    service: IntentService = services.answers if kind is ModelKind.answer else services.intents
    return service


@router.post("/test")
def try_message(request: Request, _actor: AdminActor, body: TestRequest) -> dict[str, Any]:
    """Language, slots (and the masked text the models read), intent with runners-up, FAQ
    scores, sentiment and the decision, for one message."""
    chat: ChatService = request.app.state.chat
    return chat.explain(body.text, language=body.language)


@router.get("/models")
def models(
    request: Request, jobs: Jobs, _actor: AdminActor, kind: Kind = ModelKind.intent
) -> dict[str, Any]:
    """Every saved version with its metrics, which one serves, and any training under way."""
    intents = _service(request, kind)
    job = jobs.latest(_job_kind(kind))
    serving = intents.model
    return {
        "kind": kind.value,
        "current": serving.version if serving else None,
        "labels": intents.labels(),
        "versions": intents.store.versions()[::-1],
        "training": job,
        "background_training": intents.is_training,
    }


@router.post("/train", status_code=status.HTTP_202_ACCEPTED)
def train(jobs: Jobs, actor: AdminActor, kind: Kind = ModelKind.intent) -> dict[str, Any]:
    """Train a candidate on the current intents (or FAQ phrasings, for the answer model); poll
    ``/api/admin/jobs/{id}`` for progress."""
    return jobs.submit(_job_kind(kind), actor.name)


@router.post("/models/{version}/activate")
def activate(
    request: Request, actor: AdminActor, version: str, kind: Kind = ModelKind.intent
) -> dict[str, Any]:
    service = _service(request, kind)
    previous = service.model.version if service.model else None
    model = service.activate(version)
    # The switch is a file on disk, not a transaction: the entry follows it.
    with session_scope(request.app.state.engine) as session:
        record_audit(
            session,
            action=AuditAction.model_activated,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type=f"{kind.value}_model",
            target_id=model.version,
            address=client_address(request),
            detail={"previous": previous},
        )
    return {"current": model.version, "metrics": model.metrics}


def register_jobs(jobs: JobQueue, intents: IntentService, answers: IntentService) -> None:
    """Training a candidate model: the process whose model files they are runs it."""

    def trainer(service: IntentService) -> Handler:
        def train(_payload: dict[str, Any], _actor: str, progress: Progress) -> dict[str, Any]:
            model = service.train(progress=progress, activate=False)
            return {"version": model.version, "metrics": model.metrics}

        return train

    jobs.register(_job_kind(ModelKind.intent), trainer(intents), JobScope.process)
    jobs.register(_job_kind(ModelKind.answer), trainer(answers), JobScope.process)


def _job_kind(kind: ModelKind) -> str:
    # One training of each model at a time; the two may run side by side.
    return "train" if kind is ModelKind.intent else "train-answer"
