"""Reading registry files as publishers export them: encodings, delimiters, XLSX, JSON, GeoJSON, mess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from ingest.errors import IngestError
from ingest.formats import fold_header, sniff
from ingest.profile import load_profile
from ingest.read import open_registry, read_rows
from tests.conftest import shared_file

CANONICAL = "source_id,name,address,lat,lng,phone,closed_days\n"
ROWS = [
    ["S-1", "スシロー 金沢店", "石川県金沢市広岡１丁目１－１", "36.57", "136.64", "076-222-1111", "水曜日"],
    ["S-2", "ｶﾌｪ ﾓｶ", "石川県金沢市本町2-2", "36.58", "136.65", "(076)222-2222", "2014/01/01"],
]


def _csv_text(delimiter: str = ",", title: bool = False) -> str:
    lines = ["店舗一覧,,20141205 ,,,,"] if title else []
    lines.append(CANONICAL.strip().replace(",", delimiter))
    lines += [delimiter.join(r) for r in ROWS]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932"), ("shift_jis", "cp932")],
)
def test_text_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "shops.csv"
    text = _csv_text(title=True)
    if encoding == "shift_jis":  # JIS's minus sign: U+2212 in Shift_JIS, U+FF0D in Microsoft's CP932
        text = text.replace("－", "−")
    path.write_bytes(text.encode(encoding))
    opened = open_registry(path)
    assert opened.sniffed.encoding == expected
    assert opened.profile.name == "kosodate" and opened.header_line == 2
    rows = list(read_rows(opened))
    assert [r.fields["name"] for r in rows] == ["スシロー 金沢店", "ｶﾌｪ ﾓｶ"]
    assert [r.line for r in rows] == [3, 4]


def test_tsv_is_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text(_csv_text("\t"), encoding="utf-8")
    opened = open_registry(path)
    assert opened.sniffed.kind == "tsv"
    assert [r.fields["address"] for r in read_rows(opened)][1] == "石川県金沢市本町2-2"


def test_text_that_is_neither_utf8_nor_shift_jis_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"source_id,name\n\x81\x20\xff\xfe\n")
    with pytest.raises(IngestError, match="neither UTF-8 nor Shift_JIS"):
        open_registry(path)


def test_embedded_newlines_and_vertical_tabs_stay_in_their_field(tmp_path: Path) -> None:
    path = tmp_path / "shops.csv"
    path.write_text(
        CANONICAL
        + 'S-1,"二行の\n名前",石川県金沢市1-1,36.5,136.6,,"月曜\x0b火曜"\n'
        + "S-2,次,石川県金沢市2,36.5,136.6,,\n",
        encoding="utf-8",
    )
    rows = list(read_rows(open_registry(path)))
    assert len(rows) == 2
    assert rows[0].fields["closed_days"] == "月曜\x0b火曜"
    assert rows[1].line == 4  # the physical line the record starts on


def test_xlsx_is_read_streaming_with_title_rows_and_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["協賛店一覧", None, None])
    sheet.append(["source_id", "name", "address", "lat", "lng", "phone", "postal_code"])
    sheet.append(["X-1", "店 ", "石川県金沢市1-1", 36.5, 136.6, 762229000, 9200054])
    path = tmp_path / "shops.xlsx"
    book.save(path)
    opened = open_registry(path)
    assert opened.sniffed.kind == "xlsx" and opened.header_line == 2
    (row,) = list(read_rows(opened))
    assert row.fields["lat"] == "36.5"
    assert row.fields["phone"] == "762229000"  # a number cell: the leading 0 is gone (repaired later)
    assert row.fields["postal_code"] == "9200054"


def test_full_width_digits_in_headers_are_folded() -> None:
    assert fold_header("住所１２３") == "住所123"
    opened = open_registry(shared_file("shops", "ishikawa_prepass_2014_raw_shared.csv"))
    assert opened.profile.name == "ishikawa_prepass_2014_raw"
    assert "住所123" in opened.header
    first = next(iter(read_rows(opened)))
    assert first.fields["source_id"] == "101357-3"  # co101357 / ofid0003, as the 2017 release numbers it
    assert first.fields["address"].startswith("石川県羽咋市")


@pytest.mark.parametrize(
    ("parts", "profile", "rows"),
    [
        (("shops", "ishikawa_prepass_2017_shared.json"), "ishikawa_prepass_2017_json", 1842),
        (("shops", "ishikawa_prepass_2017_shared.csv"), "ishikawa_prepass_2017", 1842),
        (("shops", "matsudo_mirai_card_2017.csv"), "matsudo_mirai_card", 270),
        (("facilities", "tokyo_akachan_flat.geojson"), "tokyo_akachan_flat", 1654),
        (("facilities", "yokosuka_nurseries_2016.geojson"), "yokosuka_nurseries", 99),
    ],
)
def test_every_shared_file_finds_its_profile(parts: tuple[str, str], profile: str, rows: int) -> None:
    opened = open_registry(shared_file(*parts))
    assert opened.profile.name == profile and opened.detected
    assert sum(1 for _ in read_rows(opened)) == rows


def test_json_nesting_is_flattened() -> None:
    opened = open_registry(shared_file("shops", "ishikawa_prepass_2017_shared.json"))
    first = next(iter(read_rows(opened)))
    assert first.fields["lat"] == "36.559034" and first.fields["lng"] == "136.683348"
    assert first.original["genres.big_genre"] == "育てる"
    assert "無料体験" in first.fields["perk_text"]
    assert first.flags["nursing_room"] == "false"


def test_geojson_points_come_out_as_lat_and_lng(tmp_path: Path) -> None:
    data = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [139.67, 35.26]},
             "properties": {"Name": "公郷保育園", "Label": "x", "Type": "認可保育所", "Add1": "公郷町6-7-1",
                            "Add2": None, "AgeS": None}},
            {"type": "Feature", "geometry": None,
             "properties": {"Name": "場所なし", "Label": "y", "Type": "t", "Add1": "", "Add2": None,
                            "AgeS": None}},
        ],
    }  # fmt: skip
    path = tmp_path / "n.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    opened = open_registry(path)
    assert opened.profile.name == "yokosuka_nurseries"
    first, second = list(read_rows(opened))
    assert (first.fields["lat"], first.fields["lng"]) == ("35.26", "139.67")
    assert (second.fields["lat"], second.fields["lng"]) == ("", "")


def test_opendata_standard_headers_are_recognised(tmp_path: Path) -> None:
    path = tmp_path / "standard.csv"
    path.write_text(
        "全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,所在地_連結表記,緯度,経度,電話番号,URL\n"
        "142018,0001,横須賀市,はぐくみ館,ハグクミカン,神奈川県横須賀市小川町16-1,35.28,139.67,046-822-1234,"
        "https://example.jp/\n",
        encoding="utf-8-sig",
    )
    opened = open_registry(path)
    assert opened.profile.name == "opendata_standard"
    (row,) = list(read_rows(opened))
    assert row.fields["municipality_code"] == "142018" and row.fields["name_kana"] == "ハグクミカン"


def test_an_explicit_profile_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shops.csv"
    path.write_text(_csv_text(), encoding="utf-8")
    with pytest.raises(IngestError, match="ishikawa_prepass_2014_raw"):
        open_registry(path, load_profile("ishikawa_prepass_2014_raw"))


def test_sniff_reports_the_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(_csv_text(), encoding="utf-8")
    assert len(sniff(path).sha256) == 64
