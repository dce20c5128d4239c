"""Japanese text normalisation shared by ingest and search.

The rules here are deliberately small and explicit:

* NFKC folds full-width ASCII and half-width kana (``ｽｼﾛｰ`` -> ``スシロー``).
* The long-vowel mark ``ー`` is a letter, never a hyphen. Hyphen look-alikes are folded to ``-``
  in names; in addresses a ``ー`` (or any dash) written *after a digit* is a dash (``1ー2`` -> ``1-2``).
* Search keys additionally fold katakana to hiragana and case, and drop spaces and separators, so
  ``すしろー``, ``スシロー`` and ``ｽｼﾛｰ`` all meet in one key.
"""

from __future__ import annotations

import re
import unicodedata

LONG_VOWEL = "\u30fc"  # ー

# Characters that are hyphens or minus signs in practice. ー is handled separately.
_HYPHENS = "\u002d\u02d7\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2500\u2501\ufe63\uff0d"
_HYPHEN_RE = re.compile(f"[{_HYPHENS}]")
# After a digit, a long-vowel mark or any hyphen look-alike is an address dash.
_DIGIT_DASH_RE = re.compile(f"(?<=[0-9])[{_HYPHENS}{LONG_VOWEL}\uff70]+")
# Control characters (vertical tab and friends from spreadsheet exports) become spaces.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SEARCH_DROP_RE = re.compile(r"[\s\-・･·\.,、。'’\"“”()（）\[\]「」『』【】/／&＆!！?？]+")

_KATA_START, _KATA_END = 0x30A1, 0x30F6  # ァ..ヶ map 1:1 onto ぁ..ゖ
# A table indexed by code point (str.translate leaves a character past its end as it is): faster
# than a dict, which translate looks every character up in.
_KATA_TO_HIRA = [c - 0x60 if c >= _KATA_START else c for c in range(_KATA_END + 1)]


def clean(value: str | None) -> str:
    """NFKC, control characters to spaces, runs of whitespace collapsed, trimmed."""
    if not value:
        return ""
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()  # most fields (ids, phones, dates, points): NFKC and the rest change nothing
    text = _CONTROL_RE.sub(" ", unicodedata.normalize("NFKC", value))
    # str.split() splits on exactly the characters \s matches (both ask str.isspace), without
    # starting the regular expression engine: most of a load's text goes through here.
    return " ".join(text.split())


def normalize_name(value: str | None) -> str:
    """A shop name for display: NFKC with hyphen look-alikes unified and ー kept."""
    return _HYPHEN_RE.sub("-", clean(value))


def normalize_address(value: str | None) -> str:
    """An address for display and matching: NFKC, dashes after digits unified to ``-``."""
    text = _DIGIT_DASH_RE.sub("-", clean(value))
    return _HYPHEN_RE.sub("-", text)


def katakana_to_hiragana(value: str) -> str:
    return value.translate(_KATA_TO_HIRA)


def fold(value: str) -> str:
    """Lower case, katakana as hiragana, separators dropped: the SQL ``kosodate_fold`` of an
    already normalised text (an address)."""
    return _SEARCH_DROP_RE.sub("", katakana_to_hiragana(value.lower()))


def search_key(value: str | None) -> str:
    """The folded form used for keyword matching (names, readings and queries alike)."""
    return fold(normalize_name(value))
