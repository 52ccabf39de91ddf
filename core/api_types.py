"""Types every REST route shares for its parameters, bodies and errors.

Integers that reach the database are bounded to what its columns hold. Every id, sequence
number and version column is an INTEGER, 32-bit on PostgreSQL; LIMIT and OFFSET take signed
64-bit values on both backends. Past 2^63 the driver raises (``OverflowError`` on SQLite) instead
of matching nothing. Bounding them at the edge turns that into a 422 and puts the range in the
OpenAPI document, where clients and fuzzers can see it.

PATCH bodies leave a field out to keep it. A field that cannot be empty in storage refuses an
explicit ``null`` with a 422 (``NotNull``); the document does not offer null for it either.
Fields that are nullable by design (``expected_version``: "do not check") keep plain
``X | None``, where null means the same as leaving the field out.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from annotated_types import Ge, Le
from pydantic import BaseModel, BeforeValidator, Field
from pydantic.json_schema import SkipJsonSchema

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "INT64_MIN",
    "DbInt",
    "ErrorBody",
    "ErrorResponse",
    "NotNull",
    "Offset",
    "RowId",
    "SeqNumber",
]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1

# Any integer a query compares with a 64-bit value: the signed 64-bit range.
DbInt = Annotated[int, Ge(INT64_MIN), Le(INT64_MAX)]
# Auto-incremented primary keys start at 1 and live in 32-bit columns.
RowId = Annotated[int, Ge(1), Le(INT32_MAX)]
# Per-conversation sequence numbers and entry versions: 0 or more, in 32-bit columns.
SeqNumber = Annotated[int, Ge(0), Le(INT32_MAX)]
# How many rows to skip: OFFSET takes a signed 64-bit value.
Offset = Annotated[int, Ge(0), Le(INT64_MAX)]

T = TypeVar("T")


def _refuse_null(value: object) -> object:
    # Runs only on a value the client sent: an omitted field takes its default unvalidated.
    if value is None:
        raise ValueError("leave the field out to keep its value; it cannot be null")
    return value


def _hide_default(schema: dict[str, Any]) -> None:
    # The None default means "not sent"; as a schema default it would contradict the type.
    schema.pop("default", None)


# ``NotNull[Question] = None``: optional in a PATCH, never null. None stays the Python-side
# "not sent" default, hidden from the JSON schema with the null it would otherwise admit.
NotNull = Annotated[
    T | SkipJsonSchema[None],
    BeforeValidator(_refuse_null),
    Field(json_schema_extra=_hide_default),
]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable identifier, e.g. invalid, not_found.")
    message: str
    details: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    """What every 4xx (and 5xx) response carries."""

    error: ErrorBody
