"""The quality-review API under ``/api/agent/quality``: the rubric (everyone reads it, admins
change it), samples and the scoring of pending reviews (supervisors and admins), and each
agent's own reviews (docs/handoff.md, "Quality review")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.api_types import RowId
from core.auth import AdminActor, StaffActor, SupervisorActor

from .quality import (
    QualityReviews,
    ReviewPublic,
    ReviewSubmitIn,
    RubricIn,
    RubricPublic,
    SampleIn,
    SampleOut,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/agent/quality", tags=["quality"])


class RubricOut(BaseModel):
    # None until an admin sets one.
    rubric: RubricPublic | None


class ReviewsOut(BaseModel):
    reviews: list[ReviewPublic]


class MyReviewsOut(BaseModel):
    reviews: list[ReviewPublic]
    count: int
    # The mean of the reviews' scores, 0-100; None without reviews.
    mean_score: float | None


def _quality(request: Request) -> QualityReviews:
    return QualityReviews(request.app.state.engine)


@router.get("/rubric", response_model=RubricOut)
def read_rubric(request: Request, _actor: StaffActor) -> RubricOut:
    """The current rubric: what reviews are scored against."""
    return RubricOut(rubric=_quality(request).rubric())


@router.put("/rubric", response_model=RubricPublic)
async def set_rubric(request: Request, actor: AdminActor, body: RubricIn) -> RubricPublic:
    """A new version of the rubric (admins); reviews already scored keep theirs. 422
    ``duplicate_criterion``; 409 ``rubric_changed`` when ``expected_version`` is not current."""
    return await run_in_threadpool(lambda: _quality(request).set_rubric(actor=actor, body=body))


@router.post("/samples", response_model=SampleOut, status_code=status.HTTP_201_CREATED)
async def sample(request: Request, actor: SupervisorActor, body: SampleIn) -> SampleOut:
    """Draw closed conversations at random (seeded) by the filters: each becomes a pending
    review assigned to the caller. A conversation reviewed or pending before is never drawn,
    nor one the caller handled."""
    return await run_in_threadpool(lambda: _quality(request).sample(actor=actor, body=body))


@router.get("/reviews", response_model=ReviewsOut)
def list_reviews(
    request: Request,
    _actor: SupervisorActor,
    status_: Annotated[Literal["pending", "submitted", "all"], Query(alias="status")] = "pending",
    agent: Annotated[str | None, Query(max_length=64)] = None,
    reviewer: Annotated[str | None, Query(max_length=64)] = None,
) -> ReviewsOut:
    """Reviews for supervisors: pending ones oldest first, submitted ones newest first."""
    found = _quality(request).reviews(status=status_, agent=agent, reviewer=reviewer)
    return ReviewsOut(reviews=found)


@router.get("/me", response_model=MyReviewsOut)
def my_reviews(request: Request, actor: StaffActor) -> MyReviewsOut:
    """The submitted reviews of the caller's own conversations, newest first."""
    found = _quality(request).about(actor=actor)
    scores = [r.score for r in found if r.score is not None]
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return MyReviewsOut(reviews=found, count=len(found), mean_score=mean)


@router.get("/reviews/{review_id}", response_model=ReviewPublic)
def read_review(request: Request, review_id: RowId, actor: StaffActor) -> ReviewPublic:
    """Supervisors read any review; an agent only the submitted reviews of their own chats."""
    return _quality(request).get(actor=actor, review_id=review_id)


@router.post("/reviews/{review_id}/submit", response_model=ReviewPublic)
async def submit_review(
    request: Request, review_id: RowId, actor: SupervisorActor, body: ReviewSubmitIn
) -> ReviewPublic:
    """Score every criterion of the current rubric: 422 ``unknown_criterion`` /
    ``score_out_of_range``, 409 ``review_submitted``, 403 ``own_conversation``."""
    return await run_in_threadpool(
        lambda: _quality(request).submit(actor=actor, review_id=review_id, body=body)
    )


@router.delete(
    "/reviews/{review_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
async def skip_review(request: Request, review_id: RowId, actor: SupervisorActor) -> Response:
    """Skip a pending review; the conversation may be sampled again. 409 once submitted."""
    await run_in_threadpool(lambda: _quality(request).drop(actor=actor, review_id=review_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
