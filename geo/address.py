"""Japanese address parsing: prefecture / municipality / town (町字) / rest (番地・号) / building.

This first version splits the prefecture by name and the municipality by the usual suffixes; the
gazetteer-backed parser replaces ``split_address`` without changing its signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo.prefectures import PREFECTURES, split_prefecture
from geo.text import normalize_address

# 市 / 区 (Tokyo wards and designated-city wards) / 町 / 村, with 郡 in front of towns and villages.
_MUNICIPALITY_RE = re.compile(
    r"^(?:(?P<gun>[^\s市区町村]{1,6}郡))?(?P<city>[^\s市区郡]{1,6}?市(?:[^\s市区]{1,4}区)?|[^\s市区郡]{1,4}区|"
    r"[^\s市区郡町村]{1,5}[町村])"
)
_REST_RE = re.compile(r"[0-9０-９一二三四五六七八九十百千]+(?:丁目|番地|番|号|-|の)")


@dataclass(frozen=True, slots=True)
class AddressParts:
    """An address split into parts; ``normalized`` is the whole address after normalisation."""

    normalized: str
    prefecture_code: int | None = None
    prefecture: str | None = None
    municipality: str | None = None
    town: str | None = None
    rest: str | None = None


def split_address(text: str | None) -> AddressParts:
    normalized = normalize_address(text)
    code, tail = split_prefecture(normalized)
    match = _MUNICIPALITY_RE.match(tail)
    municipality = None
    if match:
        municipality = (match.group("gun") or "") + match.group("city")
        tail = tail[match.end() :]
    town, rest = tail, None
    number = _REST_RE.search(tail)
    if number:
        town, rest = tail[: number.start()], tail[number.start() :]
    return AddressParts(
        normalized=normalized,
        prefecture_code=code,
        prefecture=PREFECTURES.get(code) if code else None,
        municipality=municipality,
        town=town or None,
        rest=rest or None,
    )
