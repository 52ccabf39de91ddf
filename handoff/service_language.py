"""Service language: words and phrases agents should not send, with better ones to say instead.

The list is checked by the server when an agent replies (``HandoffDesk.reply``): a reply with a
listed phrase is refused with ``service_language`` until the agent confirms it, and a confirmed
one records each phrase it used, in the reply's own transaction, for supervisors' report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.db import session_scope
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.language import detect_language
from core.staff import StaffUser
from core.text import STORABLE

from .models import ServicePhrase, ServicePhraseUse
from .phrase_match import Listed, PhraseMatch, find_phrases, phrase_key

__all__ = [
    "PhraseReport",
    "ServiceLanguage",
    "ServiceLanguageError",
    "ServiceLanguageReport",
    "ServicePhraseIn",
    "ServicePhrasePublic",
]

Phrase = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), STORABLE
]
Alternative = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), STORABLE
]


class ServicePhraseIn(BaseModel):
    phrase: Phrase
    # None: checked in replies in every language.
    language: Literal["en", "zh"] | None = None
    alternatives: list[Alternative] = Field(default_factory=list, max_length=10)


class ServicePhrasePublic(BaseModel):
    id: int
    phrase: str
    language: str | None
    alternatives: list[str]
    created_at: datetime


class AgentUses(BaseModel):
    username: str | None
    display_name: str | None
    uses: int


class PhraseReport(BaseModel):
    # None, and ``deleted``, for a phrase taken off the list since it was used.
    id: int | None
    phrase: str
    language: str | None
    deleted: bool = False
    uses: int
    last_used: datetime | None
    agents: list[AgentUses]


class ServiceLanguageReport(BaseModel):
    days: int
    since: datetime
    phrases: list[PhraseReport]


class ServiceLanguageError(InvalidInputError):
    """A reply with listed phrases, not confirmed: nothing was stored or sent. ``details``:
    one ``PhraseMatch.detail()`` per place in the text."""

    code = "service_language"

    def __init__(self, matches: list[PhraseMatch]) -> None:
        quoted = ", ".join(dict.fromkeys(f"“{m.phrase}”" for m in matches))
        super().__init__(
            f"the reply contains {quoted}; change it, or send it with 'confirm_phrases': true",
            details=[m.detail() for m in matches],
        )


def _public(row: ServicePhrase) -> ServicePhrasePublic:
    return ServicePhrasePublic(
        id=row.id or 0,
        phrase=row.phrase,
        language=row.language,
        alternatives=list(row.alternatives),
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class _Used:
    """One agent's uses of one phrase in the period."""

    phrase_id: int
    agent_id: int | None
    count: int
    last: datetime
    # The phrase as it was copied (the newest copy): a deleted phrase is reported by it.
    phrase: str


def _uses_since(session: Session, since: datetime) -> list[_Used]:
    use = ServicePhraseUse
    grouped = session.execute(
        sa_select(
            col(use.phrase_id),
            col(use.agent_id),
            func.count(),
            func.max(col(use.at)),
            func.max(col(use.phrase)),
        )
        .where(col(use.at) >= since)
        .group_by(col(use.phrase_id), col(use.agent_id))
    ).all()
    return [
        _Used(phrase_id or 0, agent_id, int(count), last, phrase)
        for phrase_id, agent_id, count, last, phrase in grouped
    ]


