import random
import re
import unicodedata

from geo.text import clean, katakana_to_hiragana, normalize_address, normalize_name, search_key


def test_half_width_kana_becomes_full_width_and_keeps_long_vowel() -> None:
    assert normalize_name("ｽｼﾛｰ") == "スシロー"


def test_long_vowel_mark_is_never_a_hyphen_in_names() -> None:
    assert normalize_name("スーパーマーケット") == "スーパーマーケット"
    assert "-" not in normalize_name("ラーメン ベーカリー")


def test_hyphen_lookalikes_in_names_become_ascii_hyphen() -> None:
    assert normalize_name("セブン‐イレブン") == "セブン-イレブン"
    assert normalize_name("A－B") == "A-B"


def test_full_width_digits_and_dashes_in_addresses() -> None:
    assert normalize_address("七尾市竹町大天神山２６番地") == "七尾市竹町大天神山26番地"
    assert normalize_address("藤沢市藤沢１−２－３") == "藤沢市藤沢1-2-3"


def test_long_vowel_after_digit_is_an_address_dash_but_not_elsewhere() -> None:
    assert normalize_address("金沢市もりの里3ー28ー2") == "金沢市もりの里3-28-2"
    assert normalize_address("センタービル1F") == "センタービル1F"
    assert normalize_address("ルーチェ3ー1") == "ルーチェ3-1"


def test_control_characters_and_spaces_are_cleaned() -> None:
    assert normalize_name(" 金沢\x0bベーカリー　本店 ") == "金沢 ベーカリー 本店"


def test_search_key_folds_kana_width_case_and_separators() -> None:
    key = search_key("スシロー")
    assert key == "すしろー"
    assert search_key("すしろー") == key
    assert search_key("ｽｼﾛｰ") == key
    assert search_key("Cafe・ミルク ティー") == "cafeみるくてぃー"


def test_katakana_to_hiragana_leaves_other_scripts() -> None:
    assert katakana_to_hiragana("カフェABC駅") == "かふぇABC駅"


def test_clean_matches_the_full_rules() -> None:
    """The ASCII fast path and the whitespace split give what NFKC and the two expressions give."""

    def full(value: str) -> str:
        text = unicodedata.normalize("NFKC", value)
        return re.sub(r"\s+", " ", re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)).strip()

    rng = random.Random(5)  # noqa: S311 - test data, not secrets
    # ASCII (controls included), and Unicode spaces the whitespace rule must collapse like \s does.
    alphabet = [chr(c) for c in range(128)] + ["\u3000", "ｱ", "１", "\u00a0"]
    alphabet += ["\u0085", "\u1680", "\u2003", "\u2028", "\u205f", "\u200b", "\ufeff", "金"]
    samples = ["", " a ", "a  b", "a\tb", "a\x0bb", "03-1234-5678", "２０２４-01-01"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(20_000)]
    for value in samples:
        assert clean(value) == full(value), repr(value)
