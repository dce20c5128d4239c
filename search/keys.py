"""Search keys shared by the load path, the query builders and the search documents.

Names are matched in three folded forms, all built from ``geo.text.search_key`` and ``geo.reading``:
the name itself (NFKC, width and case folded, katakana as hiragana), its reading in hiragana, and a
*romaji key*: the Hepburn reading with long vowels and spelling variants folded, so ``sushiro``,
``sushiroo`` and ``sushirou`` (スシロー) meet, and so do ``shinbashi``/``shimbashi`` and ``tsu``/``tu``.
"""

from __future__ import annotations

import operator
import re
from itertools import pairwise

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
# Whether a text holds any of the spellings folded above (when none, folding them changes nothing).
_ANY_VARIANT = re.compile("|".join(kunrei for kunrei, _ in _VARIANTS))
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
    if _ANY_VARIANT.search(text):
        text = text.replace("shi", "\x00").replace("chi", "\x01").replace("tsu", "\x02")
        for kunrei, hepburn in _VARIANTS:
            text = text.replace(kunrei, hepburn)
        text = text.replace("\x00", "shi").replace("\x01", "chi").replace("\x02", "tsu")
    text = text.replace("nn", "n")
    text = _M_BEFORE_LABIAL.sub("n", text)
    text = _LONG_OU.sub("o", text)
    text = text.replace("ei", "e")
    return _REPEATED_VOWEL.sub(r"\1", text)


_SYMBOLS = re.compile(r"[^\w\s]+")


def name_romaji_key(name: str | None, kana: str | None) -> str:
    """The romaji key of a shop: from its reading when known, else from the name. Symbols in a
    reading (・, 〜, 「」) become spaces first: the key drops them anyway, and a kana-only reading
    then takes the fast spelling path instead of pykakasi's dictionary pass."""
    return romaji_key(romaji(_SYMBOLS.sub(" ", kana) if kana else name))


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


# Gram codes: the integers the search GIN indexes hold (migration s3_3_gram_codes). A character is
# its code point shifted left by CODE_BITS; a pair of neighbouring characters adds the second code
# point in the low bits. Names' codes also carry the band of the name's length (``NAME_BANDS``)
# above both, so a names-first probe asks one band of lengths (search.queries.names_first_search).
# Integers compare far faster than collated text in GIN; the codes are exact (no hashing).
CODE_BITS = 21  # a Unicode code point fits in 21 bits
NAME_LENGTH_CAP = 31
_TAG_SHIFT = 2 * CODE_BITS
# Bands of name length (name_key characters, NAME_LENGTH_CAP standing for longer), numbered from 1
# in the tag; an empty key is in the first. Migration s6_3_name_code_bands holds the same bands in
# SQL (kosodate_name_band). The tag was the exact length (31 values): a character or pair then had
# up to 31 keys, each with a short list of rows, and a first load's database CPU went a tenth into
# the extra keys (bench/results/ingest_bench.md, 2026-11-23).
NAME_BANDS = ((1, 3), (4, 5), (6, 7), (8, 9), (10, 11), (12, 14), (15, 19), (20, 31))
_BAND_OF = {n: i for i, (low, high) in enumerate(NAME_BANDS, 1) for n in range(low, high + 1)} | {0: 1}


def word_codes(word: str) -> list[int]:
    """The codes a query word needs: its character (one-character word), else its pairs."""
    points = [ord(c) for c in word]
    if len(points) == 1:
        return [points[0] << CODE_BITS]
    return sorted({(a << CODE_BITS) | b for a, b in pairwise(points)})


def _codes_into(out: list[int], text: str, tag: int, *, characters: bool = True) -> None:
    """Append the text's pairs, and (``characters``) its single characters, as codes tagged ``tag``."""
    points = list(map(ord, text))
    heads = [(p << CODE_BITS) | tag for p in points]
    if characters:
        out += heads
    out += map(operator.or_, heads, points[1:])


def text_codes(text: str) -> list[int]:
    """Every character and neighbouring pair of a folded text (an address), as codes. A code may
    repeat: the GIN index keeps each once per row, and leaving the repeats is cheaper than a set."""
    out: list[int] = []
    _codes_into(out, text, 0)
    return out


def copy_text(codes: list[int]) -> str:
    """Codes as an array in COPY's text form (psycopg's list dumper checks every element's type:
    measured the largest Python cost of a load), each code once. A name's codes repeat a lot (the
    romaji key's pairs above all: ~117 codes a row, ~84 distinct, on the bench's names); dropping
    the repeats costs ~6 us a row here and saves PostgreSQL parsing, storing and indexing them
    (bench/results/ingest_bench.md, 2026-11-23). In ascending order: PostgreSQL sorts a row's entries
    before adding them to a GIN index, and a sorted array passes its sort's presorted check at once
    (3-7% less CPU inserting into a GIN index of such arrays; ~1 us a row here). Array input allows
    the spaces of a list's ``str``."""
    return "{" + str(sorted(set(codes)))[1:-1] + "}"


def name_length_tag(name_key: str) -> int:
    """The tag of a name key's codes: the number of its length's band in ``NAME_BANDS``."""
    return _BAND_OF[min(len(name_key), NAME_LENGTH_CAP)]


def length_tags(low: int, high: int) -> list[int]:
    """The tags names of ``low`` to ``high`` characters carry (a query's band need not be one of
    ``NAME_BANDS``: the names' length is checked on its own)."""
    return sorted({_BAND_OF[min(n, NAME_LENGTH_CAP)] for n in range(low, high + 1)})


ALL_LENGTH_TAGS = length_tags(0, NAME_LENGTH_CAP)


def tagged(code: int, tag: int) -> int:
    """A code as held for names whose length has ``tag`` (``name_length_tag``, ``length_tags``)."""
    return code | (tag << _TAG_SHIFT)


def name_codes(name_key: str, *keys: str | None) -> list[int]:
    """The codes of a name key (characters and pairs) and the pairs of the other keys given (each on
    its own: no pair spans two keys), all tagged with the band of ``name_key``'s length; a code may
    repeat (see ``text_codes``). A shop's codes are those of its name and the pairs of its reading:
    since migration ``s7_3_name_codes_no_romaji`` nothing of its romaji key, and since
    ``s9_3_name_codes_reading_pairs`` not the reading's single characters, which served only a
    one-character word inside a reading (it still meets a reading at its start)."""
    out: list[int] = []
    tag = name_length_tag(name_key) << _TAG_SHIFT
    _codes_into(out, name_key, tag)
    for key in keys:
        if key:
            _codes_into(out, key, tag, characters=False)
    return out
