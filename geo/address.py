"""Japanese address parsing: prefecture / municipality / town (町字) / rest (番地・号) / building.

Two levels live here:

* ``split_address`` needs no data: it reads the prefecture by name and the municipality by its
  suffixes, knowing the names that contain 市/町/村/区/郡 in the middle (四日市市, 市川市, 郡山市 ...).
* ``match_key`` and friends fold an address for *matching* against the gazetteer (see
  ``geo.gazetteer``): kanji numerals before 丁目/番/号 become digits, ヶ/ケ/ガ and old kanji forms fold,
  大字/字 go away. The original text is always kept for display; keys are only compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo.prefectures import PREFECTURES, split_prefecture
from geo.text import normalize_address

# Names whose 市/町/村/区/郡 is not the end of the name; the suffix rule alone would cut them short.
TRICKY_MUNICIPALITIES = (
    "四日市市", "廿日市市", "市川市", "市原市", "市川三郷町", "市貝町", "市川町", "町田市", "村山市",
    "東村山市", "武蔵村山市", "村上市", "村田町", "郡山市", "大和郡山市", "郡上市", "野々市市", "十日町市",
    "大町市", "大町町", "町野町", "上市町", "下市町", "五日市町", "八日市場市", "羽村市", "田村市",
    "中村市", "北村山郡", "西村山郡", "東村山郡", "玉村町", "大村市", "木村町", "小郡市", "三郷市",
)  # fmt: skip

_MUNICIPALITY_RE = re.compile(
    r"^(?:(?P<gun>[^\s市区町村]{1,6}郡))?(?P<city>[^\s市区郡]{1,6}?市(?:[^\s市区]{1,4}区)?|[^\s市区郡]{1,4}区|"
    r"[^\s市区郡町村]{1,5}[町村])"
)
_WARD_RE = re.compile(r"^[^\s市区]{1,4}区")
_GUN_RE = re.compile(r"^[^\s市区町村0-9]{1,6}?郡")
_REST_RE = re.compile(
    r"[0-9]+(?:丁目|番地|番|号|-|の|$|\s|[FＦ階])|[一二三四五六七八九十百]+(?:丁目|番地|番|号)"
)
# The house-number part: digits joined by 丁目/番地/番/号/-/の; what follows is the building.
_NUMBER_RUN_RE = re.compile(r"^(?:[0-9]+(?:丁目|番地の?|番|号|-|の|地割)?)+")

# --- folding for matching -------------------------------------------------------------------------

_KANJI_DIGIT = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_NUMBER_RE = re.compile(r"([〇零一二三四五六七八九十百]+)(?=丁目|丁|番町|番丁|番地|番|号|条|線|地割)")
# ヶ/ケ/ガ/が/ヵ/カ written between two kanji are one sound in place names (自由が丘, 霞ケ関, 茅ヶ崎).
_GA_RE = re.compile(r"(?<=[\u4e00-\u9fff])[ヶケガがヵカ](?=[\u4e00-\u9fff])")
# ノ/の/之 between kanji (三ノ輪, 三の輪) likewise.
_NO_RE = re.compile(r"(?<=[\u4e00-\u9fff])[ノの之](?=[\u4e00-\u9fff])")
_OAZA_RE = re.compile(r"大字|(?:^|(?<=[町村]))字(?=[^\s0-9])")
# Old (旧字体) and variant forms that appear in addresses, folded to the form the gazetteer uses.
_OLD_KANJI = str.maketrans(
    "舊澤邊邉齋齊龍濱廣櫻德檮﨑髙藏惠國關兒嶋淺榮壽條來實將燒驛當圓鐵眞縣與峯塚冨淵嵜渕槇籠鷗麴",
    "旧沢辺辺斎斉竜浜広桜徳梼崎高蔵恵国関児島浅栄寿条来実将焼駅当円鉄真県与峰塚富渕崎渕槙篭鴎麹",
)


def kanji_number(text: str) -> int | None:
    """``"二十三"`` -> 23, ``"二〇"`` -> 20 (positional), ``"百五"`` -> 105; ``None`` if not a number."""
    if not text or any(c not in _KANJI_DIGIT and c not in "十百" for c in text):
        return None
    if "十" not in text and "百" not in text:
        return int("".join(str(_KANJI_DIGIT[c]) for c in text))
    total, current = 0, 0
    for char in text:
        if char in _KANJI_DIGIT:
            current = _KANJI_DIGIT[char]
        else:
            unit = 10 if char == "十" else 100
            total += (current or 1) * unit
            current = 0
    return total + current


def _arabic(match: re.Match[str]) -> str:
    value = kanji_number(match.group(1))
    return str(value) if value is not None else match.group(1)


def fold(text: str) -> str:
    """Variant folding shared by addresses and gazetteer names (not for display)."""
    text = text.replace(" ", "").replace("　", "")
    text = text.translate(_OLD_KANJI)
    text = _GA_RE.sub("ケ", text)
    text = _NO_RE.sub("ノ", text)
    return _KANJI_NUMBER_RE.sub(_arabic, text)


def town_key(name: str) -> str:
    """A gazetteer town or 小字 name as a matching key: folded, without 大字/字."""
    return _OAZA_RE.sub("", fold(name))


def tail_key(text: str) -> str:
    """The part of an address after the municipality, as a matching key (same rules as ``town_key``)."""
    return _OAZA_RE.sub("", fold(text))


def split_number(rest: str) -> tuple[str | None, str | None]:
    """``"3-28-2F"`` -> (``"3-28"``, ``"2F"``); ``"1-1 湘南ビル2F"`` -> (``"1-1"``, ``"湘南ビル2F"``)."""
    rest = rest.strip()
    match = _NUMBER_RUN_RE.match(rest)
    if not match or not match.group(0):
        return None, rest or None
    number = match.group(0).rstrip("-の")
    tail = rest[match.end() :].strip(" -")
    # "3-28-2F": the last run was a floor, not a house number.
    floor = re.search(r"-([0-9]+)$", number)
    if floor and tail[:1] in ("F", "f", "階"):
        number = number[: floor.start()]
        tail = floor.group(1) + tail
    return number or None, tail or None


@dataclass(frozen=True, slots=True)
class AddressParts:
    """An address split into parts; ``normalized`` is the whole address after normalisation."""

    normalized: str
    prefecture_code: int | None = None
    prefecture: str | None = None
    municipality: str | None = None
    town: str | None = None
    rest: str | None = None
    building: str | None = None


def _municipality_prefix(tail: str) -> tuple[str | None, str]:
    tricky = tail.startswith(TRICKY_MUNICIPALITIES)  # one C call: few addresses start with one
    for name in TRICKY_MUNICIPALITIES if tricky else ():
        if tail.startswith(name):
            rest = tail[len(name) :]
            ward = _WARD_RE.match(rest) if name.endswith("市") else None
            if ward:
                return name + ward.group(0), rest[ward.end() :]
            return name, rest
    gun = _GUN_RE.match(tail)
    if gun and not tricky:
        inner, rest = _municipality_prefix(tail[gun.end() :])
        if inner:
            return gun.group(0) + inner, rest
    match = _MUNICIPALITY_RE.match(tail)
    if match:
        return (match.group("gun") or "") + match.group("city"), tail[match.end() :]
    return None, tail


def split_address(text: str | None) -> AddressParts:
    normalized = normalize_address(text)
    code, tail = split_prefecture(normalized)
    municipality, tail = _municipality_prefix(tail)
    town, rest = tail, None
    number = _REST_RE.search(tail)
    if number:
        town, rest = tail[: number.start()], tail[number.start() :]
    building = None
    if rest:
        rest, building = split_number(_KANJI_NUMBER_RE.sub(_arabic, rest))
    return AddressParts(
        normalized=normalized,
        prefecture_code=code,
        prefecture=PREFECTURES.get(code) if code else None,
        municipality=municipality,
        town=town.strip() or None,
        rest=rest or None,
        building=building,
    )
