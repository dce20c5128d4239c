"""Open-data exports: the CSV (自治体標準オープンデータセット style plus shop columns) and GeoJSON.

The SQL is fixed (``sql/export_shops.sql``) and streamed by the caller with a server-side cursor; this
module turns rows into bytes, one chunk at a time, so memory stays flat however many shops there are.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.resources import files
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

BOM = "\ufeff"
CRLF = "\r\n"
CHUNK_ROWS = 500
GEOJSON_DECIMALS = 7

LICENCES: dict[str, tuple[str, str]] = {
    "CC-BY-4.0": ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "PDL-1.0": ("公共データ利用規約（第1.0版）(PDL1.0)", "https://www.digital.go.jp/resources/open_data/"),
}

CATEGORY_JA = {"discount": "お得", "consideration": "こころ配り", "facility": "設備"}
PRECISION_JA = {
    "source": "提供元座標",
    "building": "建物",
    "block": "街区",
    "town": "町字",
    "municipality": "市区町村",
    "prefecture": "都道府県",
}

# (header, how to get the cell from a row). The first fifteen follow the 自治体標準オープンデータセット
# common columns; the rest are this service's shop columns.
COLUMNS: tuple[str, ...] = (
    "全国地方公共団体コード",
    "ID",
    "名称",
    "名称_カナ",
    "名称_英語",
    "所在地_連結表記",
    "所在地_都道府県",
    "所在地_市区町村",
    "所在地_町字",
    "所在地_番地以下",
    "建物名等(方書)",
    "緯度",
    "経度",
    "電話番号",
    "URL",
    "郵便番号",
    "営業時間",
    "定休日",
    "事業名",
    "特典内容",
    "特典区分",
    "設備",
    "カード提示要否",
    "全国共通展開参加",
    "多子世帯向け",
    "登録日",
    "有効期限",
    "最終確認日",
    "位置精度",
    "位置出典",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sql(name: str) -> TextClause:
    return text((files("search") / "sql" / name).read_text(encoding="utf-8"))


def export_query() -> TextClause:
    return sql("export_shops.sql")


def version_query() -> TextClause:
    """Binds: gazetteer_sources (text[])."""
    return sql("export_version.sql").bindparams(bindparam("gazetteer_sources", type_=ARRAY(Text)))


@dataclass(frozen=True, slots=True)
class Licence:
    """The licence and credits that travel with every export."""

    code: str = "CC-BY-4.0"
    attribution: str = "kosodate contributors"
    credits: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return LICENCES[self.code][0]

    @property
    def url(self) -> str:
        return LICENCES[self.code][1]

    def link_header(self) -> str:
        return f'<{self.url}>; rel="license"'

    def notice(self) -> str:
        return "; ".join((f"{self.attribution} ({self.name})", *self.credits))


def etag(version: Mapping[str, Any], fmt: str, licence: Licence) -> str:
    """A strong validator: it changes whenever a shop is loaded, changed or withdrawn."""
    basis = json.dumps(
        [
            version.get("live"),
            version.get("last_change"),
            str(version.get("last_modified")),
            fmt,
            licence.notice(),
        ],
        ensure_ascii=False,
    )
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def safe_cell(value: str) -> str:
    """Stop spreadsheet programs treating a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _katakana(value: str | None) -> str:
    if not value:
        return ""
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(str(value))


def _flag(value: bool | None, yes: str, no: str) -> str:
    if value is None:
        return ""
    return yes if value else no


def _coord(value: float | None) -> str:
    return "" if value is None else f"{value:.{GEOJSON_DECIMALS}f}".rstrip("0").rstrip(".")


