"""Request and response shapes for FAQ entries and intents, with their shared validation."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from core.api_types import NotNull, SeqNumber
from core.language import SUPPORTED_LANGUAGES, detect_language
from core.text import STORABLE

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_QUESTION_CHARS",
    "EntryStatus",
    "FaqEntryCreate",
    "FaqEntryPublic",
    "FaqEntryUpdate",
    "IntentAction",
    "IntentCreate",
    "IntentPublic",
    "IntentUpdate",
    "RevisionPublic",
    "generated_entry_id",
    "resolve_entry",
]

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 5000
MAX_ALTERNATIVES = 50
MAX_EXAMPLES = 2000

# Ids travel in URL paths, so no slashes; no whitespace, so they survive CSV and copy-paste.
_ID_PATTERN = re.compile(r"^[^\s/\\]{1,64}$")


class EntryStatus(StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class IntentAction(StrEnum):
    respond = "respond"
    handoff = "handoff"


def _check_language(value: str) -> str:
    if value not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unknown language {value!r}; use an ISO 639-1 code such as en or zh")
    return value


def _check_id(value: str) -> str:
    if not _ID_PATTERN.match(value):
        raise ValueError("ids are 1-64 characters without spaces or slashes")
    return value


def _no_blank_items(values: list[str]) -> list[str]:
    cleaned = [v.strip() for v in values]
    if any(not v for v in cleaned):
        raise ValueError("phrasings must not be empty")
    # Keep order, drop repeats: a phrasing listed twice is one phrasing.
    return list(dict.fromkeys(cleaned))


# Every text an admin sends passes the storable-text check (a NUL or lone surrogate is a 422).
Question = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS),
    STORABLE,
]
Answer = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ANSWER_CHARS),
    STORABLE,
]
Language = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_language)]
EntryId = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_id)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), STORABLE
]
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), STORABLE
]
Alternatives = Annotated[
    list[Question], Field(max_length=MAX_ALTERNATIVES), AfterValidator(_no_blank_items)
]


class FaqEntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: EntryId | None = None
    question: Question
    alternatives: Alternatives = []
    answer: Answer
    category: Category = "general"
    language: Language | None = Field(
        default=None, description="Detected from the question if omitted."
    )
    tags: list[Tag] = []
    status: EntryStatus = EntryStatus.draft


def generated_entry_id(language: str, question: str) -> str:
    """A stable id for entries given without one, so re-importing a file changes nothing."""
    digest = hashlib.sha1(f"{language}\n{question}".encode(), usedforsecurity=False)
    return f"faq-{digest.hexdigest()[:12]}"


def resolve_entry(data: FaqEntryCreate) -> FaqEntryCreate:
    """The entry with its language detected and its id settled, as it will be stored."""
    language = data.language or detect_language(data.question)
    entry_id = data.id or generated_entry_id(language, data.question)
    return data.model_copy(update={"language": language, "id": entry_id})


class FaqEntryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A field left out keeps its value; null is refused (422): none of them can be empty.
    question: NotNull[Question] = None
    alternatives: NotNull[Alternatives] = None
    answer: NotNull[Answer] = None
    category: NotNull[Category] = None
    language: NotNull[Language] = None
    tags: NotNull[list[Tag]] = None
    status: NotNull[EntryStatus] = None
    expected_version: SeqNumber | None = Field(
        default=None,
        description="Reject the edit with 409 if the entry has moved on since; null: no check.",
    )


class FaqEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    question: str
    alternatives: list[str]
    answer: str
    category: str
    language: str
    tags: list[str]
    status: EntryStatus
    version: int
    author: str
    created_at: datetime
    updated_at: datetime


IntentName = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_id)]
Example = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS),
    STORABLE,
]


def _check_language_keys(values: dict[str, object]) -> dict[str, object]:
    for language in values:
        _check_language(language)
    return values


Responses = Annotated[
    dict[str, Annotated[str, StringConstraints(max_length=MAX_ANSWER_CHARS), STORABLE]],
    AfterValidator(_check_language_keys),
]
Examples = Annotated[
    dict[str, Annotated[list[Example], Field(max_length=MAX_EXAMPLES)]],
    AfterValidator(_check_language_keys),
]
Description = Annotated[str, StringConstraints(max_length=500), STORABLE]


class IntentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: IntentName
    description: Description = ""
    action: IntentAction = IntentAction.respond
    responses: Responses = {}
    examples: Examples = {}


class IntentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # As for FAQ entries: leave a field out to keep it; null is refused.
    description: NotNull[Description] = None
    action: NotNull[IntentAction] = None
    responses: NotNull[Responses] = None
    examples: NotNull[Examples] = None
    expected_version: SeqNumber | None = Field(
        default=None,
        description="Reject the edit with 409 if the intent has moved on since; null: no check.",
    )


class IntentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str
    action: IntentAction
    responses: dict[str, str]
    examples: dict[str, list[str]]
    version: int
    author: str
    created_at: datetime
    updated_at: datetime


class RevisionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    entity_id: str
    version: int
    action: str
    author: str
    created_at: datetime
    changes: dict[str, object]
    snapshot: dict[str, object] | None
