import csv

import pytest

from geo.municipality import check_digit, lg_code, parse_code
from tests.conftest import shared_file


def test_known_codes() -> None:
    assert lg_code("14100") == "141003"  # 横浜市
    assert lg_code("13101") == "131016"  # 千代田区
    assert lg_code("14104") == "141046"  # 横浜市中区


def test_check_digit_matches_every_code_in_the_municipality_master() -> None:
    path = shared_file("gazetteer", "municipalities_localgovjp.csv")
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 1900
    for row in rows:
        code5 = row["cid"].zfill(5)
        assert lg_code(code5) == row["lgcode"].zfill(6), row


def test_parse_code_accepts_all_written_forms() -> None:
    assert parse_code("1100") == "01100"
    assert parse_code(14205) == "14205"
    assert parse_code("142051") == "14205"
    assert parse_code("") is None


@pytest.mark.parametrize("bad", ["142052", "14x05", "1234567"])
def test_parse_code_refuses_bad_codes(bad: str) -> None:
    with pytest.raises(ValueError, match="code"):
        parse_code(bad)


def test_check_digit_refuses_non_codes() -> None:
    with pytest.raises(ValueError, match="5-digit"):
        check_digit("1234")
