"""Script-based language detection: cheap, deterministic, right for the languages we serve."""

from __future__ import annotations

import re

__all__ = ["SUPPORTED_LANGUAGES", "detect_language", "han_ratio", "is_cjk"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def is_cjk(char: str) -> bool:
    return bool(_HAN.match(char))


def detect_language(text: str, default: str = "en") -> str:
    """Return an ISO 639-1 code: zh for Han script, ja, ko, en for Latin, else ``default``.

    A message in Chinese often carries Latin order numbers or brand names, so any
    meaningful share of Han characters wins over Latin letters.
    """
    han = len(_HAN.findall(text))
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    latin_words = len(_LATIN_WORD.findall(text))
    # One Han character carries about as much as one English word.
    if han and han >= latin_words:
        return "zh"
    if latin_words:
        return "en"
    return default


#: ISO 639-1 codes a knowledge-base entry may carry; anything else is rejected as unknown.
SUPPORTED_LANGUAGES: frozenset[str] = frozenset(
    [
        "en",
        "zh",
        "ja",
        "ko",
        "fr",
        "de",
        "es",
        "pt",
        "it",
        "nl",
        "ru",
        "ar",
        "tr",
        "pl",
        "vi",
        "th",
        "id",
        "ms",
        "hi",
    ]
)


def han_ratio(text: str) -> float:
    """The share of Han characters among a text's letters and digits."""
    letters = [c for c in text if c.isalnum()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if _HAN.match(c)) / len(letters)
