"""The offline gazetteer: municipalities (with codes) and town (町丁目/大字/小字) points, in memory.

``Gazetteer.locate(address)`` reads an address the way a person would: prefecture (if written), the
longest municipality name that starts the rest (designated-city wards, 郡, names like 四日市市), then the
longest town name, tolerating kanji numerals, ヶ/ケ, old kanji, 大字/字 and a missing 丁目. It never
claims more than it found: a town match is ``town`` precision, a municipality alone is ``municipality``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from geo.address import fold, split_number, tail_key, town_key
from geo.prefectures import PREFECTURES, split_prefecture
from geo.text import normalize_address

_GUN_RE = re.compile(r"^[^\s市区町村0-9]{1,6}?郡")
# "もりの里3-28" written without 丁目: the first number may be the 丁目.
_MISSING_CHOME_RE = re.compile(r"^([^0-9]+?)([0-9]+)(?![0-9丁])")
_BLOCK_RE = re.compile(r"^([0-9]+)")
_MAX_TOWN_KEY = 24


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str  # 5 digits
    prefecture_code: int
    name: str  # "横浜市中区" (no space)
    lat: float | None = None
    lng: float | None = None
    parent: str | None = None  # the designated city's code, for its wards


@dataclass(frozen=True, slots=True)
class Town:
    code: str  # municipality (ward) code
    name: str  # as the gazetteer writes it, e.g. "赤門町二丁目"
    lat: float
    lng: float
    koaza: str = ""
    level: str = "town"  # "town" or "block" (街区)


@dataclass(frozen=True, slots=True)
class Located:
    """What the gazetteer made of an address."""

    prefecture_code: int | None
    municipality_code: str | None
    municipality: str | None
    town: str | None
    lat: float | None
    lng: float | None
    precision: str | None  # block / town / municipality / prefecture, or None when nothing matched
    rest: str | None = None
    building: str | None = None
    ambiguous: tuple[str, ...] = ()


@dataclass
class Gazetteer:
    municipalities: dict[str, Municipality] = field(default_factory=dict)
    _by_name: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _wards: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _towns: dict[str, dict[str, Town]] = field(default_factory=lambda: defaultdict(dict))
    _blocks: dict[str, dict[str, Town]] = field(default_factory=lambda: defaultdict(dict))
    _name_lengths: list[int] = field(default_factory=list)

    # --- building --------------------------------------------------------------------------------

    def add_municipalities(self, items: Iterable[Municipality]) -> None:
        added = list(items)
        for m in added:
            self.municipalities[m.code] = m
            key = fold(m.name)
            if m.code not in self._by_name[key]:
                self._by_name[key].append(m.code)
        for m in added:
            parent = self.municipalities.get(m.parent) if m.parent else None
            if parent is None:
                continue
            if m.code not in self._wards[parent.code]:
                self._wards[parent.code].append(m.code)
            # A ward is also written without its city ("緑区鳴海町"): index the ward name alone.
            ward = fold(m.name)[len(fold(parent.name)) :]
            if ward and m.code not in self._by_name[ward]:
                self._by_name[ward].append(m.code)
        self._name_lengths = sorted({len(k) for k in self._by_name}, reverse=True)

    def add_towns(self, towns: Iterable[Town]) -> int:
        """Index town points; a town known only through its 小字 gets their mean point."""
        count = 0
        koaza_points: dict[tuple[str, str], list[Town]] = defaultdict(list)
        for t in towns:
            count += 1
            base = town_key(t.name)
            if t.level == "block":
                self._blocks[t.code][f"{base}|{t.koaza}"] = t
                continue
            if t.koaza:
                self._towns[t.code][base + town_key(t.koaza)] = t
                koaza_points[(t.code, base)].append(t)
            else:
                self._towns[t.code][base] = t
        for (code, base), parts in koaza_points.items():
            if base not in self._towns[code]:
                lat = sum(p.lat for p in parts) / len(parts)
                lng = sum(p.lng for p in parts) / len(parts)
                self._towns[code][base] = Town(code, parts[0].name, lat, lng)
        return count

    @property
    def town_count(self) -> int:
        return sum(len(v) for v in self._towns.values())

    @property
    def block_count(self) -> int:
        return sum(len(v) for v in self._blocks.values())

    def code_for_name(self, prefecture: str, city: str) -> str | None:
        """The code of a municipality named in a file (``"横浜市 中区"``, ``"横浜市中区"``)."""
        pref = next((c for c, n in PREFECTURES.items() if n == prefecture), None)
        for name in (fold(city), _GUN_RE.sub("", fold(city), count=1)):  # "足柄下郡箱根町" -> "箱根町"
            codes = [c for c in self._by_name.get(name, []) if pref is None or c.startswith(f"{pref:02d}")]
            if len(codes) == 1:
                return codes[0]
        return None

    # --- reading an address ----------------------------------------------------------------------

    def _municipality_candidates(self, tail: str, pref: int | None) -> tuple[list[str], str]:
        folded = fold(tail)
        for attempt in (folded, _GUN_RE.sub("", folded, count=1)):
            for length in self._name_lengths:
                if length > len(attempt):
                    continue
                codes = self._by_name.get(attempt[:length])
                if not codes:
                    continue
                if pref is not None:
                    codes = [c for c in codes if int(c[:2]) == pref]
                if codes:
                    return codes, attempt[length:]
        return [], folded

    def _match_town(self, codes: list[str], key: str) -> tuple[Town, str] | None:
        """The longest town name that starts ``key`` in any of ``codes``; returns the town and the rest."""
        variants = [key]
        missing = _MISSING_CHOME_RE.match(key)
        if missing:
            variants.insert(0, f"{missing.group(1)}{missing.group(2)}丁目{key[missing.end() :]}")
        best: tuple[int, Town, str] | None = None
        tied = False
        for variant in variants:
            for code in codes:
                towns = self._towns.get(code)
                if not towns:
                    continue
                for length in range(min(len(variant), _MAX_TOWN_KEY), 0, -1):
                    town = towns.get(variant[:length])
                    if town is not None:
                        # A match that ends inside a number ("1丁目" vs "12丁目") is not a match.
                        nxt = variant[length : length + 1]
                        if nxt.isdigit() and variant[length - 1].isdigit():
                            continue
                        if best is None or length > best[0]:
                            best, tied = (length, town, variant[length:]), False
                        elif length == best[0] and town.code != best[1].code and variant is key:
                            tied = True  # the same town name in two candidate municipalities
                        break
        return (best[1], best[2]) if best and not tied else None

    def _expand(self, codes: list[str]) -> list[str]:
        """A designated city written without its ward: look in all its wards."""
        out: list[str] = []
        for code in codes:
            out.extend(self._wards.get(code, []) or [code])
        return out

    def locate(self, address: str, prefecture_hint: Iterable[int] = ()) -> Located:
        normalized = normalize_address(address)
        pref, tail = split_prefecture(normalized)
        codes, rest_key = self._municipality_candidates(tail, pref)
        hints = tuple(prefecture_hint)
        if len(codes) > 1 and pref is None and hints:
            narrowed = [c for c in codes if int(c[:2]) in hints]
            codes = narrowed or codes
        if not codes:
            if pref is not None:
                return Located(pref, None, None, None, None, None, "prefecture", rest=tail or None)
            return Located(None, None, None, None, None, None, None, rest=tail or None)
        key = tail_key(rest_key)
        found = self._match_town(self._expand(codes), key)
        if found is not None:
            town, after = found
            municipality = self.municipalities.get(town.code)
            number, building = split_number(after)
            block = self._match_block(town, number)
            point, precision = (block, "block") if block else (town, "town")
            return Located(
                int(town.code[:2]),
                town.code,
                municipality.name if municipality else None,
                town.name + (town.koaza if town.koaza and not block else ""),
                point.lat,
                point.lng,
                precision,
                rest=number,
                building=building,
            )
        if len(codes) > 1:
            return Located(
                pref, None, None, None, None, None, "prefecture" if pref else None, ambiguous=tuple(codes)
            )
        m = self.municipalities[codes[0]]
        number, building = split_number(key)
        return Located(
            m.prefecture_code, m.code, m.name, None, m.lat, m.lng,
            "municipality" if m.lat is not None else None, rest=key or None, building=building,
        )  # fmt: skip

    def _match_block(self, town: Town, number: str | None) -> Town | None:
        if not number or not self._blocks:
            return None
        first = _BLOCK_RE.match(number.split("丁目")[-1] if "丁目" in number else number)
        if not first:
            return None
        blocks = self._blocks.get(town.code)
        if not blocks:
            return None
        return blocks.get(f"{town_key(town.name)}|{first.group(1)}")
