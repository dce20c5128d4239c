"""The offline gazetteer on the shared town table and municipality master (no database)."""

from __future__ import annotations

import pytest

from geo.boundaries import Boundaries, merge_areas, read_n03
from geo.gazetteer import Gazetteer
from geo.gazetteer_files import GazetteerFileError, read_municipalities, read_towns
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    g = Gazetteer()
    g.add_municipalities(read_municipalities(shared_file("gazetteer", "municipalities_localgovjp.csv")))
    g.add_towns(read_towns(shared_file("gazetteer", "towns_geolonia.csv"), prefectures={8, 14, 17, 23}))
    return g


@pytest.mark.parametrize(
    ("address", "code", "town", "precision"),
    [
        # kanji numerals in the gazetteer, digits in the address; the ward comes from the town
        ("神奈川県横浜市赤門町2丁目5", "14103", "赤門町二丁目", "town"),
        ("神奈川県横浜市中区赤門町1-1", "14104", "赤門町一丁目", "town"),
        ("横浜市中区山下町279", "14104", "山下町", "town"),
        # 丁目 missing ("栄3-4-5" is 栄三丁目)
        ("愛知県名古屋市中区栄3-4-5", "23106", "栄三丁目", "town"),
        # ヶ/ケ and 龍/竜
        ("神奈川県茅ケ崎市赤松町1-1", "14207", "赤松町", "town"),
        ("茨城県竜ヶ崎市中谷原1", "08208", "中谷原", "town"),
        # 郡 written, 字 prefix, 小字
        ("石川県河北郡津幡町字七黒ニ5", "17361", "字七黒ニ", "town"),
        ("石川県津幡町七野10", "17361", "字七野", "town"),
        # building and floor after the number do not disturb the match
        ("石川県金沢市もりの里3-28-2F", "17201", "もりの里三丁目", "town"),
        # full-width digits and dashes
        ("石川県金沢市法光寺町２４９−１", "17201", "法光寺町", "town"),
    ],
)
def test_locate(gaz: Gazetteer, address: str, code: str, town: str, precision: str) -> None:
    found = gaz.locate(address)
    assert (found.municipality_code, found.town, found.precision) == (code, town, precision)
    assert found.lat is not None and found.lng is not None


def test_unknown_town_is_municipality_precision_not_more(gaz: Gazetteer) -> None:
    found = gaz.locate("神奈川県藤沢市どこにもない町99")
    assert (found.municipality_code, found.precision, found.town) == ("14205", "municipality", None)


def test_address_without_prefecture_uses_the_hint(gaz: Gazetteer) -> None:
    # 府中市 exists in Tokyo and Hiroshima; 緑区 in several designated cities.
    assert gaz.locate("府中市1").municipality_code is None
    assert gaz.locate("府中市1").ambiguous == ("13206", "34208")
    assert gaz.locate("府中市宮西町1", prefecture_hint=[13]).municipality_code == "13206"
    assert gaz.locate("緑区鳴海町1", prefecture_hint=[23]).municipality_code == "23114"


def test_nothing_recognisable(gaz: Gazetteer) -> None:
    assert gaz.locate("どこか").precision is None
    assert gaz.locate("石川県").precision == "prefecture"


def test_names_resolve_with_gun_and_spaces(gaz: Gazetteer) -> None:
    assert gaz.code_for_name("神奈川県", "足柄下郡箱根町") == "14382"
    assert gaz.code_for_name("神奈川県", "横浜市 中区") == "14104"
    assert gaz.code_for_name("神奈川県", "どこでも市") is None


def test_master_marks_designated_city_wards(gaz: Gazetteer) -> None:
    assert gaz.municipalities["14104"].parent == "14100"
    assert gaz.municipalities["14205"].parent is None


def test_unknown_file_is_a_clear_error(tmp_path: object) -> None:
    from pathlib import Path  # noqa: PLC0415

    path = Path(str(tmp_path)) / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(GazetteerFileError, match="unknown gazetteer format"):
        list(read_towns(path))


def test_mlit_oaza_format(tmp_path: object) -> None:
    from pathlib import Path  # noqa: PLC0415

    path = Path(str(tmp_path)) / "14_2020.csv"
    body = (
        "都道府県コード,都道府県名,市区町村コード,市区町村名,大字町丁目コード,大字町丁目名,緯度,経度,"
        "原典資料コード,大字・字・丁目区分コード\n"
        "14,神奈川県,14205,藤沢市,142050001001,南藤沢,35.337,139.487,1,2\n"
    )
    path.write_bytes(body.encode("cp932"))  # MLIT ships Shift_JIS
    towns = list(read_towns(path))
    assert [(t.code, t.name, t.lat) for t in towns] == [("14205", "南藤沢", 35.337)]


def test_mlit_block_level_gives_block_precision(gaz: Gazetteer, tmp_path: object) -> None:
    from pathlib import Path  # noqa: PLC0415

    path = Path(str(tmp_path)) / "gaiku.csv"
    path.write_text(
        "都道府県名,市区町村名,大字・丁目名,小字・通称名,街区符号・地番,座標系番号,Ｘ座標,Ｙ座標,緯度,経度,"
        "住居表示フラグ,代表フラグ,更新前履歴フラグ,更新後履歴フラグ\n"
        "石川県,金沢市,もりの里三丁目,,28,7,0,0,36.5591,136.6834,1,1,0,0\n",
        encoding="utf-8",
    )
    g = Gazetteer()
    g.municipalities = gaz.municipalities
    g.add_municipalities(gaz.municipalities.values())
    g.add_towns(read_towns(shared_file("gazetteer", "towns_geolonia.csv"), prefectures={17}))
    g.add_towns(read_towns(path, resolve=g.code_for_name))
    found = g.locate("石川県金沢市もりの里3丁目28-1")
    assert (found.precision, found.lat) == ("block", 36.5591)
    assert g.locate("石川県金沢市もりの里3丁目99-1").precision == "town"


def test_boundaries_inside_and_snapped() -> None:
    bounds = Boundaries(merge_areas(read_n03(shared_file("boundaries", "N03-21_14_210101_s0010.geojson"))))
    assert len(bounds) == 58
    hit = bounds.locate(35.4437, 139.6380)  # 横浜市中区 (near 関内)
    assert hit is not None and hit.code == "14104" and hit.inside
    assert bounds.locate(35.0, 135.0) is None  # far away: no municipality
    assert bounds.distance_m("14205", 35.3387, 139.4875) == 0.0
    far = bounds.distance_m("14205", 35.2836, 139.6680)  # a 横須賀 point measured from 藤沢
    assert far is not None and far > 5000
