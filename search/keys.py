"""Search keys shared by the load path, the query builders and the search documents.

Names are matched in three folded forms, all built from ``geo.text.search_key`` and ``geo.reading``:
the name itself (NFKC, width and case folded, katakana as hiragana), its reading in hiragana, and a
*romaji key*: the Hepburn reading with long vowels and spelling variants folded, so ``sushiro``,
``sushiroo`` and ``sushirou`` (スシロー) meet, and so do ``shinbashi``/``shimbashi`` and ``tsu``/``tu``.
"""

from __future__ import annotations

import re

from geo.reading import romaji
from geo.text import search_key

# Kunrei/Nihon-shiki spellings people still type, folded to Hepburn (longest first).
_VARIANTS = (
    ("tch", "cch"),
    ("sya", "sha"),
    ("syu", "shu"),
    ("syo", "sho"),
    ("tya", "cha"),
    ("tyu", "chu"),
    ("tyo", "cho"),
    ("zya", "ja"),
    ("zyu", "ju"),
    ("zyo", "jo"),
    ("jya", "ja"),
    ("jyu", "ju"),
    ("jyo", "jo"),
    ("si", "shi"),
    ("ti", "chi"),
    ("tu", "tsu"),
    ("hu", "fu"),
    ("zi", "ji"),
    ("di", "ji"),
    ("du", "zu"),
)
_NOT_LATIN = re.compile(r"[^a-z0-9]+")
_M_BEFORE_LABIAL = re.compile(r"m(?=[bmp])")
_LONG_OU = re.compile(r"o[ou]")
_REPEATED_VOWEL = re.compile(r"([aiueo])\1+")
_LATIN_TOKEN = re.compile(r"^[a-z0-9]+$")
_KANA_TOKEN = re.compile(r"^[\u3041-\u309f\u30fc]+$")


def romaji_key(value: str | None) -> str:
    """Fold romaji so the ways people type one reading compare equal (``sushiroo`` -> ``sushiro``)."""
    text = _NOT_LATIN.sub("", (value or "").lower())
    if not text:
        return ""
    # Kunrei spellings: only fold a "si"/"ti"/... that is not already part of the Hepburn form.
    text = text.replace("shi", "\x00").replace("chi", "\x01").replace("tsu", "\x02")
    for kunrei, hepburn in _VARIANTS:
        text = text.replace(kunrei, hepburn)
    text = text.replace("\x00", "shi").replace("\x01", "chi").replace("\x02", "tsu")
    text = text.replace("nn", "n")
    text = _M_BEFORE_LABIAL.sub("n", text)
    text = _LONG_OU.sub("o", text)
    text = text.replace("ei", "e")
    return _REPEATED_VOWEL.sub(r"\1", text)


def name_romaji_key(name: str | None, kana: str | None) -> str:
    """The romaji key of a shop: from its reading when known, else from the name."""
    return romaji_key(romaji(kana or name))


def is_latin(token: str) -> bool:
    return bool(_LATIN_TOKEN.match(token))


def is_kana(token: str) -> bool:
    return bool(_KANA_TOKEN.match(token))


def query_tokens(q: str | None, *, max_tokens: int = 6) -> list[str]:
    """Split a query on spaces and fold each word like the stored keys; empty words are dropped."""
    if not q:
        return []
    words = re.split(r"[\s\u3000]+", q.strip())
    keys = [k for k in (search_key(w) for w in words) if k]
    return list(dict.fromkeys(keys))[:max_tokens]
