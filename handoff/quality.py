"""Quality review: supervisors sample closed conversations, score them against the rubric that
admins set, and agents read the reviews of their own chats (docs/handoff.md, "Quality review").

The rubric is versioned: each change is a new ``quality_rubric`` row and a review names the
version it was scored against, so an old score keeps its meaning. A review's score is its
weighted points over the weighted maximum, as a percentage; a critical criterion scored 0
makes the whole review 0. The one reviewed is the conversation's final owner, the agent of
its latest live ticket, as on the scorecard (analytics/scorecard.py).
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import CursorResult, func, update
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.auth import Actor
from core.clock import utcnow
from core.conversations import Conversation
from core.db import session_scope
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.staff import Role, StaffUser
from core.text import StoredText

from .errors import (
    DuplicateCriterionError,
    NoRubricError,
    OwnConversationError,
    ReviewSubmittedError,
    RubricChangedError,
    ScoreOutOfRangeError,
    UnknownCriterionError,
)
from .models import Feedback, QualityReview, QualityRubric, Ticket

__all__ = [
    "MAX_SAMPLE",
    "CriterionIn",
    "CriterionScore",
    "QualityReviews",
    "ReviewPublic",
    "ReviewSubmitIn",
    "RubricIn",
    "RubricPublic",
    "SampleIn",
    "SampleOut",
    "score_review",
]

MAX_SAMPLE = 50
MAX_SEED = 2**31 - 1
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Handovers that were not the bot's own judgement: the customer asked for a person, or
# reopened a closed chat.
_NOT_THE_BOTS = ("asked_for_person", "reopened")
_LISTED = 200


class CriterionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=32)
    name: StoredText = Field(min_length=1, max_length=80)
    # The name in Chinese; empty: ``name`` is shown as written.
    name_zh: StoredText = Field(default="", max_length=80)
    description: StoredText = Field(default="", max_length=300)
    weight: int = Field(default=1, ge=1, le=100)
    max_points: int = Field(default=4, ge=1, le=10)
    # Scored 0, a critical criterion makes the whole review 0.
    critical: bool = False

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("a key is lower-case letters, digits and _, starting with a letter")
        return value


class RubricIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: list[CriterionIn] = Field(min_length=1, max_length=20)
    # The version this edit was made from: 409 ``rubric_changed`` if another came since.
    expected_version: int | None = Field(default=None, ge=0, le=MAX_SEED)


class RubricPublic(BaseModel):
    version: int
    criteria: list[CriterionIn]
    created_at: datetime
    created_by: str | None


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(default=5, ge=1, le=MAX_SAMPLE)
    closed_from: date | None = None
    # Inclusive: conversations closed on this day count.
    closed_to: date | None = None
    agent: str | None = Field(default=None, min_length=1, max_length=64)
    csat_max: int | None = Field(default=None, ge=1, le=5)
    # True: the bot handed the chat over on its own judgement (a ticket whose reason is not the
    # customer asking for a person or reopening); false: never.
    escalated: bool | None = None
    handle_min_minutes: int | None = Field(default=None, ge=0, le=100_000)
    language: str | None = Field(default=None, min_length=1, max_length=8)
    # The same seed over the same conversations draws the same sample; none: a fresh one.
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)


class CriterionScore(BaseModel):
    key: str
    name: str
    name_zh: str
    weight: int
    max_points: int
    critical: bool
    points: int | None


class ReviewPublic(BaseModel):
    id: int
    conversation_id: str
    ticket_id: int | None
    agent: str
    agent_name: str
    reviewer: str
    reviewer_name: str
    status: str
    rubric_version: int | None
    criteria: list[CriterionScore]
    score: float | None
    critical_failed: bool
    comment: str
    sampled_at: datetime
    submitted_at: datetime | None
    closed_at: datetime | None
    language: str | None
    csat: int | None
    handle_seconds: float | None


class SampleOut(BaseModel):
    seed: int
    eligible: int
    sampled: list[ReviewPublic]


class ReviewSubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[str, int]
    comment: StoredText = Field(default="", max_length=4000)


def score_review(criteria: Sequence[CriterionIn], scores: Mapping[str, int]) -> tuple[float, bool]:
    """The review's percentage and whether a critical criterion failed; every criterion must
    be scored within 0..its max points, and no other key is accepted."""
    known = {c.key for c in criteria}
    unknown = sorted(set(scores) - known)
    if unknown:
        raise UnknownCriterionError(
            f"the rubric has no criterion {', '.join(map(repr, unknown))}",
            details=[{"field": f"scores.{key}", "code": "unknown_criterion"} for key in unknown],
        )
    wrong = [c for c in criteria if not 0 <= scores.get(c.key, -1) <= c.max_points]
    if wrong:
        raise ScoreOutOfRangeError(
            "score every criterion from 0 to its maximum: "
            + ", ".join(f"{c.key} 0-{c.max_points}" for c in wrong),
            details=[{"field": f"scores.{c.key}", "code": "score_out_of_range"} for c in wrong],
        )
    if any(c.critical and scores[c.key] == 0 for c in criteria):
        return 0.0, True
    points = sum(c.weight * scores[c.key] for c in criteria)
    most = sum(c.weight * c.max_points for c in criteria)
    return round(100 * points / most, 2), False


def _criteria(rubric: QualityRubric | None) -> list[CriterionIn]:
    return [CriterionIn.model_validate(c) for c in rubric.criteria] if rubric else []


def _latest_rubric(session: Session) -> QualityRubric | None:
    return session.exec(select(QualityRubric).order_by(col(QualityRubric.id).desc())).first()


def _names(session: Session, ids: Iterable[int | None]) -> dict[int, StaffUser]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    users = session.exec(select(StaffUser).where(col(StaffUser.id).in_(wanted))).all()
    return {u.id: u for u in users if u.id is not None}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class QualityReviews:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- the rubric ----------------------------------------------------------------------------

    def rubric(self) -> RubricPublic | None:
        with Session(self.engine) as session:
            latest = _latest_rubric(session)
            return self._rubric_public(session, latest) if latest else None

    def set_rubric(self, *, actor: Actor, body: RubricIn) -> RubricPublic:
        """A new version; old reviews keep theirs."""
        keys = [c.key for c in body.criteria]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise DuplicateCriterionError(
                f"each criterion needs its own key: {', '.join(repeated)} is used twice",
                details=[{"field": "criteria", "code": "duplicate_criterion"}],
            )
        with session_scope(self.engine) as session:
            latest = _latest_rubric(session)
            current = latest.id if latest else 0
            if body.expected_version is not None and body.expected_version != current:
                raise RubricChangedError(
                    f"the rubric is at version {current} now, not {body.expected_version}; "
                    "reload it and make the change again"
                )
            made = QualityRubric(
                criteria=[c.model_dump() for c in body.criteria], created_by=actor.user_id
            )
            session.add(made)
            session.flush()
            return self._rubric_public(session, made)

    def ensure_rubric(self, criteria: list[dict[str, Any]]) -> bool:
        """The demo's rubric, unless there is one already; True when it was added."""
        body = RubricIn(criteria=[CriterionIn.model_validate(c) for c in criteria])
        with session_scope(self.engine) as session:
            if _latest_rubric(session) is not None:
                return False
            session.add(QualityRubric(criteria=[c.model_dump() for c in body.criteria]))
            return True

    def _rubric_public(self, session: Session, rubric: QualityRubric) -> RubricPublic:
        author = session.get(StaffUser, rubric.created_by) if rubric.created_by else None
        return RubricPublic(
            version=rubric.id or 0,
            criteria=_criteria(rubric),
            created_at=rubric.created_at,
            created_by=author.username if author else None,
        )

    # -- sampling ------------------------------------------------------------------------------

    def sample(self, *, actor: Actor, body: SampleIn) -> SampleOut:
        """Draw up to ``size`` closed conversations with an agent, not reviewed before and not
        the sampler's own, as pending reviews assigned to the sampler."""
        if body.closed_from and body.closed_to and body.closed_to < body.closed_from:
            raise InvalidInputError(
                "'closed_to' must not be before 'closed_from'", details=[{"field": "closed_to"}]
            )
        seed = secrets.randbelow(MAX_SEED) if body.seed is None else body.seed
        with session_scope(self.engine) as session:
            agent_id = self._agent_filter(session, actor, body.agent)
            eligible = self._eligible(session, actor, body, agent_id)
            drawn = random.Random(seed).sample(eligible, min(body.size, len(eligible)))
            now = utcnow()
            made = [
                QualityReview(
                    conversation_id=conversation_id,
                    ticket_id=ticket_id,
                    agent_id=agent,
                    reviewer_id=actor.user_id,
                    sample_seed=seed,
                    sampled_at=now,
                )
                for conversation_id, ticket_id, agent in drawn
            ]
            session.add_all(made)
            try:
                session.flush()
            except IntegrityError:
                raise ConflictError(
                    "another supervisor sampled some of these conversations at the same time; "
                    "sample again"
                ) from None
            return SampleOut(seed=seed, eligible=len(eligible), sampled=self._public(session, made))

    def _agent_filter(self, session: Session, actor: Actor, username: str | None) -> int | None:
        if username is None:
            return None
        user = session.exec(select(StaffUser).where(col(StaffUser.username) == username)).first()
        if user is None or user.id is None:
            raise InvalidInputError(
                f"no staff member named {username!r}", details=[{"field": "agent"}]
            )
        if user.id == actor.user_id:
            raise OwnConversationError("reviewers cannot review their own conversations")
        return user.id

    def _eligible(
        self, session: Session, actor: Actor, body: SampleIn, agent_id: int | None
    ) -> list[tuple[str, int, int]]:
        """(conversation, ticket, agent) of every conversation the filters allow, by id."""
        latest = (
            select(
                col(Ticket.conversation_id).label("conversation_id"),
                func.max(Ticket.id).label("ticket_id"),
            )
            .where(col(Ticket.kind) == "live")
            .group_by(col(Ticket.conversation_id))
            .subquery()
        )
        reviewed = select(col(QualityReview.conversation_id))
        query = (
            select_columns(
                col(Conversation.id),
                col(Ticket.id),
                col(Ticket.agent_id),
                col(Ticket.assigned_at),
                col(Ticket.closed_at),
            )
            .join(latest, latest.c.conversation_id == col(Conversation.id))
            .join(Ticket, col(Ticket.id) == latest.c.ticket_id)
            .where(
                col(Conversation.state) == "closed",
                col(Ticket.agent_id).is_not(None),
                col(Ticket.agent_id) != actor.user_id,
                col(Conversation.id).not_in(reviewed),
            )
        )
        if body.closed_from:
            query = query.where(col(Conversation.closed_at) >= _midnight(body.closed_from))
        if body.closed_to:
            end = _midnight(body.closed_to) + timedelta(days=1)
            query = query.where(col(Conversation.closed_at) < end)
        if agent_id is not None:
            query = query.where(col(Ticket.agent_id) == agent_id)
        if body.language:
            query = query.where(col(Conversation.language) == body.language)
        if body.escalated is not None:
            handed = select(col(Ticket.conversation_id)).where(
                col(Ticket.reason).not_in(_NOT_THE_BOTS)
            )
            inside = col(Conversation.id).in_(handed)
            query = query.where(inside if body.escalated else ~inside)
        if body.csat_max is not None:
            low = select(col(Feedback.conversation_id)).where(col(Feedback.csat) <= body.csat_max)
            query = query.where(col(Conversation.id).in_(low))
        rows = session.execute(query.order_by(col(Conversation.id))).all()
        least = None if body.handle_min_minutes is None else body.handle_min_minutes * 60
        found: list[tuple[str, int, int]] = []
        for conversation_id, ticket_id, agent, assigned, closed in rows:
            if least is not None:
                if assigned is None or closed is None:
                    continue
                if (closed - assigned).total_seconds() < least:
                    continue
            found.append((conversation_id, ticket_id or 0, agent or 0))
        return found

    # -- reading -------------------------------------------------------------------------------

    def reviews(
        self, *, status: str, agent: str | None = None, reviewer: str | None = None
    ) -> list[ReviewPublic]:
        """For supervisors: pending ones oldest first, submitted ones newest first."""
        with Session(self.engine) as session:
            query = select(QualityReview)
            if status != "all":
                query = query.where(col(QualityReview.status) == status)
            for username, column in (
                (agent, col(QualityReview.agent_id)),
                (reviewer, col(QualityReview.reviewer_id)),
            ):
                if username is None:
                    continue
                user = session.exec(
                    select(StaffUser).where(col(StaffUser.username) == username)
                ).first()
                if user is None:
                    return []
                query = query.where(column == user.id)
            order = (
                col(QualityReview.id)
                if status == "pending"
                else col(QualityReview.submitted_at).desc()
            )
            rows = session.exec(query.order_by(order, col(QualityReview.id)).limit(_LISTED)).all()
            return self._public(session, list(rows))

    def about(self, *, actor: Actor) -> list[ReviewPublic]:
        """The submitted reviews of the actor's own conversations, newest first."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(QualityReview)
                .where(
                    col(QualityReview.agent_id) == actor.user_id,
                    col(QualityReview.status) == "submitted",
                )
                .order_by(col(QualityReview.submitted_at).desc())
                .limit(_LISTED)
            ).all()
            return self._public(session, list(rows))

    def get(self, *, actor: Actor, review_id: int) -> ReviewPublic:
        with Session(self.engine) as session:
            review = self._review(session, actor, review_id)
            return self._public(session, [review])[0]

    def _review(self, session: Session, actor: Actor, review_id: int) -> QualityReview:
        review = session.get(QualityReview, review_id)
        # An agent may read only the submitted reviews of their own chats; for them the rest
        # does not exist.
        if review is None or (
            actor.role == Role.agent
            and (review.agent_id != actor.user_id or review.status != "submitted")
        ):
            raise NotFoundError(f"no review {review_id}")
        return review

    # -- scoring -------------------------------------------------------------------------------

    def submit(self, *, actor: Actor, review_id: int, body: ReviewSubmitIn) -> ReviewPublic:
        with session_scope(self.engine) as session:
            review = self._review(session, actor, review_id)
            if review.status != "pending":
                raise ReviewSubmittedError(f"review {review_id} was submitted already")
            if review.agent_id == actor.user_id:
                raise OwnConversationError("reviewers cannot review their own conversations")
            rubric = _latest_rubric(session)
            if rubric is None:
                raise NoRubricError("an admin must set the rubric before reviews can be scored")
            score, failed = score_review(_criteria(rubric), body.scores)
            # A conditional UPDATE: of two submissions at once, exactly one changes the row.
            changed = session.exec(
                update(QualityReview)
                .where(col(QualityReview.id) == review_id, col(QualityReview.status) == "pending")
                .values(
                    status="submitted",
                    rubric_id=rubric.id,
                    scores=dict(body.scores),
                    score=score,
                    critical_failed=failed,
                    comment=body.comment.strip(),
                    reviewer_id=actor.user_id,
                    submitted_at=utcnow(),
                )
            )
            if cast(CursorResult[Any], changed).rowcount != 1:
                raise ReviewSubmittedError(f"review {review_id} was submitted already")
            session.expire(review)
            return self._public(session, [review])[0]

    def drop(self, *, actor: Actor, review_id: int) -> None:
        """Skip a pending review: the conversation may be sampled again."""
        with session_scope(self.engine) as session:
            review = self._review(session, actor, review_id)
            if review.status != "pending":
                raise ReviewSubmittedError(f"review {review_id} was submitted: it stays")
            session.delete(review)

    # -- shaping -------------------------------------------------------------------------------

    def _public(self, session: Session, reviews: list[QualityReview]) -> list[ReviewPublic]:
        if not reviews:
            return []
        people = _names(session, [r.agent_id for r in reviews] + [r.reviewer_id for r in reviews])
        rubric_ids = {r.rubric_id for r in reviews if r.rubric_id is not None}
        rubrics = {
            rubric.id: _criteria(rubric)
            for rubric in session.exec(
                select(QualityRubric).where(col(QualityRubric.id).in_(rubric_ids))
            ).all()
        }
        pending_rubric = _latest_rubric(session)
        ids = [r.conversation_id for r in reviews]
        conversations = {
            c.id: c
            for c in session.exec(select(Conversation).where(col(Conversation.id).in_(ids))).all()
        }
        ratings = {
            f.conversation_id: f.csat
            for f in session.exec(select(Feedback).where(col(Feedback.conversation_id).in_(ids)))
        }
        ticket_ids = [r.ticket_id for r in reviews if r.ticket_id is not None]
        tickets = {
            t.id: t for t in session.exec(select(Ticket).where(col(Ticket.id).in_(ticket_ids)))
        }
        shown = []
        for review in reviews:
            criteria = (
                rubrics.get(review.rubric_id, [])
                if review.rubric_id is not None
                else _criteria(pending_rubric)
            )
            agent = people.get(review.agent_id)
            reviewer = people.get(review.reviewer_id)
            conversation = conversations.get(review.conversation_id)
            ticket = tickets.get(review.ticket_id) if review.ticket_id else None
            handled = (
                (ticket.closed_at - ticket.assigned_at).total_seconds()
                if ticket and ticket.closed_at and ticket.assigned_at
                else None
            )
            shown.append(
                ReviewPublic(
                    id=review.id or 0,
                    conversation_id=review.conversation_id,
                    ticket_id=review.ticket_id,
                    agent=agent.username if agent else "",
                    agent_name=(agent.display_name or agent.username) if agent else "",
                    reviewer=reviewer.username if reviewer else "",
                    reviewer_name=(reviewer.display_name or reviewer.username) if reviewer else "",
                    status=review.status,
                    rubric_version=review.rubric_id,
                    criteria=[
                        CriterionScore(
                            key=c.key,
                            name=c.name,
                            name_zh=c.name_zh,
                            weight=c.weight,
                            max_points=c.max_points,
                            critical=c.critical,
                            points=review.scores.get(c.key),
                        )
                        for c in criteria
                    ],
                    score=review.score,
                    critical_failed=review.critical_failed,
                    comment=review.comment,
                    sampled_at=review.sampled_at,
                    submitted_at=review.submitted_at,
                    closed_at=conversation.closed_at if conversation else None,
                    language=conversation.language if conversation else None,
                    csat=ratings.get(review.conversation_id),
                    handle_seconds=handled,
                )
            )
        return shown
