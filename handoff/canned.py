"""Canned responses: saved replies with placeholders filled in for the chat at hand."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.conversations import Conversation
from core.db import session_scope
from core.errors import ConflictError, NotFoundError
from core.text import StoredText

from .models import CannedResponse

__all__ = ["CannedIn", "CannedLibrary", "CannedPublic", "fill"]

PLACEHOLDERS = ("customer_name", "agent_name")
_SLOT = re.compile(r"\{(\w+)\}")
# Where the customer gave no name, "{customer_name}" goes with the comma or space before it in
# English ("Hi {customer_name}, ..." reads "Hi, ..."), and becomes the polite 您 in Chinese
# unless 您 already follows ("{customer_name}您好" reads "您好").
_NAME_BEFORE_HAN_YOU = re.compile(r"\{customer_name\}(?=您)")
_NAME_BESIDE_HAN = re.compile(
    r"(?<=[\u4e00-\u9fff])\{customer_name\}|\{customer_name\}(?=[\u4e00-\u9fff])"
)
_NAME_IN_LATIN = re.compile(r"[ \t]*[,，]?[ \t]*\{customer_name\}")


class CannedIn(BaseModel):
    shortcut: str = Field(min_length=1, max_length=32, pattern=r"^[\w-]+$")
    title: StoredText = Field(min_length=1, max_length=128)
    text: StoredText = Field(min_length=1, max_length=2000)
    language: StoredText | None = Field(default=None, max_length=8)


class CannedPublic(BaseModel):
    id: int
    shortcut: str
    title: str
    text: str
    language: str | None


def fill(template: str, values: dict[str, str]) -> str:
    """Replace known placeholders; unknown ones stay as written so a typo is visible. Without a
    ``customer_name`` value the sentence is rewritten to read well without it."""
    if not values.get("customer_name"):
        template = _NAME_BEFORE_HAN_YOU.sub("", template)
        template = _NAME_BESIDE_HAN.sub("您", template)
        template = _NAME_IN_LATIN.sub("", template)
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _public(row: CannedResponse, text: str | None = None) -> CannedPublic:
    return CannedPublic(
        id=row.id or 0,
        shortcut=row.shortcut,
        title=row.title,
        text=row.text if text is None else text,
        language=row.language,
    )


class CannedLibrary:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def all(self) -> list[CannedPublic]:
        with Session(self.engine) as session:
            rows = session.exec(select(CannedResponse).order_by(col(CannedResponse.shortcut))).all()
            return [_public(r) for r in rows]

    def fitting(self, conversation: Conversation) -> list[CannedPublic]:
        """The responses for this conversation's language (or for every language), as written."""
        with Session(self.engine) as session:
            rows = session.exec(select(CannedResponse).order_by(col(CannedResponse.shortcut))).all()
        return [_public(r) for r in rows if r.language in (None, conversation.language)]

    def for_conversation(
        self, conversation: Conversation, *, agent_name: str
    ) -> list[CannedPublic]:
        """``fitting`` with the placeholders filled for this conversation and agent."""
        values = {"customer_name": conversation.customer_name or "", "agent_name": agent_name}
        return [
            item.model_copy(update={"text": fill(item.text, values)})
            for item in self.fitting(conversation)
        ]

    def create(self, body: CannedIn) -> CannedPublic:
        with session_scope(self.engine) as session:
            self._unique(session, body.shortcut)
            row = CannedResponse(**body.model_dump())
            session.add(row)
            session.flush()
            return _public(row)

    def update(self, canned_id: int, body: CannedIn) -> CannedPublic:
        with session_scope(self.engine) as session:
            row = self._get(session, canned_id)
            if row.shortcut != body.shortcut:
                self._unique(session, body.shortcut)
            for key, value in body.model_dump().items():
                setattr(row, key, value)
            session.add(row)
            return _public(row)

    def delete(self, canned_id: int) -> None:
        with session_scope(self.engine) as session:
            session.delete(self._get(session, canned_id))

    def ensure(self, items: list[dict[str, Any]]) -> int:
        """Add the given responses whose shortcuts are not taken yet; returns how many."""
        added = 0
        with session_scope(self.engine) as session:
            for item in items:
                body = CannedIn(**item)
                taken = session.exec(
                    select(CannedResponse).where(col(CannedResponse.shortcut) == body.shortcut)
                ).first()
                if taken is None:
                    session.add(CannedResponse(**body.model_dump()))
                    added += 1
        return added

    @staticmethod
    def _get(session: Session, canned_id: int) -> CannedResponse:
        row = session.get(CannedResponse, canned_id)
        if row is None:
            raise NotFoundError(f"no canned response {canned_id}")
        return row

    @staticmethod
    def _unique(session: Session, shortcut: str) -> None:
        if session.exec(
            select(CannedResponse).where(col(CannedResponse.shortcut) == shortcut)
        ).first():
            raise ConflictError(f"the shortcut {shortcut!r} is taken")
