import csv
import json
from typing import Any

import pykakasi

from geo.reading import _kana_romaji, reading, romaji
from geo.text import normalize_name, search_key
from tests.conftest import shared_file


def test_kanji_names_get_a_hiragana_reading() -> None:
    assert reading("金沢駅") == "かなざわえき"
    assert reading("寿司") == "すし"


def test_katakana_reading_meets_the_search_key() -> None:
    assert search_key(reading("スシロー")) == search_key("すしろー")


def test_romaji() -> None:
    assert romaji("寿司") == "sushi"
    assert romaji("") == ""


def test_kana_romaji_fast_path_spells_like_hepburn() -> None:
    assert romaji("すしろー") == "sushiroo"
    assert romaji("スシロー") == "sushiroo"
    assert romaji("きゃっする") == "kyassuru"
    assert romaji("しょっぷ ちゃんぷ") == "shoppu chanpu"  # the romaji key folds m/n before p anyway
    assert romaji("ふぁみりー じゃむ") == "famirii jamu"
    assert romaji("ABCべーかりー") == "abcbeekarii"


def _shared_names() -> list[str]:
    names = []
    with shared_file("shops", "ishikawa_prepass_2017_shared.csv").open(encoding="utf-8") as fh:
        names += [row["shop_name"] for row in csv.DictReader(fh)]
    with shared_file("shops", "matsudo_mirai_card_2017.csv").open(encoding="utf-8") as fh:
        names += [row["name"] for row in csv.DictReader(fh)]
    geojson = json.loads(shared_file("facilities", "tokyo_akachan_flat.geojson").read_text(encoding="utf-8"))
    names += [f["properties"]["name"] for f in geojson["features"]]
    return [n for n in names if n and n.strip()]


def test_fast_reading_is_exactly_pykakasis_on_every_shared_name() -> None:
    """The indexed lookup, hiragana-only output and word cache change the speed, not the reading."""
    stock = pykakasi.kakasi()  # type: ignore[no-untyped-call]
    names = _shared_names()
    # Names with several words (a chain and a branch), as synthesised registries and real ones have.
    names += [f"{a} {b}店" for a, b in zip(names[::7], names[3::7], strict=False)]
    names += ["ＡＢＣ　金沢駅前店", "色 見本", "たこ焼き 10番", "  ", ""]
    assert len(names) > 3000
    for name in names:
        text = normalize_name(name)
        expected = "".join(seg["hira"] for seg in stock.convert(text)) if text else ""
        assert reading(name) == expected, name
        if len(name) % 5 == 0:  # romaji goes through the same lookup (with all of pykakasi's output)
            assert romaji(name) == romaji_before(name, stock), name


def romaji_before(name: str, stock: Any) -> str:
    text = normalize_name(name)
    fast = _kana_romaji(text)
    if fast is not None:
        return fast
    return "".join(seg["hepburn"] for seg in stock.convert(text)).lower() if text else ""
