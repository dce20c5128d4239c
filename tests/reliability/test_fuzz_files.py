"""Fuzzing the readers and normalisers with hypothesis: malformed CSV, broken XLSX, malformed JSON and
GeoJSON, wrong encodings, huge fields, control characters, lone surrogates.

Properties: reading a file either raises ``IngestError`` (our one documented error for an unreadable
file) or yields rows; every row then normalises to a shop or to a rejection with a reason, so the
accounting adds up to the rows read; the text normalisers never raise. Example counts are bounded and
the runs derandomised, so the suite is fast and repeatable. One fuzzed file also goes end to end into a
real database through the whole pipeline.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import Engine, text

from geo.address import split_address
from geo.text import clean, normalize_address, normalize_name, search_key
from ingest.errors import IngestError
from ingest.models import NormalizedShop, Rejection
from ingest.normalize import normalize, parse_date, phone, postal_code, url
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from ingest.read import open_registry, read_rows

pytestmark = pytest.mark.fault

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HEADER = ["source_id", "name", "address", "lat", "lng", "phone", "postal_code", "url", "perk_text",
          "categories", "registered_on", "municipality_code"]  # fmt: skip

# Every code point Python can hold in a str, surrogates included.
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
NASTY = st.sampled_from(
    ['"', '""', "\x00", "\r", "\n", "\r\n", "\x0b", "\x0c", "\x1b", "\x7f", ",", "\t", "\ufeff", "\u202e",
     "\u200f", "\u0301", "𠮷", "👨‍👩‍👧", "ｶﾞ", "＝", "=cmd|' /C calc'!A0", "@SUM(1+1)", "-1", "+1", "１２３",
     "石川県金沢市広坂1-1-1", "36.5", "136.6", "NaN", "inf", "1e309", "--", "'; DROP TABLE shops; --"]
)  # fmt: skip
CELL = st.one_of(st.text(ANY_CHAR.filter(lambda c: not 0xD800 <= ord(c) <= 0xDFFF), max_size=30), NASTY)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16", "latin-1"])


def _write(data: bytes, suffix: str) -> Path:
    fh = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115 - closed right away
    fh.write(data)
    fh.close()
    return Path(fh.name)


def _account(path: Path) -> tuple[int, int, int]:
    """Read and normalise a file: (rows, shops, rejections). Only IngestError may escape, and only
    for a file that cannot be read at all."""
    try:
        opened = open_registry(path)
        rows = shops = rejected = 0
        for raw in read_rows(opened):
            rows += 1
            outcome = normalize(raw)
            if isinstance(outcome, Rejection):
                assert outcome.reason, "a rejection without a reason"
                rejected += 1
            else:
                assert isinstance(outcome, NormalizedShop) and outcome.name
                shops += 1
        assert shops + rejected == rows
        return rows, shops, rejected
    except IngestError as exc:
        assert str(exc), "an IngestError without a message"
        return -1, 0, 0
    finally:
        path.unlink(missing_ok=True)


def _encode(text_: str, encoding: str) -> bytes:
    return text_.encode(encoding, errors="replace")


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    """A CSV built by hand, not by the csv module: ragged rows, stray quotes, any line ending."""
    header = draw(st.permutations(HEADER))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\r"]))
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 8))):
        cells = draw(st.lists(CELL, min_size=0, max_size=len(HEADER) + 3))
        quote = draw(st.booleans())
        lines.append(",".join(f'"{c}"' if quote else c for c in cells))
    body = _encode(ending.join(lines), draw(ENCODINGS))
    if draw(st.booleans()):  # corrupt some bytes: invalid sequences, a declared-UTF-8 file in Shift_JIS
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, max(0, len(body) - 1)))
            body = body[:at] + draw(st.binary(min_size=1, max_size=3)) + body[at:]
    return body


@FUZZ
@given(csv_bytes())
def test_malformed_csv(data: bytes) -> None:
    _account(_write(data, ".csv"))


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([".csv", ".tsv", ".json", ".geojson", ".xlsx", ".txt"]))
def test_arbitrary_bytes(data: bytes, suffix: str) -> None:
    _account(_write(data, suffix))


def _valid_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX = _valid_xlsx([["X1", "店", "石川県金沢市広坂1-1-1", "36.56", "136.65"]] * 5)


@FUZZ
@given(st.integers(0, len(XLSX)), st.binary(max_size=64), st.booleans())
def test_truncated_or_damaged_xlsx(cut: int, patch: bytes, truncate: bool) -> None:
    data = XLSX[:cut] if truncate else XLSX[:cut] + patch + XLSX[cut + len(patch) :]
    _account(_write(data, ".xlsx"))


@FUZZ
@given(st.lists(st.lists(st.one_of(CELL, st.integers(), st.floats(), st.none()), max_size=8), max_size=6))
def test_xlsx_with_odd_cells(rows: list[list[object]]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        # openpyxl refuses control characters in cells; a real spreadsheet cannot hold them either
        sheet.append([c if not isinstance(c, str) else "".join(ch for ch in c if ch >= " ") for c in row])
    out = io.BytesIO()
    book.save(out)
    _account(_write(out.getvalue(), ".xlsx"))


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), CELL),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(HEADER), inner, max_size=6)
    ),
    max_leaves=20,
)


@st.composite
def json_bytes(draw: st.DrawFn) -> tuple[bytes, str]:
    shape = draw(st.sampled_from(["list", "wrapped", "features", "scalar"]))
    records = draw(
        st.lists(st.one_of(st.dictionaries(st.sampled_from(HEADER), JSON_VALUE), JSON_VALUE), max_size=6)
    )
    doc: object
    if shape == "list":
        doc = records
    elif shape == "wrapped":
        doc = {"shops": records, "meta": draw(JSON_VALUE)}
    elif shape == "features":
        features = [
            {"type": "Feature", "properties": r, "geometry": draw(st.one_of(st.none(), JSON_VALUE, st.just(
                {"type": "Point", "coordinates": draw(st.lists(st.one_of(st.floats(), CELL), max_size=3))})))}
            for r in records
        ]  # fmt: skip
        doc = {"type": "FeatureCollection", "features": draw(st.one_of(st.just(features), JSON_VALUE))}
    else:
        doc = draw(JSON_VALUE)
    body = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        body = body.replace("店", "\\ud800", 1) if "店" in body else body + '"\\udc00"'  # lone surrogates
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]  # truncated
    suffix = ".geojson" if shape == "features" and draw(st.booleans()) else ".json"
    return _encode(body, draw(ENCODINGS)), suffix


@FUZZ
@given(json_bytes())
def test_malformed_json_and_geojson(case: tuple[bytes, str]) -> None:
    data, suffix = case
    _account(_write(data, suffix))


def test_json_with_a_lone_surrogate_is_rejected_with_a_reason() -> None:
    doc = [
        {"source_id": "A", "name": "店\ud800", "address": "石川県金沢市広坂1-1-1", "lat": 36.5, "lng": 136.6}
    ]
    rows, shops, rejected = _account(_write(json.dumps(doc).encode(), ".json"))
    assert (rows, shops, rejected) == (1, 0, 1)


def test_huge_fields_are_read_or_refused_cleanly() -> None:
    huge = "あ" * (3 << 20)  # 9 MB of UTF-8 in one cell
    body = f"source_id,name,address,lat,lng,perk_text\nA,店,石川県金沢市広坂1-1-1,36.5,136.6,{huge}\n"
    assert _account(_write(body.encode(), ".csv")) == (1, 1, 0)
    beyond = "x" * (17 << 20)  # past the 16 MB field limit: an unreadable file, said so
    body = f"source_id,name,address,lat,lng,perk_text\nA,店,石川県金沢市広坂1-1-1,36.5,136.6,{beyond}\n"
    assert _account(_write(body.encode(), ".csv"))[0] == -1


def test_shift_jis_and_utf8_mislabelled() -> None:
    text_ = "source_id,name,address,lat,lng\nA,カフェ①髙,石川県金沢市広坂1-1-1,36.5,136.6\n"
    assert _account(_write(text_.encode("cp932"), ".csv")) == (1, 1, 0)  # Shift_JIS, no declaration
    utf8_in_sjis = text_.encode("utf-8").decode("cp932", errors="replace").encode("cp932", errors="replace")
    assert _account(_write(utf8_in_sjis, ".csv"))[0] in {-1, 0, 1}
    mixed = text_.encode("utf-8") + "B,店,石川県,36.5,136.6\n".encode("cp932")  # half and half
    assert _account(_write(mixed, ".csv"))[0] in {-1, 2}


@FUZZ
@given(st.text(ANY_CHAR, max_size=200))
def test_normalisers_never_raise(value: str) -> None:
    for fn in (clean, normalize_name, normalize_address, search_key, postal_code, phone, url):
        fn(value)
    split_address(normalize_address(value))
    with contextlib.suppress(ValueError):  # the documented refusal
        parse_date(value)


@pytest.mark.db
def test_fuzzed_file_end_to_end(engine: Engine, tmp_path: Path) -> None:
    """A nasty file through the whole pipeline into PostGIS: every row loaded or rejected with a reason,
    the stored rows and rejections add up to the rows read."""
    rows = [
        ["F1", "=cmd|' /C calc'!A0", "石川県金沢市広坂1-1-1", "36.56", "136.65"],
        ["F2", "店\x00\x0b名", "石川県金沢市広坂2-1", "36.56", "136.66"],
        ["F3", "\u202e右から左\u200f", "石川県金沢市広坂3-1", "NaN", "inf"],
        ["F4", "👨‍👩‍👧 ｶﾌｪ", "石川県金沢市広坂4-1", "1e309", "-1e309"],
        ["F5", "", "石川県金沢市広坂5-1", "36.5", "136.6"],
        ["F6", "'; DROP TABLE shops; --", "", "", ""],
        ["F7", "x" * 200_000, "石川県金沢市広坂7-1", "36.56", "136.65"],
        ["F8", '"stray quote', "石川県金沢市広坂8-1", "99", "999"],
        ["F9", "髙島屋", "石川県金沢市広坂9-1\r\n2F", "36.56", "136.65", "extra", "cells"],
        ["F10", "ragged"],
    ]
    lines = ["source_id,name,address,lat,lng"] + [
        ",".join('"' + c.replace('"', '""') + '"' for c in r) for r in rows
    ]
    path = tmp_path / "fuzz.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    summary = ingest_file(engine, path, load_programme("ishikawa"))
    assert summary.rows == len(rows)
    assert summary.accounted == summary.rows
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM shops")).scalar_one()
        reasons = (
            conn.execute(text("SELECT reason FROM rejected_rows WHERE run_id = :r"), {"r": summary.run_id})
            .scalars()
            .all()
        )
        assert (
            conn.execute(text("SELECT count(*) FROM shops WHERE name LIKE '%DROP TABLE%'")).scalar_one() <= 1
        )
    assert len(reasons) == summary.rejected and all(reasons)
    assert stored == summary.loaded + summary.pending_geocode  # a fresh database: every staged row is new


@pytest.mark.db
def test_json_with_lone_surrogates_end_to_end(engine: Engine, tmp_path: Path) -> None:
    doc = [
        {
            "source_id": "J1",
            "name": "店\ud800",
            "address": "石川県金沢市広坂1-1-1",
            "lat": 36.56,
            "lng": 136.65,
        },
        {"source_id": "J2", "name": "良い店", "address": "石川県金沢市広坂2-1", "lat": 36.56, "lng": 136.66},
        "not an object",
    ]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    summary = ingest_file(engine, path, load_programme("ishikawa"))
    assert (summary.rows, summary.loaded, summary.rejected) == (3, 1, 2)
    with engine.connect() as conn:
        reasons = conn.execute(
            text("SELECT line, reason FROM rejected_rows WHERE run_id = :r ORDER BY line"),
            {"r": summary.run_id},
        ).all()
    assert [r.line for r in reasons] == [1, 3]
    assert "lone surrogate" in reasons[0].reason and "not an object" in reasons[1].reason


@pytest.mark.db
def test_rejected_row_with_nul_and_odd_bytes_is_stored(engine: Engine, tmp_path: Path) -> None:
    """A rejected row's original cells are kept for the operator, whatever they hold (NUL included)."""
    path = tmp_path / "nul.csv"
    path.write_bytes(
        b"source_id,name,address,lat,lng,categories\r\n"
        b"N1,\x00,\x00\x01,\x00,,\r\n"
        b"N2,ok,\xe7\x9f\xb3\xe5\xb7\x9d\xe7\x9c\x8c,36.5,136.6,\x00bad\x00\r\n"
        b"N3,\\u0000,\xe7\x9f\xb3\xe5\xb7\x9d\xe7\x9c\x8c,36.5,136.6,\\u0000\r\n"
    )
    summary = ingest_file(engine, path, load_programme("ishikawa"))
    assert summary.rows == 3 and summary.accounted == 3 and summary.rejected >= 2
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM rejected_rows WHERE run_id = :r"), {"r": summary.run_id}
        ).scalar_one()
    assert stored == summary.rejected


@pytest.mark.db
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(csv_bytes())
def test_fuzzed_csv_end_to_end(engine: Engine, data: bytes) -> None:
    """Generated files through the whole pipeline into PostGIS (one database, run after run): an
    unreadable file is refused with our error and changes nothing; a readable one accounts for every
    row, and every rejection is stored with its reason."""
    path = _write(data, ".csv")
    try:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT count(*) FROM shops")).scalar_one()
        try:
            summary = ingest_file(engine, path, load_programme("ishikawa"))
        except IngestError:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM shops")).scalar_one() == before
            return
        assert summary.accounted == summary.rows
        with engine.connect() as conn:
            reasons = (
                conn.execute(
                    text("SELECT reason FROM rejected_rows WHERE run_id = :r"), {"r": summary.run_id}
                )
                .scalars()
                .all()
            )
            after = conn.execute(text("SELECT count(*) FROM shops")).scalar_one()
        assert len(reasons) == summary.rejected and all(reasons)
        # new shops are the loaded ones, plus those waiting for geocoding that were not there before
        assert summary.loaded <= after - before <= summary.loaded + summary.pending_geocode
    finally:
        path.unlink(missing_ok=True)
