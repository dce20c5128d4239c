from __future__ import annotations

import pytest

from search import keys
from search.keys import (
    CODE_BITS,
    name_codes,
    name_length_tag,
    query_tokens,
    romaji_key,
    tagged,
    text_codes,
    word_codes,
)
from search.queries import one_edit_regex, word_variants


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


def _code(pair: str) -> int:
    return (ord(pair[0]) << CODE_BITS) | (ord(pair[1]) if len(pair) > 1 else 0)


def test_variants_and_gram_codes() -> None:
    assert word_variants("すしろう") == ["すしろう", "sushiro"]
    assert word_variants("sushiroo") == ["sushiroo", "sushiro"]
    assert word_codes("駅") == [_code("駅")]
    assert word_codes("寿司") == [_code("寿司")]
    assert word_codes("すしろ") == sorted([_code("すし"), _code("しろ")])
    # A text holds each character and each neighbouring pair, once.
    assert set(text_codes("ささき")) == {_code("さ"), _code("き"), _code("ささ"), _code("さき")}


def test_name_codes_are_tagged_with_the_band_of_the_name_length_and_never_span_two_keys() -> None:
    codes = set(name_codes("寿司丸", "すしまる", "sushimaru"))  # 3 characters: the first band (1-3)
    assert tagged(_code("寿司"), 1) in codes and tagged(_code("まる"), 1) in codes
    assert tagged(_code("寿司"), 2) not in codes and _code("寿司") not in codes
    assert tagged(_code("丸す"), 1) not in codes  # the name's end and the reading's start
    # The names of one band share a tag, the next band has the next; 20 characters and longer, the last.
    assert name_length_tag("寿司") == name_length_tag("寿司丸") == 1 and name_length_tag("寿司丸や") == 2
    assert tagged(_code("あ"), 8) in set(name_codes("あ" * 40, None, None))
    assert name_length_tag("あ" * 20) == name_length_tag("あ" * 31) == name_length_tag("あ" * 99) == 8


def test_length_tags_cover_every_band_a_query_band_touches() -> None:
    for number, (low, high) in enumerate(keys.NAME_BANDS, 1):
        assert keys.length_tags(low, high) == [number]
        assert {name_length_tag("x" * n) for n in range(low, high + 1)} == {number}
    assert keys.length_tags(3, 4) == [1, 2] and keys.length_tags(1, 31) == keys.ALL_LENGTH_TAGS
    assert list(range(1, len(keys.NAME_BANDS) + 1)) == keys.ALL_LENGTH_TAGS


def test_one_edit_regex() -> None:
    import re  # noqa: PLC0415

    pattern = re.compile(one_edit_regex("おとめずし"))
    for ok in ("おとめすし", "おとめずし", "おとめずしや", "おとずし", "おとめずずし"):
        assert pattern.search(ok), ok
    assert not pattern.search("おかめすじ")


def test_copy_text_is_the_array_text_of_the_codes_each_once() -> None:
    codes = name_codes("ささき", "ささき", "sasaki")
    assert len(set(codes)) < len(codes)  # the name repeats さ, and its pairs are the reading's
    formatted = keys.copy_text(codes)
    assert formatted[0] == "{" and formatted[-1] == "}"
    parsed = [int(c) for c in formatted[1:-1].split(",")]  # as PostgreSQL's array input reads it
    assert sorted(parsed) == sorted(set(codes))
    assert keys.copy_text([]) == "{}"
