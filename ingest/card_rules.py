"""Which cards a shop honours and for whom: 特典 vs 応援, multi-child perks, the nationwide scheme.

Aichi's rules (愛知県子育て家庭優待事業実施要綱, 第2条): a 特典 is given when the card is shown; an 応援
(a nursing room, childcare…) is for every family, card or not. Registries mark them 【特典】 / 【応援】.
The multi-child card (多子世帯向けはぐみんカード) is for households with three or more children under 18.
Ishikawa publishes a 2-children and a 3-children perk per shop: when only the 3-children one is filled,
the shop's perk is for multi-child households only. A profile maps those two columns to the flags
``perk_all_families`` and ``perk_multi_child``, and a column saying the shop takes part in the
nationwide common scheme (全国共通展開) to ``nationwide``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ingest.models import Tag
from ingest.programmes import Programme

AUDIENCE_FLAGS = ("perk_all_families", "perk_multi_child")
NATIONWIDE_FLAG = "nationwide"
TRUE_VALUES = frozenset({"true", "1", "yes", "y", "○", "〇", "◯", "有", "あり", "可", "t"})

MARKER = re.compile(r"[【\[［<＜《〈(（]\s*(特典|応援)\s*[0-9０-９]*\s*[】\]］>＞》〉)）]")
NO_CARD = re.compile(
    r"(?:カード|パスポート)?(?:の)?提示(?:は)?(?:不要|なしで|無しで|がなくても|が無くても)"
    r"|(?:カード|パスポート)(?:が|を)?(?:なくても|無くても|お持ちでなくても)|どなたでも|どなた様でも|全ての(?:お)?客様"
)
CARD_SHOWN = re.compile(
    r"(?:カード|パスポート|プレパス|プレミアム・パスポート)[^。\n]{0,6}?(?:提示|持参|お持ち)|ご?提示"
)
MULTI_CHILD = re.compile(
    r"多子世帯|多子家庭|[3３三]人以上の(?:お)?子|(?:子ども|子供|こども|お子様|お子さん)が?[3３三]人以上"
    r"|第[3３三]子|[3３三]人目|[3３三]子以上"
)
NATIONWIDE_TEXT = re.compile(r"全国共通展開|全国共通")


@dataclass(frozen=True, slots=True)
class Segment:
    marker: str  # "【特典】", "【応援】" or "" (unmarked)
    kind: str | None  # "特典", "応援" or None
    text: str


@lru_cache(maxsize=16)  # a row's text is cut twice: for its tags (ingest.tag.derive), then its cards
def segments(text: str) -> tuple[Segment, ...]:
    """The perk text cut at its 【特典】 / 【応援】 markers (unmarked text is one segment)."""
    out: list[Segment] = []
    last, marker, kind = 0, "", None
    for m in MARKER.finditer(text):
        if text[last : m.start()].strip():
            out.append(Segment(marker, kind, text[last : m.start()].strip()))
        last, marker, kind = m.end(), f"【{m.group(1)}】", m.group(1)
    if text[last:].strip():
        out.append(Segment(marker, kind, text[last:].strip()))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class CardDecision:
    cards: tuple[str, ...]
    card_required: bool | None
    multi_child: bool
    nationwide: bool
    tags: tuple[Tag, ...]


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_VALUES


def _card_required(parts: Sequence[Segment], text: str) -> tuple[bool | None, Tag | None]:
    support = next((p for p in parts if p.kind == "応援"), None)
    if support is not None:
        return False, Tag(
            "card_rule", "no_card_needed", f"【応援】 {support.text[:40]}: for every family, card or not"
        )
    m = NO_CARD.search(text)
    if m:
        return False, Tag("card_rule", "no_card_needed", f"perk text: {m.group()}")
    if not text.strip():
        return None, None
    if any(p.kind == "特典" for p in parts):
        return True, Tag("card_rule", "card_required", "【特典】: given when the card is shown")
    m = CARD_SHOWN.search(text)
    why = f"perk text: {m.group()}" if m else "a sponsor's perk: given to card holders"
    return True, Tag("card_rule", "card_required", why)


def _multi_child(parts: Sequence[Segment], flags: Mapping[str, str]) -> Tag | None:
    if all(f in flags for f in AUDIENCE_FLAGS):
        everyone, multi = flags["perk_all_families"].strip(), flags["perk_multi_child"].strip()
        if multi and not everyone:
            return Tag("card_rule", "multi_child_only", "only the multi-child (3+ children) perk is given")
        return None
    perks = [p for p in parts if p.kind != "応援"]
    found = [MULTI_CHILD.search(p.text) for p in perks]
    if perks and all(found):
        words = ", ".join(dict.fromkeys(m.group() for m in found if m))
        return Tag("card_rule", "multi_child_only", f"perk text: {words}")
    return None


def _nationwide(programme: Programme, text: str, flags: Mapping[str, str]) -> Tag | None:
    if NATIONWIDE_FLAG in flags:
        return (
            Tag("card_rule", "nationwide", "source column: 全国共通展開")
            if _true(flags[NATIONWIDE_FLAG])
            else None
        )
    if programme.raw.get("nationwide") is True:
        return Tag(
            "card_rule", "nationwide", f"programme {programme.code}: every shop takes part in 全国共通展開"
        )
    m = NATIONWIDE_TEXT.search(text)
    return Tag("card_rule", "nationwide", f"perk text: {m.group()}") if m else None


def decide_cards(
    programme: Programme, text: str, flags: Mapping[str, str], tags: Sequence[Tag]
) -> CardDecision:
    """The card columns for one shop, with a ``card_rule`` tag giving the reason for each."""
    parts: Sequence[Segment] = segments(text)
    if not text.strip() and any(t.kind in ("category", "amenity") for t in tags):
        parts = ()
    cards = tuple(dict.fromkeys(c for c in [programme.card, *programme.raw.get("accepted_cards", [])] if c))
    out: list[Tag] = []
    if cards:
        accepted = [c for c in cards if c != programme.card]
        why = f"programme {programme.code}: its own card {programme.card}"
        out.append(Tag("card_rule", "cards", why + (f"; accepts {', '.join(accepted)}" if accepted else "")))
    required, why_required = _card_required(parts, text)
    multi = _multi_child(parts, flags)
    nationwide = _nationwide(programme, text, flags)
    out += [t for t in (why_required, multi, nationwide) if t is not None]
    return CardDecision(cards, required, multi is not None, nationwide is not None, tuple(out))
