"""What a customer or agent may hand us to store: text every database keeps, and integers that
fit its columns. One check, used by every surface (REST bodies, WebSocket frames, services).

Python strings can hold code points no database stores: a lone surrogate (``"\\ud83d"`` is
valid JSON, yet SQLite's UTF-8 and PostgreSQL refuse it) and NUL (PostgreSQL text refuses it).
Such text is refused with ``invalid_text``, never silently changed, so what a client sent is
either stored exactly or not at all. Rows stored before this check existed are read back with
each such code point replaced by U+FFFD (``loads_stored_json``), so they cannot break a
conversation for good.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from .api_types import INT32_MAX, INT64_MAX, INT64_MIN
from .errors import InvalidInputError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_SEQ",
    "STORABLE",
    "InvalidTextError",
    "StoredText",
    "check_seq",
    "check_text",
    "loads_stored_json",
    "unstorable_at",
]

# Sequence numbers are 32-bit columns; a conversation never gets near this.
MAX_SEQ = INT32_MAX

# Lone surrogates (a Python str never holds a valid pair) and NUL.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In JSON text read back from the database, the escapes that decode to one of those.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


class InvalidTextError(InvalidInputError):
    code = "invalid_text"


def unstorable_at(text: str) -> int | None:
    """The index of the first code point no database can store, or None."""
    if text.isascii():
        index = text.find("\x00")
        return None if index < 0 else index
    found = _UNSTORABLE.search(text)
    return None if found is None else found.start()


def _problem(index: int) -> str:
    return f"a character no database can store at position {index} (a lone UTF-16 surrogate or NUL)"


def check_text(value: str, *, field: str) -> str:
    """``value`` unchanged if every database can store it, else ``InvalidTextError``."""
    index = unstorable_at(value)
    if index is not None:
        raise InvalidTextError(
            f"'{field}' has {_problem(index)}", details=[{"code": "invalid_text", "field": field}]
        )
    return value


def check_seq(value: object) -> int | None:
    """``value`` if it is a sequence number a column can hold (0 to ``MAX_SEQ``), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        return None
    return value


def _storable(value: str) -> str:
    index = unstorable_at(value)
    if index is not None:
        raise PydanticCustomError("invalid_text", f"has {_problem(index)}")
    return value


#: The check as annotation metadata, for constrained string types of their own.
STORABLE = AfterValidator(_storable)

StoredText = Annotated[str, STORABLE]
"""A request-body string that every database can store (a 422 ``invalid_text`` otherwise)."""


def loads_stored_json(raw: str | bytes) -> Any:
    """The engine's JSON reader: a stored lone surrogate or NUL comes back as U+FFFD."""
    if not isinstance(raw, str):  # psycopg hands over bytes
        raw = bytes(raw).decode()
    value = json.loads(raw)
    if _UNSTORABLE_ESCAPE.search(raw) is None:
        return value
    return _replace_unstorable(value)


def _replace_unstorable(value: Any) -> Any:
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_unstorable(item) for item in value]
    if isinstance(value, dict):
        return {_replace_unstorable(k): _replace_unstorable(v) for k, v in value.items()}
    return value
