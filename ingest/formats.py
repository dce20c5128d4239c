"""File formats: what a registry file is (CSV/TSV in UTF-8 or Shift_JIS, XLSX, JSON, GeoJSON), as records.

Tabular files yield ``(line, [values])`` with the physical line each record starts on; JSON and GeoJSON
yield ``(record number, {flattened key: value})``. Nested JSON is flattened with dotted keys
(``location.lat``); lists of scalars or of objects are joined with ``|``; a GeoJSON point becomes
``geometry.lat`` / ``geometry.lng`` (the one place a GeoJSON ``[lng, lat]`` pair is read).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from ingest.errors import IngestError

csv.field_size_limit(16 * 1024 * 1024)

TABULAR = ("csv", "tsv", "xlsx")
_HEAD_BYTES = 64 * 1024
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What the file is: its kind, text encoding and delimiter (for text), and its SHA-256."""

    kind: str  # csv | tsv | xlsx | json | geojson
    encoding: str | None
    delimiter: str | None
    sha256: str


def fold_header(name: object) -> str:
    """Header names are matched after NFKC (``住所１２３`` is ``住所123``) with whitespace collapsed."""
    text = unicodedata.normalize("NFKC", "" if name is None else str(name))
    return _SPACE_RE.sub(" ", text).strip()


def _scan(path: Path) -> tuple[str, bool]:
    """One pass: the file's SHA-256 and whether all of it is valid UTF-8."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), utf8


def _encoding(path: Path, head: bytes, utf8: bool) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if utf8:
        return "utf-8"
    try:  # Shift_JIS as Windows writes it (CP932 is a superset of Shift_JIS)
        with path.open(encoding="cp932", newline="") as text:
            for _ in iter(lambda: text.read(1 << 20), ""):
                pass
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path}: neither UTF-8 nor Shift_JIS/CP932 text ({exc.reason} at byte {exc.start})"
        ) from exc
    return "cp932"


def _delimiter(path: Path, head_text: str) -> str:
    if path.suffix.lower() in {".tsv", ".tab"}:
        return "\t"
    lines = [ln for ln in head_text.splitlines()[:20] if ln.strip()]
    tabs = sum(ln.count("\t") for ln in lines)
    commas = sum(ln.count(",") for ln in lines)
    return "\t" if tabs > commas else ","


def sniff(path: Path) -> Sniffed:
    """Decide the kind of file from its name and first bytes, and its text encoding."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04") or suffix in {".xlsx", ".xlsm"}:
        digest, _ = _scan(path)
        return Sniffed("xlsx", None, None, digest)
    digest, utf8 = _scan(path)
    encoding = _encoding(path, head, utf8)
    head_text = head.decode(encoding, errors="ignore")
    stripped = head_text.lstrip("\ufeff \t\r\n")
    if suffix in {".json", ".geojson"} or stripped[:1] in {"[", "{"}:
        kind = "geojson" if suffix == ".geojson" or '"FeatureCollection"' in head_text else "json"
        return Sniffed(kind, encoding, None, digest)
    delimiter = _delimiter(path, head_text)
    return Sniffed("tsv" if delimiter == "\t" else "csv", encoding, delimiter, digest)


