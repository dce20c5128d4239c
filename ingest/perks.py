"""Reading free perk text: categories and amenities (each with the words that gave it), negation aware.

Two passes find the taxonomy's words: one on the NFKC, lower-cased text and one on Sudachi's normalised
forms, so spelling variants match (オムツ替え/おむつ替え, 子ども/こども/子供, イス/椅子). The tokens also
decide negation: a word followed, through only particles, auxiliaries and verbs of having or offering, by
a negative (なし, 無い, ません, 不可) is not given ("授乳室はありません"). A limitation in the same sentence
(平日のみ, 要予約) is kept in the reason.

Without SudachiPy (``analyzer="lexicon"``) the surface pass runs alone and negation falls back to a
short regular expression after the word; ``bench/tagging_quality.py`` measures both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ingest.models import Tag
from search.taxonomy import Amenity, Taxonomy

if TYPE_CHECKING:
    from sudachipy import Tokenizer


class Token(NamedTuple):
    surface: str
    begin: int
    end: int
    pos: str
    norm: str


class Analyzer(Protocol):
    name: str

    def tokens(self, text: str) -> list[Token]: ...


class SudachiAnalyzer:
    """SudachiPy with the core dictionary, split mode C (longest units)."""

    name = "sudachi"

    def __init__(self) -> None:
        from sudachipy import Dictionary, SplitMode  # noqa: PLC0415 - optional, heavy import

        self._dict = Dictionary(dict="core")
        self._tok: Tokenizer = self._dict.tokenizer(SplitMode.C, fields={"pos", "normalized_form"})
        self._pos: dict[int, str] = {}

    def _pos_name(self, pos_id: int) -> str:
        name = self._pos.get(pos_id)
        if name is None:
            name = self._pos[pos_id] = str(self._dict.pos_of(pos_id)[0])
        return name

    def tokens(self, text: str) -> list[Token]:
        pos = self._pos_name
        make = Token._make
        return [
            make((m.surface(), m.begin(), m.end(), pos(m.part_of_speech_id()), m.normalized_form()))
            for m in self._tok.tokenize(text)
        ]


class LexiconOnly:
    """No morphology: the fallback when SudachiPy is not installed."""

    name = "lexicon"

    def tokens(self, text: str) -> list[Token]:  # noqa: ARG002 - same interface
        return []


def make_analyzer(kind: str = "auto") -> Analyzer:
    if kind == "lexicon":
        return LexiconOnly()
    try:
        return SudachiAnalyzer()
    except ImportError:
        if kind == "sudachi":
            raise
        return LexiconOnly()


# A negative closes the predicate of the word before it.
NEG_NORMS = frozenset({"無い", "ず", "無し", "なし", "不可", "不要", "無"})
NEG_SURFACES = frozenset({"なし", "無し", "ナシ", "ない", "無い", "不可", "×"})
# What may stand between the word and its negative: particles, auxiliaries, having/offering verbs.
BRIDGE_POS = frozenset({"助詞", "助動詞", "接尾辞", "補助記号"})
BRIDGE_NORMS = frozenset({
    "有る", "御座る", "為る", "設置", "用意", "完備", "提供", "出来る", "居る", "行う", "致す", "置く",
    "おる", "ます", "です", "現在", "特に", "の", "御",
})  # fmt: skip
STOP_MARKS = frozenset("。!?\n、,/・◎●☆★※")
NEG_REGEX = re.compile(
    r"^[はがもの]?(?:ご?用意|設置|提供)?(?:は|が|も)?(?:なし|無し|ない|無い|ありません|ございません|不可|しておりません|していません)"
)
LIMIT_REGEX = re.compile(r"[^。!\n]{0,12}?(?:のみ|限定|要予約|予約制|時まで|以降)")
SENTENCE = re.compile(r"[^。!?\n]*")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True, slots=True)
class Hit:
    begin: int
    end: int
    words: str


class PerkReader:
    """Reads perk text against a taxonomy. Results are cached by text (chains repeat their perks)."""

    def __init__(self, taxonomy: Taxonomy, analyzer: Analyzer | None = None, cache_size: int = 20000) -> None:
        self.taxonomy = taxonomy
        self.analyzer = analyzer or make_analyzer()
        self._words: list[tuple[Amenity, re.Pattern[str], re.Pattern[str] | None]] = []
        for amenity in taxonomy.amenities.values():
            words = sorted({normalise(w) for w in amenity.words}, key=len, reverse=True)
            surface = re.compile("|".join(re.escape(w) for w in words))
            norms = sorted({self._norm_string(w) for w in words} - {""}, key=len, reverse=True)
            normed = re.compile("|".join(re.escape(w) for w in norms)) if norms else None
            self._words.append((amenity, surface, normed))
        self._rules = {cat: [re.compile(p) for p in pats] for cat, pats in taxonomy.rules.items()}
        self.read = lru_cache(maxsize=cache_size)(self._read)

    def _norm_string(self, text: str) -> str:
        return "".join(t.norm for t in self.analyzer.tokens(text))

    def _read(self, text: str) -> tuple[Tag, ...]:
        t = normalise(text)
        if not t.strip():
            return ()
        tokens = self.analyzer.tokens(t)
        norm = "".join(tok.norm for tok in tokens)
        starts: list[int] = []
        pos = 0
        for tok in tokens:
            starts.append(pos)
            pos += len(tok.norm)
        out: list[Tag] = []
        for amenity, surface, normed in self._words:
            hits = [Hit(m.start(), m.end(), m.group()) for m in surface.finditer(t)]
            if normed is not None and tokens:
                for m in normed.finditer(norm):
                    first = _token_at(starts, m.start())
                    last = _token_at(starts, m.end() - 1)
                    hits.append(Hit(tokens[first].begin, tokens[last].end, m.group()))
            tag = self._judge(amenity, hits, t, tokens)
            if tag is not None:
                out.append(tag)
        for category, patterns in self._rules.items():
            tag = self._rule(category, patterns, t, tokens)
            if tag is not None:
                out.append(tag)
        return tuple(out)

    def _judge(self, amenity: Amenity, hits: Sequence[Hit], t: str, tokens: Sequence[Token]) -> Tag | None:
        negated: Hit | None = None
        for hit in hits:
            before, after = t[max(0, hit.begin - 12) : hit.begin], t[hit.end : hit.end + 12]
            if any(before.endswith(normalise(w)) for w in amenity.not_before):
                continue
            if any(after.startswith(normalise(w)) for w in amenity.not_after):
                continue
            if _negated(hit, t, tokens):
                negated = negated or hit
                continue
            return Tag("amenity", amenity.key, f"perk text: {hit.words}{_limitation(hit, t)}")
        if negated is not None:
            return Tag("negated", amenity.key, f"perk text says not: {_sentence(negated, t)}")
        return None

    def _rule(
        self, category: str, patterns: Sequence[re.Pattern[str]], t: str, tokens: Sequence[Token]
    ) -> Tag | None:
        for pattern in patterns:
            for m in pattern.finditer(t):
                hit = Hit(m.start(), m.end(), m.group())
                if not _negated(hit, t, tokens):
                    return Tag("category", category, f"perk text: {hit.words.strip()}")
        return None


def _token_at(starts: Sequence[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _negated(hit: Hit, t: str, tokens: Sequence[Token]) -> bool:
    if not tokens:
        return bool(NEG_REGEX.match(t[hit.end : hit.end + 16]))
    for tok in tokens:
        if tok.begin < hit.end:
            continue
        if tok.norm in NEG_NORMS or tok.surface in NEG_SURFACES:
            return True
        if tok.surface in STOP_MARKS or tok.surface.strip() == "":
            return False
        if tok.pos not in BRIDGE_POS and tok.norm not in BRIDGE_NORMS:
            return False
    return False


def _sentence(hit: Hit, t: str) -> str:
    start = max(t.rfind(c, 0, hit.begin) for c in "。!?\n") + 1
    m = SENTENCE.match(t, start)
    return (m.group() if m else t[hit.begin : hit.end]).strip()[:80]


def _limitation(hit: Hit, t: str) -> str:
    m = LIMIT_REGEX.match(t, hit.end)
    return f" (limited: {m.group().strip()})" if m else ""
