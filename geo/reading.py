"""Readings (yomi) for shop names, so a kanji name is found by its kana and by romaji.

pykakasi gives a dictionary reading per segment; it is right for most shop names and its mistakes
(店 read as みせ) only add a second way to find a shop, never remove one.

Readings are the costliest step of a load, so pykakasi is driven here in a way that gives its exact
output, faster (a test compares the two on every shared shop name):

* its dictionary lookup scans every entry that starts with a kanji to find the longest match; the
  same longest match is found by looking up each candidate length in an index built once per kanji;
* a reading only needs the hiragana, not the three romaji spellings pykakasi makes for each segment;
* names are read word by word (space-separated), and words repeat across a registry (chain names,
  town names), so each word is read once per process (bounded cache). A space ends every segment
  pykakasi makes and its one context-dependent dictionary entry never applies after a space, so the
  reading of a name is the readings of its words joined by spaces.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from geo.text import LONG_VOWEL, katakana_to_hiragana, normalize_name

WORD_CACHE = 65_536  # distinct words kept; bounded so memory does not grow with the registry


class _LongestMatch:
    """pykakasi's kanji lookup (longest dictionary key at the start of the text) by length index."""

    def __init__(self, jconv: Any) -> None:
        self._jconv = jconv
        self._by_char: dict[str, list[tuple[int, dict[str, Any]]]] = {}

    def isRegion(self, c: str) -> bool:  # pykakasi's name for it
        return bool(self._jconv.isRegion(c))

    def _lengths(self, char: str) -> list[tuple[int, dict[str, Any]]]:
        found = self._by_char.get(char)
        if found is None:
            by_length: dict[int, dict[str, Any]] = {}
            for key, entries in (self._jconv._kanwa.load(char) or {}).items():
                by_length.setdefault(len(key), {})[key] = entries
            found = self._by_char[char] = sorted(by_length.items(), reverse=True)
        return found

    def convert(self, itext: str, btext: str) -> tuple[str, int]:
        text = self._jconv._itaiji.convert(itext)
        if self._jconv._kanwa.load(text[0]) is None:
            return "", 0
        found, max_len = "", 0
        for length, keys in self._lengths(text[0]):
            entries = keys.get(text[:length]) if length <= len(text) else None
            for yomi, condition in entries or ():
                if condition is None or btext in condition:
                    found, max_len = yomi, length
                    break
            if max_len:
                break
        # Variation selectors were dropped from ``text``: count them back into the matched length,
        # as pykakasi does.
        for _ in range(len(itext) - len(text)):
            if max_len > len(itext):
                break
            dropped_here = text[max_len - 1] != itext[max_len - 1]
            if dropped_here or (max_len < len(itext) and self._jconv._is_vschr(itext[max_len])):
                max_len += 1
        return found, max_len


class _HiraganaOnly:
    """pykakasi's per-segment output with only the fields a reading uses."""

    def __init__(self, iconv: Any) -> None:
        self._iconv = iconv

    def convert(self, otext: str, hira: str) -> dict[str, str]:
        return {"orig": otext, "hira": self._iconv._k2h(hira)}


@lru_cache(maxsize=1)
def _kakasi() -> Any:
    import pykakasi  # noqa: PLC0415 - loading the dictionary takes a moment; only when needed

    converter: Any = pykakasi.Kakasi()  # type: ignore[no-untyped-call]
    converter._jconv = _LongestMatch(converter._jconv)
    return converter


@lru_cache(maxsize=1)
def _hiragana_kakasi() -> Any:
    import pykakasi  # noqa: PLC0415

    converter: Any = pykakasi.Kakasi()  # type: ignore[no-untyped-call]
    converter._jconv = _kakasi()._jconv
    converter._iconv = _HiraganaOnly(converter._iconv)
    return converter


def _segments(name: str) -> list[dict[str, str]]:
    text = normalize_name(name)
    if not text:
        return []
    result: list[dict[str, str]] = _kakasi().convert(text)
    return result


@lru_cache(maxsize=WORD_CACHE)
def _word_reading(word: str) -> str:
    return "".join(seg["hira"] for seg in _hiragana_kakasi().convert(word)) if word else ""


def reading(name: str | None) -> str:
    """The hiragana reading of a name (latin letters and digits are kept as they are)."""
    text = normalize_name(name or "")
    return " ".join(_word_reading(word) for word in text.split(" ")) if text else ""


_SYLLABLES = (
    "a i u e o ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho "
    "ma mi mu me mo ya yu yo ra ri ru re ro wa i e o n "
    "ga gi gu ge go za ji zu ze zo da ji zu de do ba bi bu be bo pa pi pu pe po vu "
    "a i u e o ya yu yo wa"
)
_KANA = dict(
    zip(
        "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわゐゑをん"
        "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽゔぁぃぅぇぉゃゅょゎ",
        _SYLLABLES.split(),
        strict=True,
    )
)
_SMALL_Y = {"ゃ": "a", "ゅ": "u", "ょ": "o"}
_SMALL_VOWEL = {"ぁ": "a", "ぃ": "i", "ぅ": "u", "ぇ": "e", "ぉ": "o"}
_VOWELS = "aeiou"


def _kana_romaji(text: str) -> str | None:
    """Hepburn for text written only in kana (plus latin, digits and spaces); ``None`` otherwise.

    The same spelling pykakasi gives (ー repeats the vowel, っ doubles the consonant), without its
    dictionary pass: a kana-only reading is by far the common case and this is ~40x faster.
    """
    out: list[str] = []
    double_next = False
    for ch in katakana_to_hiragana(text.lower()):
        if ch in _SMALL_Y and out and out[-1].endswith("i") and len(out[-1]) > 1:
            base = out.pop()[:-1]
            out.append(base + _SMALL_Y[ch] if base in ("sh", "ch", "j") else base + "y" + _SMALL_Y[ch])
        elif ch in _SMALL_VOWEL and out and out[-1][-1] in _VOWELS:
            base = out.pop()
            stem = base[:-1] or "w"
            out.append(stem + _SMALL_VOWEL[ch])
        elif ch in _KANA:
            syllable = _KANA[ch]
            if double_next and syllable[0] not in _VOWELS:
                syllable = syllable[0] + syllable
            double_next = False
            out.append(syllable)
        elif ch == "っ":
            double_next = True
        elif ch == LONG_VOWEL:
            vowel = next((c for c in reversed("".join(out)) if c in _VOWELS), "")
            out.append(vowel)
        elif ch.isascii():
            out.append(ch)
        else:
            return None
    return "".join(out)


def romaji(name: str | None) -> str:
    """Hepburn romaji of the reading, lower case, as typed on a phone (no macrons)."""
    text = normalize_name(name or "")
    fast = _kana_romaji(text)
    if fast is not None:
        return fast
    return "".join(seg["hepburn"] for seg in _segments(text)).lower()