def _text_records(path: Path, sniffed: Sniffed) -> Iterator[tuple[int, list[str]]]:
    try:
        with path.open(encoding=sniffed.encoding or "utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter=sniffed.delimiter or ",")
            start = 1
            for record in reader:
                yield start, record
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not {sniffed.encoding} text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise IngestError(f"{path}: unreadable CSV: {exc}") from exc


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person would have typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # noqa: PLC0415 - only needed for spreadsheets
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    # A damaged or truncated workbook fails in the zip layer, the XML parser or openpyxl itself.
    damaged = (InvalidFileException, OSError, KeyError, ValueError, TypeError, IndexError, EOFError,
               zipfile.BadZipFile, zlib.error, ElementTree.ParseError)  # fmt: skip
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except damaged as exc:
        raise IngestError(f"{path}: unreadable XLSX: {exc}") from exc
    try:
        if not book.worksheets:
            raise IngestError(f"{path}: the workbook has no sheet")
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell_text(v) for v in values]
    except damaged as exc:
        raise IngestError(f"{path}: unreadable XLSX: {exc}") from exc
    finally:
        book.close()


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        parts: dict[str, list[str]] = {}
        for item in value:
            flat: dict[str, str] = {}
            _flatten(item, prefix, flat)
            for key, text in flat.items():
                if text and text not in parts.setdefault(key, []):
                    parts[key].append(text)
        for key, texts in parts.items():
            out[key] = "|".join(texts)
        if not parts:
            out.setdefault(prefix, "")
    else:
        out[prefix] = cell_text(value)


def _feature_record(feature: Any) -> dict[str, str]:
    if not isinstance(feature, dict):
        return {"__error__": "a feature is not an object"}
    out: dict[str, str] = {}
    _flatten(feature.get("properties") or {}, "", out)
    if "id" in feature and "id" not in out:
        out["id"] = cell_text(feature["id"])
    geometry = feature.get("geometry") or {}
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if isinstance(geometry, dict) and geometry.get("type") == "Point" and isinstance(coords, list):
        if len(coords) >= 2:  # noqa: PLR2004 - GeoJSON positions are [lng, lat, (alt)]
            out["geometry.lng"], out["geometry.lat"] = cell_text(coords[0]), cell_text(coords[1])
    else:
        out.setdefault("geometry.lng", "")
        out.setdefault("geometry.lat", "")
    return out


_SURROGATE_RE = re.compile(f"[{chr(0xD800)}-{chr(0xDFFF)}]")  # chr: compiled code cannot spell them


def _unicode_checked(record: dict[str, str]) -> dict[str, str]:
    """JSON can spell a lone surrogate (``"\\ud800"``), which is no text at all: such a record is marked
    as an error (the row is rejected with the reason) and the surrogates are shown as U+FFFD."""
    bad = [k for k, v in record.items() if _SURROGATE_RE.search(k) or _SURROGATE_RE.search(v)]
    if not bad:
        return record
    out = {_SURROGATE_RE.sub("\ufffd", k): _SURROGATE_RE.sub("\ufffd", v) for k, v in record.items()}
    out["__error__"] = f"not valid Unicode text (a lone surrogate) in {_SURROGATE_RE.sub('?', bad[0])!r}"
    return out


def _json_records(path: Path, sniffed: Sniffed) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding=sniffed.encoding or "utf-8") as fh:
            data = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(f"{path}: unreadable JSON: {exc}") from exc
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        for number, feature in enumerate(data.get("features") or [], start=1):
            yield number, _unicode_checked(_feature_record(feature))
        return
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise IngestError(f"{path}: JSON must be a list of records (or an object holding one list)")
        data = lists[0]
    if not isinstance(data, list):
        raise IngestError(f"{path}: JSON must be a list of records")
    for number, item in enumerate(data, start=1):
        out: dict[str, str] = {}
        if isinstance(item, dict):
            _flatten(item, "", out)
        else:
            out["__error__"] = "a record is not an object"
        yield number, _unicode_checked(out)


def tabular_records(path: Path, sniffed: Sniffed) -> Iterator[tuple[int, list[str]]]:
    if sniffed.kind == "xlsx":
        return _xlsx_records(path)
    return _text_records(path, sniffed)


def object_records(path: Path, sniffed: Sniffed) -> Iterator[tuple[int, dict[str, str]]]:
    return _json_records(path, sniffed)


def describe(sniffed: Sniffed) -> str:
    if sniffed.kind in {"csv", "tsv", "json", "geojson"} and sniffed.encoding:
        return f"{sniffed.kind.upper()} ({sniffed.encoding})"
    return sniffed.kind.upper()
