"""Readers for the gazetteer's public file formats. Each yields plain records; nothing is stored here.

* the municipality master (``municipalities_localgovjp.csv``: ``pid,pref,cid,city,...,lgcode``)
* Geolonia's town table (``prefecture,city,town,koaza,lat,lng[,city_code_n03]``)
* MLIT 位置参照情報 大字・町丁目レベル (``都道府県コード,都道府県名,市区町村コード,
  市区町村名,大字町丁目コード,大字町丁目名,緯度,経度,...``)
* MLIT 位置参照情報 街区レベル (``都道府県名,市区町村名,大字・丁目名,小字・通称名,
  街区符号・地番,...,緯度,経度,...``)

Files may be UTF-8 (with or without BOM) or Shift_JIS (MLIT's own downloads).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

from geo.gazetteer import Municipality, Town
from geo.municipality import parse_code
from geo.prefectures import CODE_BY_NAME


class GazetteerFileError(ValueError):
    """A gazetteer file whose format we do not recognise or cannot read."""


def _text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise GazetteerFileError(f"{path}: neither UTF-8 nor Shift_JIS")


def _rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    reader = csv.reader(io.StringIO(_text(path)))
    try:
        header = [h.strip().strip('"') for h in next(reader)]
    except StopIteration as exc:
        raise GazetteerFileError(f"{path}: empty file") from exc
    return header, reader


def detect_format(header: list[str]) -> str:
    names = set(header)
    if {"pid", "pref", "cid", "city", "lgcode"} <= names:
        return "localgov"
    if {"prefecture", "city", "town", "lat", "lng"} <= names:
        return "geolonia"
    if {"市区町村コード", "大字町丁目名", "緯度", "経度"} <= names:
        return "mlit_oaza"
    if {"市区町村名", "大字・丁目名", "街区符号・地番", "緯度", "経度"} <= names:
        return "mlit_gaiku"
    raise GazetteerFileError(
        "unknown gazetteer format; expected the municipality master, Geolonia towns, or MLIT 位置参照情報 "
        f"(大字・町丁目 or 街区); header was {','.join(header[:8])}"
    )


def file_format(path: Path) -> str:
    header, _ = _rows(path)
    return detect_format(header)


def read_municipalities(path: Path) -> list[Municipality]:
    header, reader = _rows(path)
    if detect_format(header) != "localgov":
        raise GazetteerFileError(f"{path}: not the municipality master")
    records = [dict(zip(header, r, strict=False)) for r in reader if r]
    parents: dict[tuple[int, str], str] = {}
    out: list[Municipality] = []
    for r in records:
        code = parse_code(r["cid"])
        if code is None:
            continue
        city = r["city"].strip()
        pref = int(r["pref"]) if r["pref"].isdigit() else CODE_BY_NAME.get(r["pref"], int(code[:2]))
        if " " not in city:
            parents[(pref, city)] = code
        lat = float(r["lat"]) if r.get("lat") else None
        lng = float(r["lng"]) if r.get("lng") else None
        out.append(Municipality(code, pref, city, lat, lng))
    result = []
    for m in out:
        head, _, ward = m.name.partition(" ")
        parent = parents.get((m.prefecture_code, head)) if ward else None
        result.append(Municipality(m.code, m.prefecture_code, head + ward, m.lat, m.lng, parent))
    return result


Resolver = Callable[[str, str], str | None]


def read_towns(
    path: Path, resolve: Resolver | None = None, prefectures: set[int] | None = None
) -> Iterator[Town]:
    """Towns (or 街区 blocks) from a Geolonia or MLIT file.

    ``resolve(prefecture, city)`` gives a municipality code for files that carry only names.
    Rows in other prefectures than ``prefectures`` (when given) are skipped.
    """
    header, reader = _rows(path)
    kind = detect_format(header)
    if kind == "localgov":
        raise GazetteerFileError(f"{path}: this is the municipality master, not a town table")
    for line, record in enumerate(reader, start=2):
        if not record or not any(record):
            continue
        r = dict(zip(header, record, strict=False))
        try:
            town = _town(kind, r, resolve)
        except (KeyError, ValueError) as exc:
            raise GazetteerFileError(f"{path}:{line}: {exc}") from exc
        if town is None:
            continue
        if prefectures is not None and int(town.code[:2]) not in prefectures:
            continue
        yield town


def _town(kind: str, r: dict[str, str], resolve: Resolver | None) -> Town | None:  # noqa: PLR0911
    lat_key, lng_key = ("lat", "lng") if kind == "geolonia" else ("緯度", "経度")
    if not (r.get(lat_key) or "").strip() or not (r.get(lng_key) or "").strip():
        return None  # a town listed without a point cannot place anything
    if kind == "geolonia":
        code = parse_code(r.get("city_code_n03")) if r.get("city_code_n03") else None
        if code is None and resolve is not None:
            code = resolve(r["prefecture"], r["city"])
        if code is None:
            return None
        return Town(code, r["town"], float(r["lat"]), float(r["lng"]), koaza=r.get("koaza", "") or "")
    if kind == "mlit_oaza":
        code = parse_code(r["市区町村コード"])
        if code is None:
            return None
        return Town(code, r["大字町丁目名"], float(r["緯度"]), float(r["経度"]))
    # 街区: names only, one point per block (街区符号) of a town.
    code = resolve(r["都道府県名"], r["市区町村名"]) if resolve else None
    if code is None:
        return None
    town = r["大字・丁目名"] + (r.get("小字・通称名") or "")
    return Town(
        code, town, float(r["緯度"]), float(r["経度"]), koaza=r["街区符号・地番"].strip(), level="block"
    )
