"""Readings (yomi) for shop names, so a kanji name is found by its kana and by romaji.

pykakasi gives a dictionary reading per segment; it is right for most shop names and its mistakes
(店 read as みせ) only add a second way to find a shop, never remove one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from geo.text import normalize_name


@lru_cache(maxsize=1)
def _kakasi() -> Any:
    import pykakasi  # noqa: PLC0415 - loading the dictionary takes a moment; only when needed

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]


def _segments(name: str) -> list[dict[str, str]]:
    text = normalize_name(name)
    if not text:
        return []
    result: list[dict[str, str]] = _kakasi().convert(text)
    return result


def reading(name: str | None) -> str:
    """The hiragana reading of a name (latin letters and digits are kept as they are)."""
    return "".join(seg["hira"] for seg in _segments(name or ""))


def romaji(name: str | None) -> str:
    """Hepburn romaji of the reading, lower case, as typed on a phone (no macrons)."""
    return "".join(seg["hepburn"] for seg in _segments(name or "")).lower()
