"""Finding listed phrases in a reply: a pure function, shared by the desk's check and its tests.

Both sides are compared in one folded form (Unicode NFKC, then case folding, curly apostrophes
as straight ones, any run of white space as one), and every match is reported by its place in
the text as written, in code points, so a console can replace exactly what the agent typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from core.language import is_cjk

__all__ = ["Listed", "PhraseMatch", "find_phrases", "phrase_key"]

_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\uff07": "'"})
# A letter or digit that is not a Han character: Latin phrases end where such a character does
# not follow, so "no" misses "know" but is found in "no问题".
_WORD = r"[^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


@dataclass(frozen=True)
class Listed:
    """One entry of the list, as the matcher needs it."""

    id: int
    phrase: str
    alternatives: tuple[str, ...]


@dataclass(frozen=True)
class PhraseMatch:
    phrase_id: int
    phrase: str
    alternatives: tuple[str, ...]
    start: int
    end: int
    # The words as the reply has them ("Calm  down" for the phrase "calm down").
    text: str

    def detail(self) -> dict[str, object]:
        return {
            "phrase_id": self.phrase_id,
            "phrase": self.phrase,
            "alternatives": list(self.alternatives),
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)


def phrase_key(phrase: str) -> str:
    """What two phrases must differ in to be different entries of the list."""
    return " ".join(_fold(phrase).split())


def _folded_with_places(text: str) -> tuple[str, list[int], list[int]]:
    """The folded text, and for each of its characters where its source starts and ends in
    ``text``. A character and the combining marks after it fold together, as NFKC would."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        folded = _fold(text[i:j])
        parts.append(folded)
        starts.extend([i] * len(folded))
        ends.extend([j] * len(folded))
        i = j
    return "".join(parts), starts, ends


@lru_cache(maxsize=1024)
def _pattern(phrase: str) -> re.Pattern[str] | None:
    words = phrase_key(phrase).split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    if any(is_cjk(c) for c in phrase):
        return re.compile(body)
    before = f"(?<!{_WORD})" if re.match(_WORD, words[0][0]) else ""
    after = f"(?!{_WORD})" if re.match(_WORD, words[-1][-1]) else ""
    return re.compile(before + body + after)


def find_phrases(text: str, listed: Iterable[Listed]) -> list[PhraseMatch]:
    """Every place a listed phrase occurs in ``text``, in order. Of two that overlap the earlier
    is kept, and of two that start together the longer (a listed "that's not my job" over a
    listed "not my job"), so each stretch of the reply has one set of alternatives."""
    folded, starts, ends = _folded_with_places(text)
    found: list[PhraseMatch] = []
    for entry in listed:
        pattern = _pattern(entry.phrase)
        if pattern is None:
            continue
        for hit in pattern.finditer(folded):
            if hit.end() == hit.start():
                continue
            start, end = starts[hit.start()], ends[hit.end() - 1]
            found.append(
                PhraseMatch(entry.id, entry.phrase, entry.alternatives, start, end, text[start:end])
            )
    found.sort(key=lambda m: (m.start, m.start - m.end, m.phrase_id))
    kept: list[PhraseMatch] = []
    for match in found:
        if not kept or match.start >= kept[-1].end:
            kept.append(match)
    return kept