def csv_cells(row: Mapping[str, Any]) -> list[str]:
    categories = row.get("categories") or []
    return [
        _text(row.get("lg_code")),
        _text(row["id"]),
        _text(row.get("name")),
        _text(_katakana(row.get("name_kana"))),
        "",
        _text(row.get("address")),
        _text(row.get("prefecture")),
        _text(row.get("municipality")),
        _text(row.get("town")),
        _text(row.get("address_rest")),
        _text(row.get("building")),
        _coord(row.get("lat")),
        _coord(row.get("lng")),
        _text(row.get("phone")),
        _text(row.get("url")),
        _text(row.get("postal_code")),
        _text(row.get("hours")),
        _text(row.get("closed_days")),
        _text(row.get("programme_name")),
        _text(row.get("perk_text")),
        ";".join(CATEGORY_JA.get(c, c) for c in categories),
        _text(";".join(row.get("amenities") or [])),
        _flag(row.get("card_required"), "要", "不要"),
        _flag(row.get("nationwide"), "参加", "不参加"),
        _flag(row.get("multi_child"), "対象", "対象外"),
        _text(row.get("registered_on")),
        _text(row.get("expires_on")),
        _text(row.get("confirmed_on")),
        PRECISION_JA.get(row.get("geocode_precision") or "", row.get("geocode_precision") or ""),
        _text(row.get("geocode_source")),
    ]


def csv_head() -> str:
    """The BOM (so Excel reads UTF-8) and the header line."""
    return BOM + csv_batch([], header=True)


def csv_batch(rows: Iterable[Mapping[str, Any]], *, header: bool = False) -> str:
    """Rows as CSV text: CRLF line ends, RFC 4180 quoting where a cell needs it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=CRLF, quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(csv_cells(row))
    return buffer.getvalue()


def csv_chunks(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    yield csv_head()
    batch: list[Mapping[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK_ROWS:
            yield csv_batch(batch)
            batch.clear()
    yield csv_batch(batch)


def geojson_feature(row: Mapping[str, Any]) -> dict[str, Any]:
    lng, lat = row["lng"], row["lat"]
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {
            "type": "Point",
            "coordinates": [round(lng, GEOJSON_DECIMALS), round(lat, GEOJSON_DECIMALS)],
        },
        "properties": {
            "lg_code": row.get("lg_code"),
            "source_id": row.get("source_id"),
            "name": row.get("name"),
            "name_kana": row.get("name_kana"),
            "address": row.get("address"),
            "building": row.get("building"),
            "phone": row.get("phone"),
            "url": row.get("url"),
            "programme": row.get("programme"),
            "programme_name": row.get("programme_name"),
            "perk_text": row.get("perk_text"),
            "categories": list(row.get("categories") or []),
            "amenities": list(row.get("amenities") or []),
            "card_required": row.get("card_required"),
            "nationwide": row.get("nationwide"),
            "multi_child": row.get("multi_child"),
            "registered_on": _iso(row.get("registered_on")),
            "expires_on": _iso(row.get("expires_on")),
            "confirmed_on": _iso(row.get("confirmed_on")),
            "precision": row.get("geocode_precision"),
            "geocode_source": row.get("geocode_source"),
            "municipality_code": row.get("municipality_code"),
        },
    }


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, date | datetime) else None


def geojson_head(licence: Licence) -> str:
    """The opening of a FeatureCollection; licence and attribution travel as foreign members."""
    head = {
        "type": "FeatureCollection",
        "license": licence.name,
        "license_url": licence.url,
        "attribution": licence.notice(),
    }
    return json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[\n'


def geojson_batch(rows: Iterable[Mapping[str, Any]], *, first: bool) -> str:
    parts = [json.dumps(geojson_feature(row), ensure_ascii=False) for row in rows]
    if not parts:
        return ""
    return ("" if first else ",\n") + ",\n".join(parts)


GEOJSON_TAIL = "\n]}\n"


def geojson_chunks(rows: Iterable[Mapping[str, Any]], licence: Licence) -> Iterator[str]:
    yield geojson_head(licence)
    batch: list[Mapping[str, Any]] = []
    first = True
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK_ROWS:
            yield geojson_batch(batch, first=first)
            first = False
            batch.clear()
    yield geojson_batch(batch, first=first)
    yield GEOJSON_TAIL
