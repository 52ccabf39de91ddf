"""The bot's messages as plain text, for the ways in that have no chips (WeChat, e-mail), and
a customer's answer to a clarifying question by its number."""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["numbered_text", "picked_suggestion"]


def numbered_text(payload: dict[str, Any]) -> str:
    """A message event's text as a customer without chips reads it: a clarifying question's
    suggestions follow as numbered lines."""
    text = str(payload.get("text") or "").strip()
    suggestions = payload.get("suggestions") or []
    lines = [f"{n}. {s.get('question', '')}" for n, s in enumerate(suggestions, start=1)]
    return "\n".join([text, *lines]).strip()


def picked_suggestion(text: str, pending: list[str]) -> str | None:
    """The entry a message that is only the number of one of the suggestions offered last
    picks ("2", "２", "2."); None for anything else."""
    plain = unicodedata.normalize("NFKC", text).strip().rstrip(".)、")
    if not plain.isascii() or not plain.isdigit():
        return None
    number = int(plain)
    return pending[number - 1] if 1 <= number <= len(pending) else None
