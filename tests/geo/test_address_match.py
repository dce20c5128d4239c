"""Address folding for matching: kanji numerals, ヶ/ケ, old kanji, 大字/字, tricky municipality names."""

from __future__ import annotations

import pytest

from geo.address import fold, kanji_number, split_address, split_number, tail_key, town_key


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("百五", 105),
        ("二〇", 20),
        ("三", 3),
    ],
)
def test_kanji_numbers(text: str, value: int) -> None:
    assert kanji_number(text) == value


def test_kanji_number_refuses_other_text() -> None:
    assert kanji_number("赤門") is None
    assert kanji_number("") is None


def test_gazetteer_and_address_forms_meet() -> None:
    # The gazetteer writes 赤門町二丁目; addresses write 2丁目.
    assert town_key("赤門町二丁目") == tail_key("赤門町2丁目")
    assert town_key("東ケ丘") == tail_key("東ヶ丘") == tail_key("東が丘")
    assert town_key("天白町大字植田") == tail_key("天白町植田")
    assert town_key("常呂町字共立") == tail_key("常呂町共立")
    assert fold("龍ケ崎市") == fold("竜ヶ崎市")
    assert fold("三ノ輪") == fold("三の輪")


def test_folding_leaves_kana_words_alone() -> None:
    # が between kana is a word, not the place-name particle.
    assert fold("ながの") == "ながの"
    # A numeral that is part of a name (not before 丁目/番/号) stays.
    assert fold("二俣川") == "二俣川"


@pytest.mark.parametrize(
    ("text", "municipality", "town"),
    [
        ("三重県四日市市諏訪町1-5", "四日市市", "諏訪町"),
        ("広島県廿日市市下平良1丁目11-1", "廿日市市", "下平良"),
        ("千葉県市川市八幡2-1", "市川市", "八幡"),
        ("福島県郡山市朝日1-23-7", "郡山市", "朝日"),
        ("神奈川県足柄下郡箱根町湯本256", "足柄下郡箱根町", "湯本"),
        ("石川県河北郡津幡町字加賀爪ニ3", "河北郡津幡町", "字加賀爪ニ"),
        ("愛知県名古屋市中区栄3-4-5", "名古屋市中区", "栄"),
        ("石川県野々市市本町1-1", "野々市市", "本町"),
    ],
)
def test_split_address_municipalities(text: str, municipality: str, town: str) -> None:
    parts = split_address(text)
    assert (parts.municipality, parts.town) == (municipality, town)


def test_building_and_floor_are_split_off() -> None:
    assert split_number("3-28-2F") == ("3-28", "2F")
    assert split_number("1-1 湘南ビル2F") == ("1-1", "湘南ビル2F")
    assert split_number("2丁目1番3号 コーポ101") == ("2丁目1番3号", "コーポ101")
    parts = split_address("石川県金沢市もりの里3-28-2F")
    assert (parts.town, parts.rest, parts.building) == ("もりの里", "3-28", "2F")
