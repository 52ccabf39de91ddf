"""WebSocket frames in and out: one parser that bounds what a client can send, and one writer.

Every frame a client sends passes ``parse_frame`` before any handler sees it: it must be a text
frame of at most ``MAX_FRAME_CHARS`` characters holding a JSON object nested at most
``MAX_DEPTH`` deep, whose integers fit a signed 64-bit column, with no NaN or infinity, and
whose strings (keys too) every database can store. Anything else is a ``FrameError`` with a
code, which the socket turns into an error frame.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import InvalidInputError
from .text import INT64_MAX, INT64_MIN, check_text, unstorable_at

__all__ = [
    "MAX_DEPTH",
    "MAX_FRAME_CHARS",
    "FrameError",
    "FrameRefusedError",
    "FrameTooLargeError",
    "frame_text",
    "parse_frame",
]

# Far above any real frame (a 2,000-character message is a few kilobytes), far below a flood.
MAX_FRAME_CHARS = 64 * 1024
# Real frames are one level deep; their values a level or two more.
MAX_DEPTH = 16


class FrameError(InvalidInputError):
    """A frame the server will not handle; ``code`` says why."""

    code = "invalid_frame"


class InvalidJsonError(FrameError):
    code = "invalid_json"


class FrameTooDeepError(FrameError):
    code = "frame_too_deep"


class InvalidNumberError(FrameError):
    code = "invalid_number"


class FrameRefusedError(FrameError):
    """A handler's refusal of a well-formed frame, with the handler's own code; raised, so
    that every refusal leaves through ``receive_frames`` and names the frame's ids."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class FrameTooLargeError(FrameError):
    """Abusive: the socket is closed after the error frame (close code 1009)."""

    code = "frame_too_large"


def _refuse_constant(name: str) -> Any:
    raise InvalidJsonError(f"{name} is not JSON")


def parse_frame(text: str | None) -> dict[str, Any]:
    """The frame's JSON object, or a ``FrameError``."""
    if text is None:
        raise FrameError("frames must be text frames holding JSON, not binary")
    if len(text) > MAX_FRAME_CHARS:
        raise FrameTooLargeError(f"a frame may hold at most {MAX_FRAME_CHARS} characters")
    try:
        frame = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise FrameTooDeepError(f"a frame may nest at most {MAX_DEPTH} deep") from None
    except ValueError:  # JSONDecodeError, and a number too long to convert
        raise InvalidJsonError("the frame is not JSON") from None
    if not isinstance(frame, dict):
        raise FrameError("a frame must be a JSON object")
    _check_values(frame)
    return frame


def _check_values(frame: dict[str, Any]) -> None:
    """Walk the frame without recursion: depth, numbers and strings."""
    pending: list[tuple[Any, int, str]] = [(frame, 1, "")]
    while pending:
        value, depth, path = pending.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise FrameTooDeepError(f"a frame may nest at most {MAX_DEPTH} deep")
            for key, item in value.items():
                check_text(key, field=f"{path}.key" if path else "key")
                pending.append((item, depth + 1, path or key))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                raise FrameTooDeepError(f"a frame may nest at most {MAX_DEPTH} deep")
            pending.extend((item, depth + 1, path) for item in value)
        elif isinstance(value, str):
            check_text(value, field=path)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise InvalidNumberError(f"'{path}' is out of range (a signed 64-bit integer)")
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidNumberError(f"'{path}' is out of range")


def frame_text(frame: dict[str, Any]) -> str:
    """A frame as JSON text that always encodes as UTF-8 (a lone surrogate becomes an escape)."""
    text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
    if text.isascii() or unstorable_at(text) is None:
        return text
    return json.dumps(frame, separators=(",", ":"))
