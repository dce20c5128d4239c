from geo.reading import reading, romaji
from geo.text import search_key


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
