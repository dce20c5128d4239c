from __future__ import annotations

import pytest

from search.keys import query_tokens, romaji_key
from search.queries import grams, one_edit_regex, word_variants


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("sushiro", "sushiro"), ("sushiroo", "sushiro"), ("sushirou", "sushiro"), ("SUSHIRO-", "sushiro"),
        ("shimbashi", "shinbashi"), ("tuti", "tsuchi"), ("syokudou", "shokudo"), ("raamen", "ramen"),
    ],
)  # fmt: skip
def test_romaji_key_folds_spellings(typed: str, key: str) -> None:
    assert romaji_key(typed) == key


def test_query_tokens_fold_width_and_kana() -> None:
    assert query_tokens("ｽｼﾛｰ　藤沢  SUSHI") == ["すしろー", "藤沢", "sushi"]
    assert query_tokens("  ") == []


def test_variants_and_grams() -> None:
    assert word_variants("すしろう") == ["すしろう", "sushiro"]
    assert word_variants("sushiroo") == ["sushiroo", "sushiro"]
    assert grams("駅") == ["駅"] and grams("寿司") == ["寿司"] and grams("すしろ") == ["しろ", "すし"]


def test_one_edit_regex() -> None:
    import re  # noqa: PLC0415

    pattern = re.compile(one_edit_regex("おとめずし"))
    for ok in ("おとめすし", "おとめずし", "おとめずしや", "おとずし", "おとめずずし"):
        assert pattern.search(ok), ok
    assert not pattern.search("おかめすじ")
