"""Readings (yomi) for shop names, so a kanji name is found by its kana and by romaji.

pykakasi gives a dictionary reading per segment; it is right for most shop names and its mistakes
(店 read as みせ) only add a second way to find a shop, never remove one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from geo.text import LONG_VOWEL, katakana_to_hiragana, normalize_name


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