class ServiceLanguage:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- the list -------------------------------------------------------------------------------

    def all(self) -> list[ServicePhrasePublic]:
        with Session(self.engine) as session:
            return [_public(r) for r in self._rows(session)]

    def create(self, body: ServicePhraseIn) -> ServicePhrasePublic:
        with session_scope(self.engine) as session:
            self._unique(session, body)
            row = ServicePhrase(**body.model_dump())
            session.add(row)
            session.flush()
            return _public(row)

    def update(self, phrase_id: int, body: ServicePhraseIn) -> ServicePhrasePublic:
        with session_scope(self.engine) as session:
            row = self._get(session, phrase_id)
            self._unique(session, body, leaving_out=phrase_id)
            row.phrase, row.language = body.phrase, body.language
            row.alternatives = list(body.alternatives)
            session.add(row)
            session.flush()
            return _public(row)

    def delete(self, phrase_id: int) -> None:
        """Past uses stay in the report under the phrase they copied."""
        with session_scope(self.engine) as session:
            session.delete(self._get(session, phrase_id))

    def ensure(self, items: list[dict[str, Any]]) -> int:
        """Add the given entries that are not listed yet (the demo's); returns how many."""
        added = 0
        with session_scope(self.engine) as session:
            for item in items:
                body = ServicePhraseIn(**item)
                if self._same(session, body) is None:
                    session.add(ServicePhrase(**body.model_dump()))
                    session.flush()
                    added += 1
        return added

    # -- the check ------------------------------------------------------------------------------

    def find(self, text: str, language: str | None) -> list[PhraseMatch]:
        with Session(self.engine) as session:
            return self.find_in(session, text, language)

    def find_in(self, session: Session, text: str, language: str | None) -> list[PhraseMatch]:
        """The listed phrases in ``text``. A phrase with a language is checked when the
        conversation is in it (``language``) or the reply is written in it."""
        languages = {None, language, detect_language(text)}
        listed = [
            Listed(r.id or 0, r.phrase, tuple(r.alternatives))
            for r in self._rows(session)
            if r.language in languages
        ]
        return find_phrases(text, listed)

    @staticmethod
    def record_uses(
        session: Session,
        matches: list[PhraseMatch],
        *,
        agent_id: int | None,
        conversation_id: str,
    ) -> None:
        """One use per phrase in a sent reply, in the caller's (the reply's) transaction."""
        now = utcnow()
        for phrase_id, phrase in {m.phrase_id: m.phrase for m in matches}.items():
            session.add(
                ServicePhraseUse(
                    phrase_id=phrase_id,
                    phrase=phrase,
                    agent_id=agent_id,
                    conversation_id=conversation_id,
                    at=now,
                )
            )

    # -- the report -----------------------------------------------------------------------------

    def report(self, days: int) -> ServiceLanguageReport:
        """Every listed phrase (unused ones with 0) and every phrase used in the last ``days``
        days, most used first, with each agent's count."""
        since = utcnow() - timedelta(days=days)
        with Session(self.engine) as session:
            used = _uses_since(session, since)
            listed = {r.id or 0: r for r in self._rows(session)}
            agent_ids = {u.agent_id for u in used if u.agent_id is not None}
            agents = {
                u.id: u
                for u in session.exec(
                    select(StaffUser).where(col(StaffUser.id).in_(agent_ids))
                ).all()
            }
        per_phrase: dict[int, list[_Used]] = defaultdict(list)
        for use in used:
            per_phrase[use.phrase_id].append(use)
        rows: list[PhraseReport] = []
        for phrase_id in [*listed, *(p for p in per_phrase if p not in listed)]:
            row, uses = listed.get(phrase_id), per_phrase.get(phrase_id, [])
            counts = sorted(
                (
                    AgentUses(
                        username=agents[u.agent_id].username if u.agent_id in agents else None,
                        display_name=(
                            agents[u.agent_id].display_name if u.agent_id in agents else None
                        ),
                        uses=u.count,
                    )
                    for u in uses
                ),
                key=lambda c: (-c.uses, c.username or ""),
            )
            rows.append(
                PhraseReport(
                    id=phrase_id if row else None,
                    phrase=row.phrase if row else max(uses, key=lambda u: u.last).phrase,
                    language=row.language if row else None,
                    deleted=row is None,
                    uses=sum(u.count for u in uses),
                    last_used=max((u.last for u in uses), default=None),
                    agents=counts,
                )
            )
        rows.sort(key=lambda r: (-r.uses, r.deleted, phrase_key(r.phrase)))
        return ServiceLanguageReport(days=days, since=since, phrases=rows)

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _rows(session: Session) -> list[ServicePhrase]:
        return list(session.exec(select(ServicePhrase).order_by(col(ServicePhrase.id))).all())

    @staticmethod
    def _get(session: Session, phrase_id: int) -> ServicePhrase:
        row = session.get(ServicePhrase, phrase_id)
        if row is None:
            raise NotFoundError(f"no service-language phrase {phrase_id}")
        return row

    def _same(
        self, session: Session, body: ServicePhraseIn, leaving_out: int | None = None
    ) -> ServicePhrase | None:
        key = phrase_key(body.phrase)
        for row in self._rows(session):
            same = row.language == body.language and phrase_key(row.phrase) == key
            if same and row.id != leaving_out:
                return row
        return None

    def _unique(
        self, session: Session, body: ServicePhraseIn, leaving_out: int | None = None
    ) -> None:
        if self._same(session, body, leaving_out) is not None:
            where = f"in {body.language}" if body.language else "for every language"
            raise ConflictError(f"“{body.phrase}” is listed {where} already")
